"""The AWS resources besides the tables, as plain data: one source for both ends.

The CDK app (``infra_cdk/constructs/jobs.py``, ``storage.py``, ``email.py``) deploys
these, and the local stack (``local/stack.py``) creates the same ones in moto. The
tables have their own source, the pynamodb models. Nothing here imports AWS code.

Physical names are ``<prefix>-<suffix>``, where the prefix is ``strata-<stage>``
(``strata-local`` on a laptop): ``strata-dev-tasks``, ``strata-local-exports``.
"""

from __future__ import annotations

from dataclasses import dataclass

# The stage of the local stack (``functions.runtime.settings.LOCAL_STAGE``).
LOCAL_PREFIX = "strata-local"


def physical_name(prefix: str, suffix: str) -> str:
    return f"{prefix}-{suffix}"


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A task queue and its dead letter queue.

    A message received ``max_receives`` times goes to the dead letter queue; the
    worker marks the task failed for good on that last receive. The worker's
    function may run ``worker_timeout_seconds``; it holds a task's lease that long
    (``STRATA_TASK_LEASE_SECONDS``), and a message stays invisible six times that,
    as AWS advises for an SQS event source, so a retry always finds the lease over.
    """

    suffix: str
    dead_letter_suffix: str
    max_receives: int
    worker_timeout_seconds: int
    retention_days: int
    dead_letter_retention_days: int
    # Messages the event source hands the worker at once, and how long it gathers.
    batch_size: int
    max_batching_window_seconds: int

    @property
    def visibility_timeout_seconds(self) -> int:
        return 6 * self.worker_timeout_seconds

    @property
    def lease_seconds(self) -> int:
        return self.worker_timeout_seconds

    def name(self, prefix: str) -> str:
        return physical_name(prefix, self.suffix)

    def dead_letter_name(self, prefix: str) -> str:
        return physical_name(prefix, self.dead_letter_suffix)


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """The bucket exports are written to; objects expire after ``expire_days``
    (as long as the task record that links to them is kept)."""

    suffix: str
    expire_days: int

    def name(self, prefix: str) -> str:
        return physical_name(prefix, self.suffix)


@dataclass(frozen=True, slots=True)
class EmailSpec:
    """Who mail comes from: ``<display name> <<local part>@<the stage's domain>>``,
    sent through a configuration set. The local stack's domain is ``local_domain``."""

    display_name: str
    local_part: str
    local_domain: str
    configuration_set_suffix: str

    def address(self, domain: str) -> str:
        return f"{self.local_part}@{domain}"

    def sender(self, domain: str) -> str:
        return f"{self.display_name} <{self.address(domain)}>"

    def configuration_set_name(self, prefix: str) -> str:
        return physical_name(prefix, self.configuration_set_suffix)


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A job the scheduler submits on a timetable: its event is ``{"job": job}``,
    at the EventBridge rate ``rate(<rate_value> <rate_unit>)``: ``rate(1 day)``."""

    job: str
    rate_value: int
    rate_unit: str  # minute(s), hour(s) or day(s): singular exactly when value is 1
    description: str

    @property
    def expression(self) -> str:
        return f"rate({self.rate_value} {self.rate_unit})"

    @property
    def event(self) -> dict[str, str]:
        return {"job": self.job}


# The timeout of an HTTP function that calls Stripe: one Stripe call, its retries
# and backoff included, ends within the HTTP client's 24 s deadline
# (core.adapters.stripe.http.BUDGET); API Gateway gives up at 30 s.
STRIPE_FUNCTION_TIMEOUT_SECONDS = 28

# One task queue (and dead letter queue) per job family, each consumed by its
# family's worker only: ``strata-<stage>-<family>-tasks``. The families are
# core.application.tasks.FAMILIES, plain strings here for the CDK app. They share
# the numbers below, so one lease (STRATA_TASK_LEASE_SECONDS, the workers' timeout)
# and one receive count (STRATA_TASK_MAX_RECEIVES) serve every worker.
TASK_FAMILIES = ("email", "users", "billing")
TASK_MAX_RECEIVES = 5
TASK_WORKER_TIMEOUT_SECONDS = 300
TASK_QUEUES: dict[str, QueueSpec] = {
    family: QueueSpec(
        suffix=f"{family}-tasks",
        dead_letter_suffix=f"{family}-tasks-dlq",
        max_receives=TASK_MAX_RECEIVES,
        worker_timeout_seconds=TASK_WORKER_TIMEOUT_SECONDS,
        retention_days=4,
        dead_letter_retention_days=14,
        batch_size=10,
        max_batching_window_seconds=1,
    )
    for family in TASK_FAMILIES
}
EXPORTS_BUCKET = BucketSpec(suffix="exports", expire_days=7)

EMAIL = EmailSpec(
    display_name="Strata",
    local_part="no-reply",
    local_domain="strata.local",
    configuration_set_suffix="email",
)

# The job names are core.application.tasks' (PURGE_UNVERIFIED,
# RECONCILE_SUBSCRIPTIONS); plain strings here so that the CDK app reads them
# without importing the application layer.
SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        job="purge_unverified",
        rate_value=1,
        rate_unit="day",
        description="Delete accounts whose email was never verified in time",
    ),
    ScheduleSpec(
        job="reconcile_subscriptions",
        rate_value=1,
        rate_unit="day",
        description="Re-read live subscriptions from Stripe, repairing lost webhooks",
    ),
)


# Business and health counts (CloudWatch embedded metric format, namespace
# ``METRICS_NAMESPACE``, dimensions service and stage). The endpoints declare theirs
# (``@api.counts(...)``, read by the catalog); these are written by code: the
# task worker's and the Stripe webhook's. The stage's dashboard graphs them all.
METRICS_NAMESPACE = "Strata"
TASKS_SUCCEEDED = "TasksSucceeded"
TASKS_FAILED = "TasksFailed"
TASK_ATTEMPTS_FAILED = "TaskAttemptsFailed"
TASKS_DEAD_LETTERED = "TasksDeadLettered"
# A message that reached the worker of another family than its job's: not run.
TASKS_REFUSED = "TasksRefused"
EMAILS_SENT = "EmailsSent"
EMAILS_REFUSED = "EmailsRefused"
CHECKOUTS_COMPLETED = "CheckoutsCompleted"
PAYMENTS_FAILED = "PaymentsFailed"
# One count per delivery, with the event's type and the outcome as dimensions.
WEBHOOK_EVENTS = "WebhookEvents"
COUNTED_BY_CODE = (
    TASKS_SUCCEEDED,
    TASKS_FAILED,
    TASK_ATTEMPTS_FAILED,
    TASKS_DEAD_LETTERED,
    TASKS_REFUSED,
    EMAILS_SENT,
    EMAILS_REFUSED,
    CHECKOUTS_COMPLETED,
    PAYMENTS_FAILED,
)
