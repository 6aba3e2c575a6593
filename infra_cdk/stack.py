"""The Strata stack for one stage: a thin composition of the constructs.

Data (tables) and secrets publish what functions may be granted; the API builds one
function and one route per catalog entry from them; monitoring watches the API and
every function. Later concerns (jobs, email, billing) add their constructs here and
their ``grants`` to the mapping the API reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.build import CODE_DIR, LAYER_DIR
from infra_cdk.constructs.api import ARCHITECTURE, RUNTIME, Api
from infra_cdk.constructs.data import Data
from infra_cdk.constructs.monitoring import Monitoring
from infra_cdk.constructs.secrets import Secrets
from infra_cdk.stages import StageConfig

SERVICE_NAME = "strata"
METRICS_NAMESPACE = "Strata"


@dataclass(frozen=True, slots=True)
class Assets:
    """The directories ``make build`` writes: deployed as they are."""

    layer_dir: Path = LAYER_DIR
    code_dir: Path = CODE_DIR

    def check(self) -> None:
        for path in (self.layer_dir / "python", self.code_dir):
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
            description=f"Strata ({stage.name}): accounts, users and sessions API",
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

        layer = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=lambda_.Code.from_asset(str(assets.layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Strata runtime dependencies (requirements/lambda.txt)",
            removal_policy=removal,
        )
        environment = {
            "STRATA_STAGE": stage.name,
            **self.data.env,
            "STRATA_SESSION_TTL_SECONDS": str(stage.session_ttl_seconds),
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": stage.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
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
            code=lambda_.Code.from_asset(str(assets.code_dir)),
            layers=[layer],
            environment=environment,
            grants=self.data.grants,
            secrets_environment=self.secrets.env,
            secrets_statement=self.secrets.read_statement,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage_name=stage.name,
            prefix=stage.prefix,
            alarm_email=stage.alarm_email,
            removal_policy=removal,
            http_api=self.api.http_api,
            functions=self.api.functions,
        )

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
        for env_var, arn in self.secrets.env.items():
            CfnOutput(
                self,
                "".join(part.capitalize() for part in env_var.lower().split("_")[1:]),
                value=arn,
                description=f"{env_var}: the secret's ARN, never its value",
            )
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
