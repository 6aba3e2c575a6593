"""Jobs: the background work a worker runs for a task (see ``core.application.tasks``).

Each job is a frozen dataclass whose ``run`` takes the task's payload and returns its
result; requests never call them, they submit a task instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.application.errors import ApplicationError


class InvalidPayload(ApplicationError):
    """A task's payload lacks a value its job needs: no retry will fix that."""

    code = "invalid_payload"
    default_message = "the task's payload is not what its job expects"


def text(payload: Mapping[str, Any], key: str) -> str:
    """``payload[key]``, which must be a non-empty string."""
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidPayload(f"the payload needs {key!r} as a non-empty string")
    return value
