"""Translating storage failures into the application's words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from core.application.errors import DependencyUnavailable

# What a single write's failed condition says (``exc.cause_response_code`` of
# pynamodb's PutError/UpdateError/DeleteError); a transaction says
# "ConditionalCheckFailed" per item in its cancellation reasons instead.
CONDITION_FAILED = "ConditionalCheckFailedException"


@contextmanager
def storage_errors() -> Iterator[None]:
    """Any failure to reach or use DynamoDB becomes ``DependencyUnavailable`` (503).

    Conditional-check failures are handled where they mean something, inside this
    block, before they get here.
    """
    try:
        yield
    except (PynamoDBException, BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable() from exc
