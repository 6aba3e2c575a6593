"""The management commands against a deployed stage, found by its stack outputs."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import botocore.session
import pytest

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.models import TABLE_MODELS, UserItem, bind_tables
from functions.runtime.settings import get_settings
from local.cli import main
from local.deployed import OUTPUT_SETTINGS, stack_name

STAGE = "qa1"


def template(outputs: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {
                "Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}
            },
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
    )


@pytest.fixture
def deployed(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A stage as `make deploy` leaves it: tables, secrets, and the stack's outputs."""
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset).close()  # noqa: S310
    session = botocore.session.get_session()
    secrets = session.create_client("secretsmanager", region_name="us-east-1")
    outputs = {
        "UsersTableName": f"strata-{STAGE}-users",
        "SessionsTableName": f"strata-{STAGE}-sessions",
        "JwtSecretArn": secrets.create_secret(Name="jwt", SecretString="j" * 64)["ARN"],
        "PasswordPepperArn": secrets.create_secret(Name="pep", SecretString="p" * 64)[
            "ARN"
        ],
        "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/",
    }
    bind_tables(
        outputs["UsersTableName"],
        outputs["SessionsTableName"],
        "us-east-1",
        tasks_table=f"strata-{STAGE}-tasks",
    )
    for model in TABLE_MODELS:
        model.create_table(wait=True)
    session.create_client("cloudformation", region_name="us-east-1").create_stack(
        StackName=stack_name(STAGE), TemplateBody=template(outputs)
    )
    # `--stage` writes these into os.environ: set-then-delete records them as
    # absent, so that teardown removes what the commands wrote (a plain delenv of
    # an unset variable records nothing, and the stage would leak into later tests).
    for name in ("STRATA_STAGE", *OUTPUT_SETTINGS.values()):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield outputs
    monkeypatch.undo()  # the environment first, then the settings read from it
    get_settings.cache_clear()
    settings = get_settings()
    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
    )


def test_create_superadmin_with_stage_writes_to_that_stages_tables_with_its_pepper(
    deployed: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))

    status = main(
        [
            "create-superadmin",
            "--stage",
            STAGE,
            "--username",
            "rootadmin",
            "--email",
            "root@example.com",
            "--password-stdin",
        ]
    )

    assert status == 0, capsys.readouterr().err
    stored = [
        user
        for partition in shards.partitions(shards.USERS)
        for user in UserItem.by_username.query(partition)
    ]
    assert [(u.username, u.role) for u in stored] == [("rootadmin", "super_admin")]
    from core.adapters.passwords import BcryptPasswordHasher

    # The index carries no password hash: the item, read by key, does.
    whole = UserItem.get(stored[0].pk, consistent_read=True)
    assert BcryptPasswordHasher("p" * 64).verify("a-long-password", whole.password_hash)


def test_migrate_with_stage_applies_to_that_stage(
    deployed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--stage", STAGE]) == 0

    assert "0001_backfill_email_verified: done" in capsys.readouterr().out


def test_a_stage_that_is_not_deployed_is_a_clear_error(
    deployed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--stage", "nowhere"]) == 1

    error = capsys.readouterr().err
    assert "strata-nowhere" in error
    assert "Traceback" not in error
