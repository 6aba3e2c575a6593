"""``strata create-superadmin``: the one way to make a super admin."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest

from core.domain.user import Role
from local.cli import main

PASSWORD = "a-long-enough-password"


def _create(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    username: str = "root.admin",
    email: str = "root@example.com",
    stdin: str = PASSWORD + "\n",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(
        [
            "create-superadmin",
            "--username",
            username,
            "--email",
            email,
            "--password-stdin",
        ]
    )
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("strata: ")
    return lines[0]


def test_create_superadmin_stores_a_super_admin_and_prints_its_id_and_username(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
) -> None:
    status, out, err = _create(capsys, monkeypatch)

    assert status == 0, err
    user = container.users.get_by_username("root.admin")
    assert user is not None
    assert user.role is Role.SUPER_ADMIN
    assert user.is_active
    assert out.strip() == f"created super admin root.admin (id {user.id})"


def test_the_password_from_stdin_loses_one_trailing_newline_only(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
) -> None:
    status, _, err = _create(capsys, monkeypatch, stdin=PASSWORD + " \n\n")

    assert status == 0, err
    user = container.users.get_by_username("root.admin")
    assert container.hasher.verify(PASSWORD + " \n", user.password_hash)
    assert not container.hasher.verify(PASSWORD, user.password_hash)


def test_create_superadmin_twice_for_one_username_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
) -> None:
    assert _create(capsys, monkeypatch)[0] == 0

    status, out, err = _create(capsys, monkeypatch, email="other@example.com")

    assert status != 0
    assert out == ""
    assert _one_line_error(err) == "strata: the username 'root.admin' is taken"


def test_create_superadmin_with_a_taken_email_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
) -> None:
    assert _create(capsys, monkeypatch)[0] == 0

    status, _, err = _create(capsys, monkeypatch, username="other.admin")

    assert status != 0
    assert _one_line_error(err) == (
        "strata: the email 'root@example.com' is already registered"
    )


@pytest.mark.parametrize(
    ("username", "email", "stdin", "message"),
    [
        ("root.admin", "root@example.com", "short\n", "at least 8 characters"),
        ("ab", "root@example.com", PASSWORD, "username must be 5 to 20"),
        ("root..admin", "root@example.com", PASSWORD, "may not have two of"),
        ("root.admin", "not-an-email", PASSWORD, "email must look like"),
    ],
    ids=["short-password", "short-username", "double-separator", "bad-email"],
)
def test_create_superadmin_with_an_invalid_value_prints_the_domain_message(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
    username: str,
    email: str,
    stdin: str,
    message: str,
) -> None:
    status, out, err = _create(capsys, monkeypatch, username, email, stdin)

    assert status != 0
    assert out == ""
    assert message in _one_line_error(err)
    assert container.users.get_by_username(username.lower()) is None


def test_create_superadmin_prompts_twice_and_accepts_matching_passwords(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", fake_getpass)

    status = main(
        ["create-superadmin", "--username", "root.admin", "--email", "r@example.com"]
    )

    assert status == 0, capsys.readouterr().err
    assert len(prompts) == 2
    user = container.users.get_by_username("root.admin")
    assert container.hasher.verify(PASSWORD, user.password_hash)


def test_create_superadmin_refuses_prompted_passwords_that_differ(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    container: Any,
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    status = main(
        ["create-superadmin", "--username", "root.admin", "--email", "r@example.com"]
    )

    assert status != 0
    err = capsys.readouterr().err
    assert _one_line_error(err) == "strata: the passwords do not match"
    assert container.users.get_by_username("root.admin") is None


def test_create_superadmin_without_the_local_stack_asks_whether_make_dev_runs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    unused_port: int,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_PORT", str(unused_port))

    status, out, err = _create(capsys, monkeypatch)

    assert status != 0
    assert out == ""
    assert _one_line_error(err) == (
        f"strata: the local stack is not reachable at http://127.0.0.1:{unused_port}: "
        "is `make dev` running?"
    )


@pytest.fixture
def fresh_settings() -> Any:
    """Settings re-read from the environment for this test, and again after it."""
    from functions.runtime.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_create_superadmin_for_a_deployed_stage_uses_the_environments_aws_config(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    tmp_path: Any,
    fresh_settings: None,
) -> None:
    # A deployed stage with no credentials anywhere: were the CLI to fake some,
    # this would reach moto (loopback) and succeed.
    monkeypatch.setenv("STRATA_STAGE", "staging")
    monkeypatch.setenv("STRATA_JWT_SECRET", "j" * 40)
    monkeypatch.setenv("STRATA_PASSWORD_PEPPER", "p" * 40)
    monkeypatch.setenv("STRATA_USERS_TABLE", "strata-staging-users")
    monkeypatch.setenv("STRATA_SESSIONS_TABLE", "strata-staging-sessions")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    status, out, err = _create(capsys, monkeypatch)

    assert status != 0
    assert out == ""
    line = _one_line_error(err)
    assert line.startswith("strata: DynamoDB for stage 'staging' failed: ")
    assert "credentials" in line
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert os.environ["AWS_ENDPOINT_URL"] == moto_endpoint
