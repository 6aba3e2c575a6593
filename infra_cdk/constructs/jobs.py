"""Background jobs: a task queue with its dead letter queue per job family, and one
Lambda function per worker of the catalog (``functions.catalog.WORKERS``).

Each queue (``functions.resources.TASK_QUEUES``) is encrypted with SQS-managed keys
and refuses requests without TLS; a message received ``max_receives`` times moves to
its family's dead letter queue, which ``Monitoring`` alarms on. Its visibility
timeout is six times the queue worker's timeout, as AWS advises for an SQS event
source.

A ``queue`` worker consumes its family's queue, and no other, through an event
source mapping that reports partial batch failures (only the failed messages come
back); its rights to receive and delete come from that event source. With a
reserved concurrency (the stage's), the mapping invokes it at most that many at
once, so that SQS's pollers are not throttled into counting receives that never
reached the worker. A ``schedule`` worker is the target of one
EventBridge rule per ``functions.resources.SCHEDULES`` entry, with the input
``{"job": <name>}``; a run that fails its retries, or that EventBridge cannot
deliver, goes to the schedule dead letter queue (the worker may send there: its
one grant beyond the catalog). Apart from that, a worker's role holds exactly its
catalog permissions, looked up in the ``grants`` the other constructs publish, like an
endpoint's, with the variables its permissions bring (``stripe:api``: the Stripe
key's ARN); ``queue:<family>`` (SendMessage on that family's queue, with
``STRATA_<FAMILY>_TASK_QUEUE_URL``: only a function that may send there knows the
URL) is published here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.catalog import WORKERS, Worker
from functions.permissions import uses_stripe
from functions.resources import (
    SCHEDULES,
    TASK_MAX_RECEIVES,
    TASK_QUEUES,
    TASK_WORKER_TIMEOUT_SECONDS,
    QueueSpec,
    ScheduleSpec,
)
from infra_cdk.constructs import Grants, StatementFactory
from infra_cdk.constructs.lambdas import (
    FunctionDefaults,
    PermissionEnvironment,
    build_function,
    check_permissions,
    entry_point,
    grant_statements,
    permission_environment,
)

SEND_ACTIONS = ("sqs:SendMessage",)
TRIGGERS = ("queue", "schedule")


@jsii.implements(lambda_.IDestination)
class _SendOnlyDestination:
    """An on-failure destination that grants the function SendMessage alone (CDK's
    ``SqsDestination`` also grants GetQueueAttributes and GetQueueUrl, which
    Lambda's delivery does not use)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self,
        scope: Construct,
        fn: lambda_.IFunction,
        *,
        type: lambda_.DestinationType | None = None,
    ) -> lambda_.DestinationConfig:
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(SEND_ACTIONS), resources=[self.queue.queue_arn]
            )
        )
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)


def worker_function_name(prefix: str, worker: Worker) -> str:
    return f"{prefix}-{worker.name.replace('_', '-')}"


def construct_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def queue_url_variable(family: str) -> str:
    """The variable a function that may send to ``family``'s queue finds it in."""
    return f"STRATA_{family.upper()}_TASK_QUEUE_URL"


