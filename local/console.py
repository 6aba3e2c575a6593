"""``strata dev``'s terminal: the ``strata`` logs as lines a person reads.

Lambda gets one JSON line per record (``functions.runtime.observability``); the dev
console swaps that handler's formatter for this one, so what the stack does shows as
it happens: each task run, email written, Stripe webhook and scheduled job on one
line of its own, and any other record as ``LEVEL logger: message key=value``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

_LINK = re.compile(r"https?://\S+")
# What LogRecord carries itself; the rest of a record's attributes are its extras.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def _task(fields: dict[str, Any]) -> str:
    duration = fields.get("duration_ms")
    took = f" in {duration} ms" if duration is not None else ""
    family = fields.get("family")
    on = f" on the {family} worker" if family else ""
    return (
        f"task     {fields.get('task', '?')} {fields.get('task_id', '?')}{on}: "
        f"{fields.get('status', '?')}{took}"
    )


def _task_refused(fields: dict[str, Any]) -> str:
    return (
        f"task     {fields.get('task', '?')} {fields.get('task_id', '?')}: refused "
        f"by the {fields.get('family', '?')} worker, a "
        f"{fields.get('job_family', '?')} job (to the dead letter queue)"
    )


def _task_failed(fields: dict[str, Any]) -> str:
    duration = fields.get("duration_ms")
    took = f" after {duration} ms" if duration is not None else ""
    return (
        f"task     {fields.get('task_id', '?')}: attempt "
        f"{fields.get('receive_count', '?')} raised{took} (retried by the queue)"
    )


def _email(fields: dict[str, Any]) -> str:
    line = (
        f"email    to {fields.get('to', '?')}: {fields.get('subject', '?')!r} "
        f"-> {fields.get('file', '?')}"
    )
    link = first_link(Path(str(fields.get("file", ""))))
    return f"{line}\n         link: {link}" if link else line


def first_link(eml: Path) -> str | None:
    """The first link in the plain-text part of the ``.eml`` file: what a person
    would click (the record leaves it out: it carries a one-time token)."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    except OSError:
        return None
    body = message.get_body(preferencelist=("plain",))
    if not isinstance(body, EmailMessage):
        return None
    found = _LINK.search(body.get_content())
    return found.group(0) if found else None


def _webhook(fields: dict[str, Any]) -> str:
    return (
        f"webhook  {fields.get('type', '?')} {fields.get('event', '?')}: "
        f"{fields.get('outcome', '?')}"
    )


def _scheduled(fields: dict[str, Any]) -> str:
    return (
        f"schedule {fields.get('job', '?')}: submitted as task "
        f"{fields.get('task_id', '?')}"
    )


_LINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "task attempt ended": _task,
    "task attempt failed": _task_failed,
    "task refused: its job belongs to another worker": _task_refused,
    "email written to the outbox": _email,
    "stripe webhook handled": _webhook,
    "scheduled job submitted": _scheduled,
}


class ConsoleFormatter(LambdaPowertoolsFormatter):
    """One readable line per record (plus the traceback of an exception).

    A Powertools formatter, since the Logger hands its keys (correlation id, ...)
    to whatever formatter it has; only the line they end up in differs."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = _LINES.get(message)
        if line is not None:
            text = f"{stamp} {line(fields)}"
        else:
            extras = " ".join(f"{k}={v}" for k, v in fields.items())
            text = f"{stamp} {record.levelname} {record.name}: {message}"
            text += f" {extras}" if extras else ""
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def use_readable_logs(name: str = "strata") -> None:
    """Give every handler of the ``name`` logger the console's formatter."""
    # Imported for its side effect: it installs the JSON handler this replaces.
    import functions.runtime.observability  # noqa: F401

    for handler in logging.getLogger(name).handlers:
        handler.setFormatter(ConsoleFormatter())
