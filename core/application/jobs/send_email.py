from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.application.jobs import InvalidPayload, text
from core.application.ports import Mailer


@dataclass(frozen=True, slots=True)
class SendEmailJob:
    """Sends one email: payload ``{to, template, context}``, the context a mapping
    of strings. For messages without secrets in them: a task's payload is stored,
    so an email that carries a link token has its own job, which issues the token
    as it sends."""

    mailer: Mailer

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        to = text(payload, "to")
        template = text(payload, "template")
        context = payload.get("context", {})
        if not isinstance(context, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in context.items()
        ):
            raise InvalidPayload("the payload's context must map strings to strings")
        self.mailer.send(to, template, dict(context))
        return {"template": template}
