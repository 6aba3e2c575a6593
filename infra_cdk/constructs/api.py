"""The HTTP API and one Lambda function per endpoint of the catalog.

Each catalog entry becomes a function (its module's ``handler``), a route (its method
and path) and a role that holds exactly the entry's permissions, looked up in the
``grants`` the other constructs publish, plus writing to its own log group (and to
X-Ray on a stage that traces).
Functions with any permission also get the JWT key's and the pepper's ARNs and may
read those two secrets; the public ones (no permissions) get neither. Any other
variable a permission brings (``stripe:api``: the Stripe key's ARN) goes to the
functions with that permission only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.catalog import ENDPOINTS, STRIPE_API, Endpoint
from functions.permissions import uses_stripe
from functions.resources import STRIPE_FUNCTION_TIMEOUT_SECONDS
from infra_cdk.constructs import Grants, StatementFactory, retention
from infra_cdk.constructs.lambdas import (
    ARCHITECTURE,
    RUNTIME,
    FunctionDefaults,
    PermissionEnvironment,
    build_function,
    check_permissions,
    grant_statements,
    permission_environment,
)

__all__ = ["ARCHITECTURE", "RUNTIME", "Api"]

# One JSON object per request in the access log.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
    "userAgent": "$context.identity.userAgent",
}

_NO_AUTHORIZER_PUBLIC = (
    "A public endpoint by design (it is listed with no permissions in the catalog)."
)
_NO_AUTHORIZER_SESSION = (
    "The application authenticates: where a route needs a logged-in caller, the "
    "function checks the HttpOnly session cookie (a JWT naming a DynamoDB session: "
    "expiry, session row, the user's session epoch), so logout and deactivation take "
    "effect at once; signup and login serve callers who are not logged in. An API "
    "Gateway authorizer could not see that state without the same table reads."
)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``HttpStage`` takes access log settings as an interface, not a struct."""

    def __init__(
        self,
        *,
        destination: apigwv2.IAccessLogDestination,
        format: apigw.AccessLogFormat,
    ) -> None:
        self._destination = destination
        self._format = format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def route_path(path: str) -> str:
    """The route path for a catalog path. API Gateway HTTP APIs reject a route that
    ends in ``/`` and route ``/x/`` requests to the ``/x`` route, so ``/api/v1/``
    becomes ``/api/v1``; the function still sees the path the client sent."""
    return path if path == "/" else path.rstrip("/")


def function_name(prefix: str, endpoint: Endpoint) -> str:
    return f"{prefix}-{endpoint.name.replace('_', '-')}"


def needs_secrets(endpoint: Endpoint) -> bool:
    """Functions that touch any table sign tokens or check passwords: they get the
    secrets. Those with no permissions (``root``, ``health``) get no secret at all."""
    return bool(endpoint.permissions)


def construct_name(endpoint: Endpoint) -> str:
    return "".join(part.capitalize() for part in endpoint.name.split("_"))


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage_name: str,
        prefix: str,
        memory_mb: int,
        timeout_seconds: int,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
        cors_origins: Sequence[str],
        throttle_rate: float,
        throttle_burst: int,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        grants: Grants,
        secrets_environment: Mapping[str, str],
        secrets_statement: StatementFactory,
        permission_env: PermissionEnvironment | None = None,
        endpoints: Sequence[Endpoint] = ENDPOINTS,
        stripe_layers: Sequence[lambda_.ILayerVersion] = (),
        tracing: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if "*" in cors_origins:
            raise ValueError("CORS with credentials needs explicit origins, not '*'")
        check_permissions([p for e in endpoints for p in e.permissions], grants)

        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{prefix}-api",
            description=f"Strata {stage_name}: one route per endpoint of the catalog",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_credentials=True,
                allow_methods=[
                    apigwv2.CorsHttpMethod(method)
                    for method in sorted({e.method for e in endpoints} | {"OPTIONS"})
                ],
                allow_headers=["content-type"],
                max_age=Duration.hours(1),
            ),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/vendedlogs/apigateway/{prefix}-api",
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        # ``$default``: deployed paths are the local ones, with no stage prefix.
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            # Route-level metrics (4xx, 5xx, Latency by Method and Resource): the
            # dashboard's per-route view and the webhook's error-rate alarm.
            detailed_metrics_enabled=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=throttle_rate, burst_limit=throttle_burst
            ),
            access_log_settings=_AccessLogSettings(
                destination=apigwv2.LogGroupLogDestination(self.access_logs),
                format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )

        self.functions: dict[str, lambda_.Function] = {}
        self.routes: dict[str, apigwv2.HttpRoute] = {}
        defaults = FunctionDefaults(
            memory_mb=memory_mb,
            timeout_seconds=timeout_seconds,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            code=code,
            layers=layers,
            stripe_layers=stripe_layers,
            tracing=tracing,
        )
        for endpoint in endpoints:
            env = dict(environment)
            if needs_secrets(endpoint):
                env.update(secrets_environment)
            env.update(
                permission_environment(endpoint.permissions, permission_env or {})
            )
            statements = grant_statements(
                endpoint.permissions, grants, secrets_statement=secrets_statement
            )
            function = self._function(
                endpoint,
                prefix=prefix,
                defaults=defaults,
                environment=env,
                statements=statements,
            )
            self.functions[endpoint.name] = function
            self.routes[endpoint.name] = self._route(endpoint, function)

    @property
    def url(self) -> str:
        return self.stage.url

    def _function(
        self,
        endpoint: Endpoint,
        *,
        prefix: str,
        defaults: FunctionDefaults,
        environment: Mapping[str, str],
        statements: Sequence[iam.PolicyStatement],
    ) -> lambda_.Function:
        granted = ", ".join(endpoint.permissions) or "no data access"
        return build_function(
            self,
            construct_name(endpoint),
            physical_name=function_name(prefix, endpoint),
            description=f"{endpoint.method} {endpoint.path}",
            role_description=f"{endpoint.method} {endpoint.path}: {granted}",
            handler=f"{endpoint.module}.handler",
            environment=environment,
            statements=statements,
            defaults=defaults,
            # A Stripe call with its retries outlasts the stage's usual timeout.
            timeout_seconds=(
                max(defaults.timeout_seconds, STRIPE_FUNCTION_TIMEOUT_SECONDS)
                if STRIPE_API in endpoint.permissions
                else None
            ),
            calls_stripe=uses_stripe(endpoint.permissions),
        )

    def _route(
        self, endpoint: Endpoint, function: lambda_.Function
    ) -> apigwv2.HttpRoute:
        name = construct_name(endpoint)
        route = apigwv2.HttpRoute(
            self,
            f"{name}Route",
            http_api=self.http_api,
            route_key=apigwv2.HttpRouteKey.with_(
                route_path(endpoint.path), apigwv2.HttpMethod(endpoint.method)
            ),
            integration=integrations.HttpLambdaIntegration(
                f"{name}Integration", function
            ),
        )
        reason = (
            _NO_AUTHORIZER_SESSION if endpoint.permissions else _NO_AUTHORIZER_PUBLIC
        )
        Validations.of(route).acknowledge(
            Acknowledgment(id="AwsSolutions-APIG4", reason=reason)
        )
        return route
