"""Alarms and where they go (an encrypted SNS topic with the stage's e-mail on it),
and the stage's dashboard.

Alarms: the API's 5xx rate, the Stripe webhook's 5xx rate, each function's Errors,
Throttles and p99 duration, each table's throttled requests, and any message in a
dead letter queue. A function that returns a 500 response is an API 5xx; a function
that crashes or times out is a Lambda error; a task that failed every attempt, or a
scheduled run that failed its retries, lands in a dead letter queue; all of them
page.

The dashboard (``<prefix>``): requests, 4xx and 5xx; latency p50/p99 of the API and of
each route's function; cold starts (from the functions' REPORT lines); throttles;
each table's consumed capacity and throttles; each task queue's depth and age; the
dead letter queues' depth; the business counts (sign-ups, log-ins failed and locked,
checkouts started and completed, payments failed, webhook deliveries by type and
outcome, tasks succeeded, failed and dead-lettered, emails sent and refused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)
API_5XX_RATE_PERCENT = 5
# Below this many requests in a period the 5xx rate is noise, not an outage.
API_MIN_REQUESTS = 20
# Stripe retries a failed delivery for days, so a few 5xx are survivable; a run of
# them means paid plans are not being applied.
WEBHOOK_5XX_RATE_PERCENT = 10
WEBHOOK_MIN_REQUESTS = 5
# A graph with more lines than this is split, to stay readable.
LINES_PER_GRAPH = 12
COLD_STARTS_QUERY = (
    "filter @type = 'REPORT' and ispresent(@initDuration)",
    "stats count(*) as cold_starts, avg(@initDuration) as avg_init_ms, "
    "max(@initDuration) as max_init_ms by bin(5m)",
)


@dataclass(frozen=True, slots=True)
class BusinessMetrics:
    """The application's counts (Powertools Metrics, dimensions service and stage):
    ``counts`` graphed by name, ``by_dimension`` one line per value of its extra
    dimensions (a webhook delivery's event type and outcome)."""

    namespace: str
    service: str
    counts: tuple[str, ...]
    by_dimension: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """What API Gateway's route-level metrics call a route (detailed metrics)."""

    method: str
    resource: str


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage_name: str,
        prefix: str,
        alarm_email: str,
        removal_policy: RemovalPolicy,
        http_api: apigwv2.HttpApi,
        functions: Mapping[str, lambda_.Function],
        business: BusinessMetrics | None = None,
        dead_letter_queues: Mapping[str, sqs.IQueue] | None = None,
        latency_p99_ms: Mapping[str, int] | None = None,
        tables: Mapping[str, dynamodb.ITable] | None = None,
        work_queues: Mapping[str, sqs.IQueue] | None = None,
        webhook_route: Route | None = None,
        alarm_scopes: Mapping[str, Construct] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # A customer managed key: CloudWatch cannot publish to a topic encrypted with
        # the AWS managed SNS key, whose policy it may not use.
        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Strata {stage_name}: encrypts the alarm topic",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"Strata {stage_name} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{stack.partition}:cloudwatch:{stack.region}:"
                            f"{stack.account}:alarm:*"
                        )
                    }
                },
            )
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        errors = http_api.metric_server_error(period=PERIOD, statistic="Sum")
        requests = http_api.metric_count(period=PERIOD, statistic="Sum")
        self._alarm(
            "Api5xxRate",
            name=f"{prefix}-api-5xx-rate",
            description=(
                f"More than {API_5XX_RATE_PERCENT}% of API requests answered 5xx "
                f"(with at least {API_MIN_REQUESTS} requests in "
                f"{PERIOD.to_minutes()} min)"
            ),
            metric=cloudwatch.MathExpression(
                expression=(
                    f"IF(requests >= {API_MIN_REQUESTS}, 100 * errors / requests, 0)"
                ),
                using_metrics={"errors": errors, "requests": requests},
                label="5xx rate (%)",
                period=PERIOD,
            ),
            threshold=API_5XX_RATE_PERCENT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
        # A function's own alarms live where the function does (its nested
        # stack, ``infra_cdk.groups``): they count toward that template, not ours.
        scopes = alarm_scopes or {}
        for name, function in functions.items():
            label = name.replace("_", "-")
            self._alarm(
                f"{label}-errors",
                scope=scopes.get(name),
                name=f"{prefix}-{label}-errors",
                description=f"The {name} function raised or timed out",
                metric=function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
            )
            self._alarm(
                f"{label}-throttles",
                scope=scopes.get(name),
                name=f"{prefix}-{label}-throttles",
                description=f"The {name} function was throttled",
                metric=function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
            )
        for name, threshold_ms in (latency_p99_ms or {}).items():
            label = name.replace("_", "-")
            self._alarm(
                f"{label}-p99",
                scope=scopes.get(name),
                name=f"{prefix}-{label}-p99-duration",
                description=(
                    f"The {name} function's p99 duration reached {threshold_ms} ms "
                    f"in 2 of 3 periods of {PERIOD.to_minutes()} min"
                ),
                metric=functions[name].metric_duration(period=PERIOD, statistic="p99"),
                threshold=threshold_ms,
                evaluation_periods=3,
                datapoints_to_alarm=2,
            )
        for name, table in (tables or {}).items():
            self._alarm(
                f"{name}-table-throttles",
                name=f"{prefix}-{name}-table-throttles",
                description=(
                    f"Requests to the {name} table were throttled (a hot partition, "
                    "or on-demand capacity outgrown)"
                ),
                metric=_table_throttles(table),
                threshold=1,
            )
        if webhook_route is not None:
            self._alarm(
                "StripeWebhook5xxRate",
                name=f"{prefix}-stripe-webhook-5xx-rate",
                description=(
                    f"More than {WEBHOOK_5XX_RATE_PERCENT}% of Stripe's webhook "
                    f"deliveries answered 5xx (with at least {WEBHOOK_MIN_REQUESTS} "
                    f"in {PERIOD.to_minutes()} min): Stripe events are not applied"
                ),
                metric=cloudwatch.MathExpression(
                    expression=(
                        f"IF(requests >= {WEBHOOK_MIN_REQUESTS}, "
                        "100 * errors / requests, 0)"
                    ),
                    using_metrics={
                        "errors": _route_metric(http_api, webhook_route, "5xx"),
                        "requests": _route_metric(http_api, webhook_route, "Count"),
                    },
                    label="webhook 5xx rate (%)",
                    period=PERIOD,
                ),
                threshold=WEBHOOK_5XX_RATE_PERCENT,
            )
        for name, queue in (dead_letter_queues or {}).items():
            label = name.replace("_", "-")
            self._alarm(
                f"{label}-dead-letters",
                name=f"{prefix}-{label}-dead-letters",
                description=(
                    f"Messages in the {name} dead letter queue: tasks that failed "
                    "every attempt"
                ),
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                threshold=1,
            )

        self.dashboard = self._dashboard(
            prefix,
            http_api,
            functions,
            tables or {},
            work_queues or {},
            dead_letter_queues or {},
        )
        if business is not None:
            self._business(stage_name, business)

    def _dashboard(
        self,
        prefix: str,
        http_api: apigwv2.HttpApi,
        functions: Mapping[str, lambda_.Function],
        tables: Mapping[str, dynamodb.ITable],
        work_queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=prefix, default_interval=Duration.hours(3)
        )
        dashboard.add_widgets(
            _graph(
                "API requests, 4xx and 5xx",
                [
                    http_api.metric_count(period=PERIOD, statistic="Sum"),
                    http_api.metric_client_error(period=PERIOD, statistic="Sum"),
                    http_api.metric_server_error(period=PERIOD, statistic="Sum"),
                ],
            ),
            _graph(
                "API latency p50 / p99 (ms)",
                [
                    http_api.metric_latency(period=PERIOD, statistic="p50"),
                    http_api.metric_latency(period=PERIOD, statistic="p99"),
                ],
            ),
        )
        names = sorted(functions)
        for statistic in ("p50", "p99"):
            for part, chunk in enumerate(_chunks(names), start=1):
                dashboard.add_widgets(
                    _graph(
                        f"Duration {statistic} by function (ms), part {part}",
                        [
                            functions[n].metric_duration(
                                period=PERIOD, statistic=statistic, label=n
                            )
                            for n in chunk
                        ],
                    )
                )
        for part, chunk in enumerate(_chunks(names), start=1):
            dashboard.add_widgets(
                _graph(
                    f"Errors and throttles by function, part {part}",
                    [
                        metric
                        for n in chunk
                        for metric in (
                            functions[n].metric_errors(
                                period=PERIOD, statistic="Sum", label=f"{n} errors"
                            ),
                            functions[n].metric_throttles(
                                period=PERIOD, statistic="Sum", label=f"{n} throttles"
                            ),
                        )
                    ],
                )
            )
        if functions:
            dashboard.add_widgets(
                cloudwatch.LogQueryWidget(
                    title="Cold starts (REPORT lines with an init duration)",
                    log_group_names=[
                        functions[n].log_group.log_group_name for n in names
                    ],
                    query_lines=list(COLD_STARTS_QUERY),
                    width=24,
                )
            )
        for name, table in tables.items():
            dashboard.add_widgets(
                _graph(
                    f"{name} table: consumed capacity",
                    [
                        table.metric_consumed_read_capacity_units(
                            period=PERIOD, statistic="Sum"
                        ),
                        table.metric_consumed_write_capacity_units(
                            period=PERIOD, statistic="Sum"
                        ),
                    ],
                ),
                _graph(f"{name} table: throttled requests", [_table_throttles(table)]),
            )
        for name, queue in work_queues.items():
            dashboard.add_widgets(
                _graph(
                    f"{name} queue: depth",
                    [
                        queue.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum"
                        ),
                        queue.metric_approximate_number_of_messages_not_visible(
                            period=PERIOD, statistic="Maximum"
                        ),
                    ],
                ),
                _graph(
                    f"{name} queue: age of the oldest message (s)",
                    [
                        queue.metric_approximate_age_of_oldest_message(
                            period=PERIOD, statistic="Maximum"
                        )
                    ],
                ),
            )
        if dead_letter_queues:
            dashboard.add_widgets(
                _graph(
                    "Dead letter queues: depth",
                    [
                        queue.metric_approximate_number_of_messages_visible(
                            period=PERIOD, statistic="Maximum", label=name
                        )
                        for name, queue in dead_letter_queues.items()
                    ],
                    width=24,
                )
            )
        return dashboard

    def _business(self, stage_name: str, business: BusinessMetrics) -> None:
        """The business counts under the stage's dashboard, per 5 minutes."""
        dimensions = {"service": business.service, "stage": stage_name}
        for part, chunk in enumerate(_chunks(business.counts), start=1):
            self.dashboard.add_widgets(
                _graph(
                    f"Business counts per 5 minutes, part {part}",
                    [
                        cloudwatch.Metric(
                            namespace=business.namespace,
                            metric_name=name,
                            dimensions_map=dimensions,
                            period=PERIOD,
                            statistic="Sum",
                            label=name,
                        )
                        for name in chunk
                    ],
                    width=24,
                )
            )
        if business.by_dimension:
            # One line per event type and outcome, whichever appear.
            schema = f"{{{business.namespace},outcome,service,stage,type}}"
            name = business.by_dimension
            query = f'{schema} MetricName="{name}" stage="{stage_name}"'
            search = f"SEARCH('{query}', 'Sum', {int(PERIOD.to_seconds())})"
            self.dashboard.add_widgets(
                _graph(
                    f"{business.by_dimension} by type and outcome",
                    [cloudwatch.MathExpression(expression=search, using_metrics={})],
                    width=24,
                )
            )

    def _alarm(
        self,
        construct_id: str,
        *,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int = 1,
        scope: Construct | None = None,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            scope or self,
            construct_id,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm


def _graph(
    title: str, metrics: Sequence[cloudwatch.IMetric], width: int = 12
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width)


def _chunks(names: Sequence[str]) -> list[list[str]]:
    return [
        list(names[i : i + LINES_PER_GRAPH])
        for i in range(0, len(names), LINES_PER_GRAPH)
    ]


def _table_throttles(table: dynamodb.ITable) -> cloudwatch.IMetric:
    """Read and write throttle events of the table and its indexes, summed."""
    return cloudwatch.MathExpression(
        expression="reads + writes",
        using_metrics={
            "reads": table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
            "writes": table.metric(
                "WriteThrottleEvents", period=PERIOD, statistic="Sum"
            ),
        },
        label="throttle events",
        period=PERIOD,
    )


def _route_metric(
    http_api: apigwv2.HttpApi, route: Route, metric_name: str
) -> cloudwatch.Metric:
    """A route-level metric of the ``$default`` stage (detailed metrics)."""
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name=metric_name,
        dimensions_map={
            "ApiId": http_api.api_id,
            "Stage": "$default",
            "Method": route.method,
            "Resource": route.resource,
        },
        period=PERIOD,
        statistic="Sum",
    )
