"""A deployed stage's settings, read from its CloudFormation stack's outputs.

The management commands (``strata create-superadmin``, ``strata migrate``) take
``--stage NAME`` and get, from the stack ``strata-NAME``, the table names and the
secrets' ARNs the functions themselves run with.
"""

from __future__ import annotations

from typing import Any

# Stack output -> the setting it carries. infra_cdk/stack.py writes these outputs;
# tests/infra checks that the two agree.
OUTPUT_SETTINGS = {
    "UsersTableName": "STRATA_USERS_TABLE",
    "SessionsTableName": "STRATA_SESSIONS_TABLE",
    "JwtSecretArn": "STRATA_JWT_SECRET_ARN",
    "PasswordPepperArn": "STRATA_PASSWORD_PEPPER_ARN",
}


class StageNotFound(Exception):
    """The stage has no stack, or the stack lacks an output we need."""


def stack_name(stage: str) -> str:
    return f"strata-{stage}"


def stage_environment(
    stage: str, region: str | None = None, client: Any = None
) -> dict[str, str]:
    """The ``STRATA_*`` variables that point the adapters at ``stage``."""
    if client is None:
        import botocore.session

        client = botocore.session.get_session().create_client(
            "cloudformation", region_name=region
        )
    from botocore.exceptions import ClientError

    try:
        stacks = client.describe_stacks(StackName=stack_name(stage))["Stacks"]
    except ClientError as exc:
        raise StageNotFound(
            f"no stack {stack_name(stage)!r} here: is the stage deployed, and are "
            f"the AWS region and credentials the right ones? ({exc})"
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = sorted(set(OUTPUT_SETTINGS) - set(outputs))
    if missing:
        raise StageNotFound(
            f"the stack {stack_name(stage)!r} lacks the outputs {missing}: "
            "deploy the current version first"
        )
    environment = {name: outputs[key] for key, name in OUTPUT_SETTINGS.items()}
    environment["STRATA_STAGE"] = stage
    return environment
