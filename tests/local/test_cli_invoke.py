"""``strata invoke``: one Lambda handler, in this process, on a sample event (by
default the one the endpoint's declaration describes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.catalog import BY_NAME, ENDPOINTS
from functions.sample_events import sample_event
from local.cli import main


def _invoke(
    capsys: pytest.CaptureFixture[str], name: str, *extra: str
) -> tuple[int, dict[str, Any]]:
    status = main(["invoke", name, *extra])
    out = capsys.readouterr().out
    return status, json.loads(out) if status == 0 else {}


def _session_token(response: dict[str, Any]) -> str:
    for cookie in response["cookies"]:
        name, _, rest = str(cookie).partition("=")
        if name == "access_token":
            return rest.split(";", 1)[0]
    raise AssertionError(f"no session cookie in {response['cookies']}")


def test_invoking_health_prints_a_200_response_as_json(
    capsys: pytest.CaptureFixture[str], container: Any
) -> None:
    status, response = _invoke(capsys, "health")

    assert status == 0
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


def test_invoking_signup_with_its_event_creates_the_user(
    capsys: pytest.CaptureFixture[str], container: Any
) -> None:
    event = sample_event(BY_NAME["signup"])
    username = json.loads(event["body"])["username"]

    status, response = _invoke(capsys, "signup")

    assert status == 0
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["username"] == username
    stored = container.users.get_by_username(username.lower())
    assert stored is not None
    assert stored.role.value == "user"


def test_invoking_me_with_the_cookie_from_login_answers_the_account(
    capsys: pytest.CaptureFixture[str], container: Any
) -> None:
    _invoke(capsys, "signup")
    status, logged_in = _invoke(capsys, "login")
    assert status == 0
    assert logged_in["statusCode"] == 204
    token = _session_token(logged_in)

    status, response = _invoke(capsys, "me", "--cookie", token)

    assert status == 0
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["username"] == "jane.doe"


def test_invoking_me_with_the_placeholder_cookie_answers_401(
    capsys: pytest.CaptureFixture[str], container: Any
) -> None:
    status, response = _invoke(capsys, "me")

    assert status == 0
    assert response["statusCode"] == 401


def test_invoking_an_unknown_function_is_an_error_listing_the_valid_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["invoke", "no_such_function", "--event", "events/sqs_task.json"])

    captured = capsys.readouterr()
    assert status != 0
    assert captured.out == ""
    assert "no_such_function" in captured.err
    for endpoint in ENDPOINTS:
        assert endpoint.name in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_invoking_with_a_missing_event_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.json"

    status = main(["invoke", "health", "--event", str(missing)])

    captured = capsys.readouterr()
    assert status != 0
    assert captured.err.strip() == f"strata: no event file at {missing}"


def test_invoking_with_an_event_that_is_not_json_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    status = main(["invoke", "health", "--event", str(broken)])

    captured = capsys.readouterr()
    assert status != 0
    assert captured.err.startswith(f"strata: {broken} is not JSON")
    assert "Traceback" not in captured.err


def test_invoking_an_endpoint_that_needs_aws_without_the_stack_says_so(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    unused_port: int,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_PORT", str(unused_port))

    status = main(["invoke", "signup"])

    captured = capsys.readouterr()
    assert status != 0
    assert captured.out == ""
    assert captured.err.strip() == (
        f"strata: the local stack is not reachable at http://127.0.0.1:{unused_port}: "
        "is `make dev` running?"
    )
