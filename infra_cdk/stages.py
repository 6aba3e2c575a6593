"""Every stage's settings, in one place: plain data, no CDK types.

Pick a stage with ``-c stage=NAME`` (``make synth STAGE=prod``); ``dev`` is the
default. Change a stage here and every construct follows.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_STAGE = "dev"


@dataclass(frozen=True, slots=True)
class StageConfig:
    name: str
    # Lambda: one setting for every function. bcrypt is CPU-bound, and Lambda's CPU
    # share grows with memory (1769 MB is one full vCPU).
    memory_mb: int
    timeout_seconds: int
    log_level: str
    log_retention_days: int
    # The HTTP API: browser origins allowed to call it with the session cookie, and
    # the default route throttle (steady requests per second, and burst).
    cors_origins: tuple[str, ...]
    throttle_rate: float
    throttle_burst: int
    # Sessions: token and session expire together after this many seconds.
    session_ttl_seconds: int
    # Alarms go to this address (a subscription to confirm after the first deploy).
    alarm_email: str
    # Email: mail comes from no-reply@<email_domain>, an SES identity the stack
    # creates (its DKIM records go into the domain's DNS after the first deploy);
    # links in emails point at the front end, app_base_url.
    email_domain: str
    app_base_url: str
    # Data: keep tables, secrets and log groups when the stack goes (RETAIN), with
    # point-in-time recovery and deletion protection; otherwise DESTROY with it.
    retain_data: bool
    point_in_time_recovery: bool
    deletion_protection: bool
    # Billing: Stripe's secret key and the webhook endpoint's signing secret. None:
    # the stack creates a placeholder secret for each, to be given its real value
    # (sk_... / whsec_...) with `aws secretsmanager put-secret-value` after the first
    # deploy. A secret name or a complete ARN (with its 6-character suffix): a secret
    # that already exists in this account and region, encrypted with Secrets
    # Manager's default key, imported as it is (the stack never writes it).
    stripe_api_key_secret: str | None = None
    stripe_webhook_secret: str | None = None
    # How long paid features last after a renewal payment fails, and how a plan
    # change is prorated (always_invoice, create_prorations or none). None keeps the
    # runtime's default (functions/runtime/settings.py) and sets no variable.
    billing_grace_days: int | None = None
    billing_proration_behavior: str | None = None
    # Alarms: the p99 duration a route's function may reach for 2 of 3 five-minute
    # periods before it pages; the routes that call Stripe get Stripe's own time.
    latency_p99_ms: int = 1000
    stripe_latency_p99_ms: int = 8000
    # Concurrency held for a function (catalog name -> executions), so that a storm
    # on the other routes (log-ins, say) cannot starve Stripe's webhook or the
    # workers. Each reservation comes out of the account's regional concurrency,
    # which must keep 100 unreserved; a new account may have a quota of 10, so dev
    # reserves none.
    reserved_concurrency: tuple[tuple[str, int], ...] = ()
    # The users' listing indexes are write-sharded over this many partitions (each
    # takes about 1,000 writes per second); a listing page costs one Query each.
    # Changing it on a stage with users means running `strata migrate` again.
    user_index_shards: int = 4
    # X-Ray: active tracing on every function, and each AWS and Stripe call of a
    # request a subsegment (functions/runtime/observability.py). It costs cold-start
    # time (the README's "Tracing"), so dev leaves it off.
    tracing: bool = False
    # A step of the move to the narrow users indexes (``infra_cdk.index_rollout``),
    # given on the command line (``-c indexStep=N``) while a stage that had the old
    # indexes makes it; None: the narrow indexes only.
    index_rollout_step: int | None = None

    @property
    def prefix(self) -> str:
        """What every physical name of the stage starts with: ``strata-<stage>``."""
        return f"strata-{self.name}"


STAGES: dict[str, StageConfig] = {
    stage.name: stage
    for stage in (
        StageConfig(
            name="dev",
            memory_mb=1024,
            timeout_seconds=10,
            log_level="DEBUG",
            log_retention_days=7,
            cors_origins=("http://localhost:3000", "http://localhost:5173"),
            throttle_rate=20,
            throttle_burst=40,
            session_ttl_seconds=3600,
            alarm_email="strata-dev-alarms@example.com",
            email_domain="dev.strata.example.com",
            app_base_url="http://localhost:5173",
            retain_data=False,
            point_in_time_recovery=False,
            deletion_protection=False,
        ),
        StageConfig(
            name="staging",
            memory_mb=1024,
            timeout_seconds=10,
            log_level="INFO",
            log_retention_days=30,
            cors_origins=("https://staging.strata.example.com",),
            throttle_rate=50,
            throttle_burst=100,
            session_ttl_seconds=1800,
            alarm_email="strata-staging-alarms@example.com",
            email_domain="staging.strata.example.com",
            app_base_url="https://staging.strata.example.com",
            retain_data=True,
            point_in_time_recovery=True,
            deletion_protection=False,
            tracing=True,
            reserved_concurrency=(
                ("stripe_webhook", 5),
                ("task_worker", 5),
                ("scheduler", 1),
            ),
        ),
        StageConfig(
            name="prod",
            memory_mb=1769,
            timeout_seconds=10,
            log_level="INFO",
            log_retention_days=365,
            cors_origins=("https://app.strata.example.com",),
            throttle_rate=200,
            throttle_burst=400,
            session_ttl_seconds=1800,
            alarm_email="strata-prod-alarms@example.com",
            email_domain="strata.example.com",
            app_base_url="https://app.strata.example.com",
            retain_data=True,
            point_in_time_recovery=True,
            deletion_protection=True,
            # Pinned here, so that a change of the code's defaults never changes
            # what paying customers get without a change to this file.
            billing_grace_days=7,
            billing_proration_behavior="always_invoice",
            tracing=True,
            reserved_concurrency=(
                ("stripe_webhook", 20),
                ("task_worker", 10),
                ("scheduler", 1),
            ),
        ),
    )
}


def get_stage(name: str | None) -> StageConfig:
    """The named stage (``dev`` when ``name`` is empty); a clear error otherwise."""
    key = name or DEFAULT_STAGE
    try:
        return STAGES[key]
    except KeyError:
        known = ", ".join(sorted(STAGES))
        raise ValueError(f"unknown stage {key!r}; choose one of: {known}") from None


def billing_environment(stage: StageConfig) -> dict[str, str]:
    """The billing settings the stage defines, as the variables the runtime reads
    (``STRATA_BILLING_GRACE_DAYS``); the ones it leaves unset are absent."""
    values = {
        "billing_grace_days": stage.billing_grace_days,
        "billing_proration_behavior": stage.billing_proration_behavior,
    }
    return {
        f"STRATA_{name.upper()}": str(value)
        for name, value in values.items()
        if value is not None
    }
