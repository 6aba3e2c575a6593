"""One Lambda function of ours, built the same way for endpoints and workers.

Python 3.12 on arm64 from the shared code asset and dependency layer (and the
stripe SDK's layer for the functions that call Stripe), X-Ray active tracing on a
stage that traces, its own log group with the stage's retention, and its own role
that holds exactly the statements it is given plus writing to that log group (and
to X-Ray, when it traces). No AWS managed policy. ``grant_statements`` turns
catalog permissions into statements and ``permission_environment`` into the
variables that name what they grant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.constructs import Grants, StatementFactory, retention

# Catalog permission -> the variables a function holding it gets (a secret's ARN).
PermissionEnvironment = Mapping[str, Mapping[str, str]]

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

_PINNED_RUNTIME = (
    "Pinned to python3.12 on purpose: the dependency layer is installed for cp312 "
    "wheels and both assets ship cpython-312 .pyc files (infra_cdk/build.py); a newer "
    "runtime is a deliberate change of the build and the runtime together."
)
_XRAY_ANY_RESOURCE = (
    "X-Ray's PutTraceSegments and PutTelemetryRecords do not support resource-level "
    "permissions; active tracing needs them on '*', and nothing else gets a wildcard."
)


@dataclass(frozen=True)
class FunctionDefaults:
    """What every function of a stage shares."""

    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    removal_policy: RemovalPolicy
    code: lambda_.Code
    layers: Sequence[lambda_.ILayerVersion]
    # Added for a function that calls Stripe: the stripe SDK's layer.
    stripe_layers: Sequence[lambda_.ILayerVersion] = ()
    # X-Ray active tracing (the stage's ``tracing``): the function's code traces
    # its AWS and Stripe calls when STRATA_TRACING says so.
    tracing: bool = False


def grant_statements(
    permissions: Sequence[str],
    grants: Grants,
    *,
    secrets_statement: StatementFactory,
) -> list[iam.PolicyStatement]:
    """A statement per catalog permission, and reading the two secrets for a function
    with any permission (it builds the composition root, which needs them); a
    function with none (``root``, ``health``) gets no statement at all."""
    statements = [grants[permission]() for permission in permissions]
    if permissions:
        statements.append(secrets_statement())
    return statements


def permission_environment(
    permissions: Sequence[str], by_permission: PermissionEnvironment
) -> dict[str, str]:
    """The variables that go with ``permissions`` and only with them:
    ``stripe:api`` brings ``STRATA_STRIPE_API_KEY_ARN``."""
    environment: dict[str, str] = {}
    for permission in permissions:
        environment.update(by_permission.get(permission, {}))
    return environment


def check_permissions(permissions: Sequence[str], grants: Grants) -> None:
    """Fail the synth on a permission that no construct grants."""
    unknown = sorted(set(permissions) - set(grants))
    if unknown:
        raise ValueError(f"catalog permissions that no construct grants: {unknown}")


def build_function(
    scope: Construct,
    name: str,
    *,
    physical_name: str,
    description: str,
    role_description: str,
    handler: str,
    environment: Mapping[str, str],
    statements: Sequence[iam.PolicyStatement],
    defaults: FunctionDefaults,
    timeout_seconds: int | None = None,
    calls_stripe: bool = False,
) -> lambda_.Function:
    """The function ``<name>Function`` with ``<name>Logs`` and ``<name>Role``;
    ``calls_stripe`` adds the stripe SDK's layers to the shared ones."""
    log_group = logs.LogGroup(
        scope,
        f"{name}Logs",
        log_group_name=f"/aws/lambda/{physical_name}",
        retention=retention(defaults.log_retention_days),
        removal_policy=defaults.removal_policy,
    )
    # Our own role: no AWS managed policy, only what this function needs.
    role = iam.Role(
        scope,
        f"{name}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=role_description,
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    for statement in statements:
        role.add_to_policy(statement)
    function = lambda_.Function(
        scope,
        f"{name}Function",
        function_name=physical_name,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=handler,
        code=defaults.code,
        layers=[*defaults.layers, *(defaults.stripe_layers if calls_stripe else ())],
        memory_size=defaults.memory_mb,
        timeout=Duration.seconds(timeout_seconds or defaults.timeout_seconds),
        environment=dict(environment),
        tracing=lambda_.Tracing.ACTIVE
        if defaults.tracing
        else lambda_.Tracing.DISABLED,
        log_group=log_group,
        role=role,
    )
    Validations.of(function).acknowledge(
        Acknowledgment(id="AwsSolutions-L1", reason=_PINNED_RUNTIME)
    )
    if defaults.tracing:
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]", reason=_XRAY_ANY_RESOURCE
            )
        )
    return function