class Jobs(Construct):
    """``queues`` and ``dead_letter_queues`` by family; ``functions`` by worker
    name; ``env``, ``grants`` and ``permission_env`` for the functions that submit
    tasks."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        removal_policy: RemovalPolicy,
        defaults: FunctionDefaults,
        environment: Mapping[str, str],
        grants: Grants,
        secrets_environment: Mapping[str, str],
        secrets_statement: StatementFactory,
        permission_env: PermissionEnvironment | None = None,
        workers: Sequence[Worker] = WORKERS,
        specs: Mapping[str, QueueSpec] = TASK_QUEUES,
        schedules: Sequence[ScheduleSpec] = SCHEDULES,
        reserved_concurrency: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.specs = dict(specs)
        # A scheduled run that fails Lambda's retries (or that EventBridge cannot
        # deliver) is kept here, and Monitoring pages on it, rather than dropped.
        self.schedule_dead_letter_queue = sqs.Queue(
            self,
            "ScheduleDeadLetterQueue",
            queue_name=f"{prefix}-schedule-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(
                max(s.dead_letter_retention_days for s in specs.values())
            ),
            removal_policy=removal_policy,
        )
        Validations.of(self.schedule_dead_letter_queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason=(
                    "This queue is itself a dead letter queue: the scheduled "
                    "worker's on-failure destination and its EventBridge target's "
                    "DLQ, neither of which cdk-nag recognises"
                ),
            )
        )
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.grants: dict[str, StatementFactory] = {}
        self.permission_env: dict[str, dict[str, str]] = {}
        for family, spec in specs.items():
            self._family_queues(family, spec, prefix, removal_policy)
        # Every family's queue shares these (functions.resources.TASK_QUEUES).
        self.env: dict[str, str] = {
            "STRATA_TASK_MAX_RECEIVES": str(TASK_MAX_RECEIVES),
            "STRATA_TASK_LEASE_SECONDS": str(TASK_WORKER_TIMEOUT_SECONDS),
        }
        reserved = reserved_concurrency or {}
        permission_env = {**(permission_env or {}), **self.permission_env}

        all_grants = {**grants, **self.grants}
        check_permissions([p for w in workers for p in w.permissions], all_grants)
        self.functions: dict[str, lambda_.Function] = {}
        self.rules: dict[str, events.Rule] = {}
        for worker in workers:
            if worker.trigger not in TRIGGERS:
                raise ValueError(f"{worker.name}: unknown trigger {worker.trigger!r}")
            env = {**environment, **self.env}
            if worker.permissions:
                env.update(secrets_environment)
            env.update(permission_environment(worker.permissions, permission_env))
            is_queue = worker.trigger == "queue"
            if is_queue and worker.family not in self.queues:
                raise ValueError(f"{worker.name}: no task queue for {worker.family!r}")
            function = build_function(
                self,
                construct_name(worker.name),
                physical_name=worker_function_name(prefix, worker),
                description=f"{worker.name}: {worker.trigger} worker",
                role_description=(
                    f"{worker.name} ({worker.trigger}): "
                    + (", ".join(worker.permissions) or "no data access")
                ),
                handler=f"{worker.module}.handler",
                environment=env,
                statements=grant_statements(
                    worker.permissions, all_grants, secrets_statement=secrets_statement
                ),
                defaults=defaults,
                timeout_seconds=TASK_WORKER_TIMEOUT_SECONDS if is_queue else None,
                calls_stripe=uses_stripe(worker.permissions),
            )
            invoked = entry_point(function)
            if is_queue:
                assert worker.family is not None
                spec = specs[worker.family]
                held = reserved.get(worker.name)
                invoked.add_event_source(
                    sources.SqsEventSource(
                        self.queues[worker.family],
                        batch_size=spec.batch_size,
                        max_batching_window=Duration.seconds(
                            spec.max_batching_window_seconds
                        ),
                        report_batch_item_failures=True,
                        # SQS's lowest maximum is 2.
                        max_concurrency=max(held, 2) if held else None,
                    )
                )
            else:
                invoked.configure_async_invoke(
                    on_failure=_SendOnlyDestination(self.schedule_dead_letter_queue),
                    retry_attempts=2,
                    max_event_age=Duration.hours(1),
                )
                for schedule in schedules:
                    self.rules[schedule.job] = self._rule(
                        prefix, worker, invoked, schedule
                    )
            self.functions[worker.name] = function

    def _family_queues(
        self, family: str, spec: QueueSpec, prefix: str, removal_policy: RemovalPolicy
    ) -> None:
        """``family``'s queue and dead letter queue, and ``queue:<family>``."""
        title = construct_name(family)
        dead_letter_queue = sqs.Queue(
            self,
            f"{title}DeadLetterQueue",
            queue_name=spec.dead_letter_name(prefix),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(spec.dead_letter_retention_days),
            removal_policy=removal_policy,
        )
        queue = sqs.Queue(
            self,
            f"{title}TaskQueue",
            queue_name=spec.name(prefix),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(spec.retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letter_queue, max_receive_count=spec.max_receives
            ),
            removal_policy=removal_policy,
        )
        queue_arn = queue.queue_arn

        def send() -> iam.PolicyStatement:
            return iam.PolicyStatement(
                actions=list(SEND_ACTIONS), resources=[queue_arn]
            )

        self.queues[family] = queue
        self.dead_letter_queues[family] = dead_letter_queue
        self.grants[f"queue:{family}"] = send
        self.permission_env[f"queue:{family}"] = {
            queue_url_variable(family): queue.queue_url
        }

    def _rule(
        self,
        prefix: str,
        worker: Worker,
        function: lambda_.IFunction,
        schedule: ScheduleSpec,
    ) -> events.Rule:
        return events.Rule(
            self,
            f"{construct_name(schedule.job)}Schedule",
            rule_name=f"{prefix}-{schedule.job.replace('_', '-')}",
            description=f"{schedule.description} ({worker.name})",
            schedule=events.Schedule.expression(schedule.expression),
            targets=[
                targets.LambdaFunction(
                    function,
                    event=events.RuleTargetInput.from_object(schedule.event),
                    retry_attempts=2,
                    max_event_age=Duration.hours(1),
                    dead_letter_queue=self.schedule_dead_letter_queue,
                )
            ],
        )
