"""SES: the stage's sending domain and the configuration set every email goes through.

The domain identity is ``stage.email_domain`` with Easy DKIM; its DKIM records are
stack outputs to put into the domain's DNS after the first deploy (and the account
leaves the SES sandbox by request, outside this app). The configuration set
requires TLS to the receiving server, suppresses addresses that bounced or
complained, and keeps reputation metrics. Names come from ``functions.resources``.

``email:send`` allows ``ses:SendEmail`` on exactly this identity and this
configuration set: SES v2 authorizes a send against both.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct

from functions.resources import EMAIL, EmailSpec
from infra_cdk.constructs import StatementFactory
from infra_cdk.stages import StageConfig

SEND_ACTIONS = ("ses:SendEmail",)


class Email(Construct):
    """``env`` says who sends and through what; ``grants`` maps ``email:send``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        spec: EmailSpec = EMAIL,
    ) -> None:
        super().__init__(scope, construct_id)
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=spec.configuration_set_name(stage.prefix),
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            reputation_metrics=True,
            sending_enabled=True,
        )
        self.identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.domain(stage.email_domain),
            configuration_set=self.configuration_set,
        )
        self.sender = spec.sender(stage.email_domain)
        configuration_set_arn = Stack.of(self).format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name,
        )
        resources = [self.identity.email_identity_arn, configuration_set_arn]
        self.env: dict[str, str] = {
            "STRATA_EMAIL_FROM": self.sender,
            "STRATA_SES_CONFIGURATION_SET": (
                self.configuration_set.configuration_set_name
            ),
        }

        def send() -> iam.PolicyStatement:
            return iam.PolicyStatement(actions=list(SEND_ACTIONS), resources=resources)

        self.grants: dict[str, StatementFactory] = {"email:send": send}

    def dkim_records(self) -> list[tuple[str, str]]:
        """The three CNAME records (name, value) that prove the domain to SES."""
        identity = self.identity
        return [
            (identity.dkim_dns_token_name1, identity.dkim_dns_token_value1),
            (identity.dkim_dns_token_name2, identity.dkim_dns_token_value2),
            (identity.dkim_dns_token_name3, identity.dkim_dns_token_value3),
        ]
