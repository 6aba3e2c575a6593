"""Alarms and where they go: an encrypted SNS topic with the stage's e-mail on it.

Alarms: the API's 5xx rate, each function's Errors and Throttles, and any message
in a dead letter queue. A function that returns a 500 response is an API 5xx; a
function that crashes or times out is a Lambda error; a task that failed every
attempt lands in the dead letter queue; all of them page.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
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
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue] | None = None,
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
        for name, function in functions.items():
            label = name.replace("_", "-")
            self._alarm(
                f"{label}-errors",
                name=f"{prefix}-{label}-errors",
                description=f"The {name} function raised or timed out",
                metric=function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
            )
            self._alarm(
                f"{label}-throttles",
                name=f"{prefix}-{label}-throttles",
                description=f"The {name} function was throttled",
                metric=function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
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
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
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
