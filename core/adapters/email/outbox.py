"""The local outbox: every sent email also written as an ``.eml`` file.

Only the local stack sets ``STRATA_OUTBOX_DIR``. A file is
``<timestamp>-<to>-<template>.eml``, a ``multipart/alternative`` message with the
plain-text and the HTML part, which any mail client opens. It appears atomically:
written under a hidden temporary name in the same folder, then renamed, so whoever
watches the folder for ``*.eml`` never reads half a message.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from core.adapters.email.message import RenderedEmail

TEMPLATE_HEADER = "X-Strata-Template"
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")
logger = logging.getLogger("strata.outbox")


def build_message(
    sender: str, to: str, template: str, email: RenderedEmail, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid(domain="strata.local")
    message[TEMPLATE_HEADER] = template
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class Outbox:
    """Writes messages into ``directory`` (created when missing)."""

    def __init__(
        self,
        directory: str | Path,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = Path(directory)
        self._now = now

    def write(self, sender: str, to: str, template: str, email: RenderedEmail) -> Path:
        now = self._now()
        message = build_message(sender, to, template, email, now)
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.directory / f"{stamp}-{_UNSAFE.sub('_', to)}-{template}.eml"
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            dir=self.directory, prefix=".outbox-", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(message.as_bytes())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        # Only the local stack has an outbox: the address is a developer's test one.
        # The link (a one-time token) stays out of the logs; the dev console reads
        # it from the file.
        logger.info(
            "email written to the outbox",
            extra={"to": to, "subject": email.subject, "file": str(path)},
        )
        return path
