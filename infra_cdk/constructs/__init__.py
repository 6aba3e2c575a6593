"""One construct per concern; ``infra_cdk.stack`` composes them.

A construct that owns something a function may use publishes a ``grants`` mapping:
catalog permission name (``users:read``) -> a factory of the IAM statement that
grants exactly it. The API construct looks each catalog permission up there, so a
permission nobody publishes fails the synth instead of deploying a broken function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

StatementFactory = Callable[[], iam.PolicyStatement]
Grants = Mapping[str, StatementFactory]

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int) -> logs.RetentionDays:
    """A retention period CloudWatch Logs accepts, or an error."""
    try:
        return _RETENTION[days]
    except KeyError:
        allowed = ", ".join(str(day) for day in sorted(_RETENTION))
        raise ValueError(f"log retention {days} days: use one of {allowed}") from None
