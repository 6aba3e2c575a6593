"""The Strata stack for one stage: a thin composition of the constructs.

Data (tables), secrets (the service's and Stripe's), storage (the export bucket),
email (SES) and jobs (the task queue) publish what functions may be granted and the
variables that name their resources; jobs builds one function per catalog worker and
the API one function and one route per catalog endpoint from them; monitoring watches
the API, every function and the dead letter queue. Billing (Stripe) needs no
construct of its own: its state lives in the users and tasks tables, its secrets in
``Secrets``, its daily reconciliation in ``functions.resources.SCHEDULES``, and its
stage settings (``infra_cdk.stages.billing_environment``) go to every function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.catalog import BY_NAME, ENDPOINTS, STRIPE_API, WORKERS
from functions.resources import COUNTED_BY_CODE, METRICS_NAMESPACE, WEBHOOK_EVENTS
from infra_cdk.build import CODE_DIR, LAYER_DIR, STRIPE_LAYER_DIR
from infra_cdk.constructs.api import ARCHITECTURE, RUNTIME, Api
from infra_cdk.constructs.data import Data
from infra_cdk.constructs.email import Email
from infra_cdk.constructs.jobs import Jobs
from infra_cdk.constructs.lambdas import FunctionDefaults
from infra_cdk.constructs.monitoring import BusinessMetrics, Monitoring, Route
from infra_cdk.constructs.secrets import Secrets
from infra_cdk.constructs.storage import Storage
from infra_cdk.stages import StageConfig, billing_environment

SERVICE_NAME = "strata"


@dataclass(frozen=True, slots=True)
class Assets:
    """The directories ``make build`` writes: deployed as they are."""

    layer_dir: Path = LAYER_DIR
    code_dir: Path = CODE_DIR
    stripe_layer_dir: Path = STRIPE_LAYER_DIR

    def check(self) -> None:
        for path in (
            self.layer_dir / "python",
            self.code_dir,
            self.stripe_layer_dir / "python",
        ):
            if not path.is_dir():
                raise FileNotFoundError(f"{path} is missing: run `make build` first")


class StrataStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        assets: Assets | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=(
                f"Strata ({stage.name}): accounts, users and sessions API, "
                "Stripe billing, background jobs and email"
            ),
            termination_protection=stage.deletion_protection,
            **kwargs,
        )
        assets = assets or Assets()
        assets.check()
        Tags.of(self).add("project", SERVICE_NAME)
        Tags.of(self).add("stage", stage.name)
        removal = RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY

        self.data = Data(self, "Data", stage=stage)
        self.secrets = Secrets(self, "Secrets", stage=stage)
        self.storage = Storage(self, "Storage", stage=stage)
        self.email = Email(self, "Email", stage=stage)

        layer = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=lambda_.Code.from_asset(str(assets.layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Strata runtime dependencies (requirements/lambda.txt)",
            removal_policy=removal,
        )
        # The stripe SDK, only for the functions that call Stripe (stripe:api or
        # stripe:webhook in the catalog): every other function's layers stay small.
        stripe_layer = lambda_.LayerVersion(
            self,
            "StripeLayer",
            code=lambda_.Code.from_asset(str(assets.stripe_layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="The stripe SDK (requirements/lambda-stripe.txt)",
            removal_policy=removal,
        )
        # Every function gets every non-secret setting; secrets only go (as ARNs) to
        # the functions with permissions, Stripe's only to those with stripe:*.
        # STRATA_CLOCK_OFFSET_FILE is the local stack's and never set here.
        environment = {
            "STRATA_STAGE": stage.name,
            **self.data.env,
            "STRATA_SESSION_TTL_SECONDS": str(stage.session_ttl_seconds),
            "STRATA_USER_INDEX_SHARDS": str(stage.user_index_shards),
            **self.storage.env,
            **self.email.env,
            "STRATA_APP_BASE_URL": stage.app_base_url,
            # The front ends that may make state-changing requests (and CORS's).
            "STRATA_ALLOWED_ORIGINS": ",".join(stage.cors_origins),
            **billing_environment(stage),
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": stage.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            # The functions trace their AWS and Stripe calls (Powertools Tracer)
            # only where X-Ray is on; elsewhere they never import the X-Ray SDK.
            "STRATA_TRACING": "true" if stage.tracing else "false",
        }
        code = lambda_.Code.from_asset(str(assets.code_dir))
        self.jobs = Jobs(
            self,
            "Jobs",
            prefix=stage.prefix,
            removal_policy=removal,
            defaults=FunctionDefaults(
                memory_mb=stage.memory_mb,
                timeout_seconds=stage.timeout_seconds,
                log_retention_days=stage.log_retention_days,
                removal_policy=removal,
                code=code,
                layers=[layer],
                stripe_layers=[stripe_layer],
                tracing=stage.tracing,
            ),
            environment=environment,
            grants={
                **self.data.grants,
                **self.storage.grants,
                **self.email.grants,
                **self.secrets.grants,
            },
            secrets_environment=self.secrets.env,
            secrets_statement=self.secrets.read_statement,
            permission_env=self.secrets.permission_env,
        )
        environment |= self.jobs.env
        self.api = Api(
            self,
            "Api",
            stage_name=stage.name,
            prefix=stage.prefix,
            memory_mb=stage.memory_mb,
            timeout_seconds=stage.timeout_seconds,
            log_retention_days=stage.log_retention_days,
            removal_policy=removal,
            cors_origins=stage.cors_origins,
            throttle_rate=stage.throttle_rate,
            throttle_burst=stage.throttle_burst,
            code=code,
            layers=[layer],
            stripe_layers=[stripe_layer],
            tracing=stage.tracing,
            environment=environment,
            grants={
                **self.data.grants,
                **self.storage.grants,
                **self.email.grants,
                **self.jobs.grants,
                **self.secrets.grants,
            },
            secrets_environment=self.secrets.env,
            secrets_statement=self.secrets.read_statement,
            permission_env=self.secrets.permission_env,
        )
        functions = {**self.api.functions, **self.jobs.functions}
        self._reserve_concurrency(functions, stage.reserved_concurrency)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage_name=stage.name,
            prefix=stage.prefix,
            alarm_email=stage.alarm_email,
            removal_policy=removal,
            http_api=self.api.http_api,
            functions=functions,
            business=BusinessMetrics(
                namespace=METRICS_NAMESPACE,
                service=SERVICE_NAME,
                counts=tuple(
                    dict.fromkeys(
                        [n for e in ENDPOINTS for n in e.counts.values()]
                        + list(COUNTED_BY_CODE)
                    )
                ),
                by_dimension=WEBHOOK_EVENTS,
            ),
            dead_letter_queues={
                "tasks": self.jobs.dead_letter_queue,
                "scheduler": self.jobs.schedule_dead_letter_queue,
            },
            latency_p99_ms={
                e.name: (
                    stage.stripe_latency_p99_ms
                    if STRIPE_API in e.permissions
                    else stage.latency_p99_ms
                )
                for e in ENDPOINTS
            },
            tables=self.data.tables,
            work_queues={"tasks": self.jobs.queue},
            webhook_route=Route("POST", BY_NAME["stripe_webhook"].path),
        )
        # The roles that put or get export objects hold <bucket ARN>/*: say why.
        permissions = {e.name: e.permissions for e in ENDPOINTS} | {
            w.name: w.permissions for w in WORKERS
        }
        for name, granted in permissions.items():
            role = functions[name].role
            if role and any(p.startswith("exports:") for p in granted):
                self.storage.acknowledge_object_grants(role)

        CfnOutput(
            self, "ApiUrl", value=self.api.url, description="The HTTP API's base URL"
        )
        for key, table in self.data.tables.items():
            CfnOutput(
                self,
                f"{key.capitalize()}TableName",
                value=table.table_name,
                description=f"The {key} table ({self.data.specs[key].env_var})",
            )
        for env_var, arn in self.secrets.arns.items():
            CfnOutput(
                self,
                "".join(part.capitalize() for part in env_var.lower().split("_")[1:]),
                value=arn,
                description=f"{env_var}: the secret's ARN, never its value",
            )
        CfnOutput(
            self,
            "StripeWebhookUrl",
            value=self.api.url + BY_NAME["stripe_webhook"].path.lstrip("/"),
            description="The endpoint to register in Stripe (Developers > Webhooks); "
            "its signing secret goes into StripeWebhookSecretArn",
        )
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(
            self,
            "TaskQueueUrl",
            value=self.jobs.queue.queue_url,
            description="The task queue (STRATA_TASK_QUEUE_URL)",
        )
        CfnOutput(
            self,
            "ExportsBucketName",
            value=self.storage.bucket.bucket_name,
            description="The export bucket (STRATA_EXPORTS_BUCKET)",
        )
        for number, (name, value) in enumerate(self.email.dkim_records(), start=1):
            CfnOutput(
                self,
                f"EmailDkimRecord{number}",
                value=f"{name} CNAME {value}",
                description=f"DNS record {number} of 3 that proves "
                f"{stage.email_domain} to SES (Easy DKIM)",
            )

    @staticmethod
    def _reserve_concurrency(
        functions: Mapping[str, lambda_.Function],
        reserved: Sequence[tuple[str, int]],
    ) -> None:
        for name, executions in reserved:
            if name not in functions:
                raise ValueError(f"reserved_concurrency: no function named {name!r}")
            if executions < 1:
                raise ValueError(f"reserved_concurrency: {name} needs at least 1")
            cfn = functions[name].node.default_child
            assert isinstance(cfn, lambda_.CfnFunction)
            cfn.reserved_concurrent_executions = executions
