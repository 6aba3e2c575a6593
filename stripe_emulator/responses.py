"""What the emulator answers: a status, a body and its type, extra headers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        status,
        json.dumps(payload, indent=2).encode() + b"\n",
        headers=dict(headers or {}),
    )


def html_response(status: int, body: bytes) -> Response:
    return Response(status, body, "text/html; charset=utf-8")
