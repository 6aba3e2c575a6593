"""Settings, read from ``STRATA_*`` environment variables once per cold start.

A plain pydantic model over ``os.environ``: pydantic is loaded by FastAPI anyway,
while pydantic-settings would add its own imports to every cold start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

ENV_PREFIX = "STRATA_"

LOCAL_STAGE = "local"
# Only the local stage may run on these; every other stage must be given secrets.
_LOCAL_JWT_SECRET = "local-only-jwt-secret-never-use-it-in-aws-0123456789"  # noqa: S105
_LOCAL_PEPPER = "local-only-pepper-never-use-it-in-aws"
# What the local Stripe emulator accepts and signs with (stripe_emulator).
LOCAL_STRIPE_API_KEY = "sk_test_strata_local_emulator"
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_strata_local_emulator_0123456789abcdef"  # noqa: S105
STRIPE_API_BASE = "https://api.stripe.com"


SECRET_FIELDS = ("jwt_secret", "password_pepper")
# Every function that touches AWS needs the JWT key; only the functions that hash or
# check passwords are given the pepper (the ``secrets:pepper`` permission).
REQUIRED_SECRET_FIELDS = ("jwt_secret",)
# Read from Secrets Manager too, but only the functions that call Stripe (or take
# its webhooks) are given their ARNs.
STRIPE_SECRET_FIELDS = ("stripe_api_key", "stripe_webhook_secret")
MIN_SECRET_LENGTH = 32


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = LOCAL_STAGE
    region: str = "us-east-1"
    users_table: str = "strata-local-users"
    sessions_table: str = "strata-local-sessions"
    jwt_secret: SecretStr = SecretStr("")
    password_pepper: SecretStr = SecretStr("")
    # In AWS the two secrets come from Secrets Manager: these name them, and
    # ``functions.runtime.secrets`` reads them once per cold start.
    jwt_secret_arn: str = ""
    password_pepper_arn: str = ""
    session_ttl_seconds: int = Field(default=1800, ge=60, le=30 * 24 * 3600)
    # The user listing indexes' write shards (core/adapters/dynamodb/shards.py): a
    # listing page is one Query per shard; sign-ups scale with the count.
    user_index_shards: int = Field(default=4, ge=1, le=64)
    # Set only while a stage moves to the narrow users indexes and the new ones are
    # not all there yet (infra_cdk/index_rollout.py): Query the previous ones.
    previous_user_indexes: bool = False
    session_renew_threshold: float = Field(default=0.2, gt=0, lt=1)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    password_min_length: int = Field(default=8, ge=1, le=128)
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_window_seconds: int = Field(default=900, ge=1, le=24 * 3600)
    # Failed log-ins per client address, whatever the usernames: one client cannot
    # lock out many accounts or stuff credentials.
    login_client_max_failures: int = Field(default=20, ge=1, le=100_000)
    login_client_window_seconds: int = Field(default=900, ge=1, le=24 * 3600)
    # A session cannot be renewed past this age: then the user logs in again.
    session_max_age_seconds: int = Field(default=12 * 3600, ge=60, le=90 * 24 * 3600)
    # Emails a stranger can trigger (password reset, verification, sign-up): per
    # recipient address and kind, and per client address, any kind.
    email_per_address: int = Field(default=1, ge=1, le=1000)
    email_address_window_seconds: int = Field(default=300, ge=1, le=24 * 3600)
    email_per_client: int = Field(default=10, ge=1, le=100_000)
    email_client_window_seconds: int = Field(default=3600, ge=1, le=24 * 3600)
    # Origins (scheme://host[:port], comma-separated) whose pages may make
    # state-changing requests with the session cookie; the API's own origin is
    # always allowed.
    allowed_origins: str = ""
    # Background jobs and email.
    tasks_table: str = "strata-local-tasks"
    task_queue_url: str = ""
    exports_bucket: str = "strata-local-exports"
    task_keep_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # How long a worker may hold a task before another may take it over; the
    # queue's visibility timeout is at least this.
    task_lease_seconds: int = Field(default=300, ge=1)
    # Receives before a message goes to the dead letter queue; the attempt that
    # reaches it marks the task failed for good.
    task_max_receives: int = Field(default=5, ge=1, le=1000)
    export_link_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    email_from: str = "Strata <no-reply@strata.local>"
    ses_configuration_set: str = ""
    # Where links in emails point: the front end, which reads ``?token=``.
    app_base_url: str = "http://127.0.0.1:8000"
    email_verification_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    unverified_purge_days: int = Field(default=7, ge=1)
    # Local stack only: every sent email is also written here as an .eml file.
    outbox_dir: str = ""
    # Organizations: their table, how long an invitation link works, how long an
    # audit entry is kept (the TTL of the audit logs), and how many invitation
    # emails one organization, and one address, may be sent per window.
    orgs_table: str = "strata-local-orgs"
    invitation_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    audit_retention_days: int = Field(default=365, ge=1, le=10 * 365)
    invitations_per_org: int = Field(default=50, ge=1, le=100_000)
    invitations_per_address: int = Field(default=3, ge=1, le=1000)
    invitation_window_seconds: int = Field(default=3600, ge=1, le=24 * 3600)
    # Billing. The key and the webhook signing secret come from Secrets Manager in
    # AWS (the *_arn settings); the local stage defaults to the local emulator's.
    stripe_api_key: SecretStr = SecretStr("")
    stripe_api_key_arn: str = ""
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_webhook_secret_arn: str = ""
    # The local stack points this at its Stripe emulator.
    stripe_api_base: str = STRIPE_API_BASE
    # Read timeout of one Stripe call; see the composition root for the budget.
    stripe_timeout_seconds: float = Field(default=6.0, gt=0, le=80)
    stripe_max_retries: int = Field(default=2, ge=0, le=5)
    # The plans (a JSON file; see functions/runtime/plans.json, the default).
    plans_file: str = ""
    # Paid features last this long after a renewal payment first fails.
    billing_grace_days: int = Field(default=7, ge=0, le=60)
    # How a plan change is charged: invoiced at once (what the preview shows), added
    # to the next invoice, or not prorated at all.
    billing_proration_behavior: Literal[
        "always_invoice", "create_prorations", "none"
    ] = "always_invoice"
    # How long a preview's signed proration token may be sent back with the change.
    billing_proration_token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    # Bank-transfer plans: days the customer has to pay each invoice.
    billing_invoice_days_until_due: int = Field(default=14, ge=1, le=90)
    # How long a processed webhook event id is remembered (Stripe retries for 3 days).
    stripe_event_keep_days: int = Field(default=30, ge=4, le=365)
    # Local stack only: a file holding seconds to add to the clock, written by
    # `strata stripe advance` so the API's time moves with the emulator's.
    clock_offset_file: str = ""

    @model_validator(mode="after")
    def _session_fits_its_max_age(self) -> Settings:
        if self.session_ttl_seconds > self.session_max_age_seconds:
            raise ValueError(
                "STRATA_SESSION_TTL_SECONDS cannot exceed "
                "STRATA_SESSION_MAX_AGE_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _secrets_outside_local(self) -> Settings:
        if self.stage == LOCAL_STAGE:
            return self
        if self.clock_offset_file:
            raise ValueError("STRATA_CLOCK_OFFSET_FILE is for the local stage only")
        for name in REQUIRED_SECRET_FIELDS:
            if getattr(self, f"{name}_arn"):
                continue  # read later, and checked then by ``check_secrets``
            if len(getattr(self, name).get_secret_value()) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"STRATA_{name.upper()} ({MIN_SECRET_LENGTH}+ characters) or "
                    f"STRATA_{name.upper()}_ARN must be set outside the "
                    f"{LOCAL_STAGE!r} stage"
                )
        return self

    def check_secrets(self) -> None:
        """Refuse secrets too short to be secret (outside the local stage)."""
        if self.is_local:
            return
        for name in SECRET_FIELDS:
            value = getattr(self, name).get_secret_value()
            if name not in REQUIRED_SECRET_FIELDS and not value:
                continue  # not given to this function
            if len(value) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"the {name} secret must be {MIN_SECRET_LENGTH}+ characters"
                )

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    @property
    def allowed_origin_list(self) -> tuple[str, ...]:
        return tuple(
            origin.strip().rstrip("/").lower()
            for origin in self.allowed_origins.split(",")
            if origin.strip()
        )

    @property
    def cookie_secure(self) -> bool:
        return not self.is_local

    def jwt_secret_value(self) -> str:
        return self.jwt_secret.get_secret_value() or _LOCAL_JWT_SECRET

    def pepper_value(self) -> str | None:
        """The pepper; None outside the local stage for a function not given it."""
        value = self.password_pepper.get_secret_value()
        if value:
            return value
        return _LOCAL_PEPPER if self.is_local else None

    def stripe_api_key_value(self) -> str:
        """The Stripe secret key; outside the local stage, an unset key is an
        error raised when billing is first used, not at every cold start."""
        key = self.stripe_api_key.get_secret_value()
        if key:
            # A deployed secret still holding CDK's placeholder is "not configured".
            if not key.startswith(("sk_", "rk_")):
                raise ValueError(
                    "the Stripe key must be a secret (sk_) or restricted (rk_) key"
                )
            return key
        if self.is_local:
            return LOCAL_STRIPE_API_KEY
        raise ValueError("STRATA_STRIPE_API_KEY or STRATA_STRIPE_API_KEY_ARN is unset")

    def stripe_webhook_secret_value(self) -> str:
        secret = self.stripe_webhook_secret.get_secret_value()
        if secret:
            if not secret.startswith("whsec_"):
                raise ValueError("the Stripe webhook signing secret must start whsec_")
            return secret
        if self.is_local:
            return LOCAL_STRIPE_WEBHOOK_SECRET
        raise ValueError(
            "STRATA_STRIPE_WEBHOOK_SECRET or STRATA_STRIPE_WEBHOOK_SECRET_ARN is unset"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """``STRATA_<FIELD>`` for each field; the region falls back to AWS's own."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {
            name: env[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in env
        }
        if "region" not in values:
            region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
            if region:
                values["region"] = region
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
