from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.application.jobs import InvalidPayload, text
from core.application.ports import (
    Clock,
    ExportStore,
    Position,
    SortOrder,
    UserRepository,
    UserSort,
    UserSummary,
)

COLUMNS = (
    "id",
    "username",
    "email",
    "role",
    "is_active",
    "email_verified",
    "created_at",
)
PAGE_SIZE = 100
CONTENT_TYPE = "text/csv; charset=utf-8"
KEY_PREFIX = "users/"

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """``value`` made inert for spreadsheets: a leading formula character gets a
    quote before it, as OWASP advises. Only an email can start with one."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def row(user: UserSummary) -> tuple[str, ...]:
    return (
        user.id,
        cell(user.username.value),
        cell(user.email.value),
        user.role.value,
        "true" if user.is_active else "false",
        "true" if user.email_verified else "false",
        user.created_at.isoformat(),
    )


def render(rows: Iterable[Iterable[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


@dataclass
class _Tally:
    rows: int = 0


@dataclass(frozen=True, slots=True)
class ExportUsersJob:
    """Writes every user to a CSV file (payload ``{key}``, under ``users/``) and
    returns ``{url, rows, bytes, expires_at}``: a download link valid for
    ``link_ttl``, and what the file holds.

    The users are read a page at a time, oldest first, through the repository's
    listing (a Query, never a Scan), and handed to the store as one chunk per page:
    memory holds a page of users and what the store buffers, never all of them. A
    user created during the export may or may not be in it; every user who
    existed before it started is in it exactly once. Running it again for the same
    task rewrites the same file.
    """

    users: UserRepository
    exports: ExportStore
    link_ttl: timedelta
    clock: Clock
    page_size: int = PAGE_SIZE

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        key = text(payload, "key")
        if not key.startswith(KEY_PREFIX) or ".." in key:
            raise InvalidPayload(f"an export's key must be under {KEY_PREFIX!r}")
        tally = _Tally()
        size = self.exports.write(key, self._chunks(tally), CONTENT_TYPE)
        # Read before the link is signed: the link lives at least until then.
        expires_at = self.clock.now() + self.link_ttl
        url = self.exports.link(key, self.link_ttl)
        return {
            "url": url,
            "rows": tally.rows,
            "bytes": size,
            "expires_at": expires_at.isoformat(),
        }

    def _chunks(self, tally: _Tally) -> Iterator[bytes]:
        yield render([COLUMNS])
        start: Position | None = None
        while True:
            page = self.users.list_page(
                UserSort.CREATED_AT, SortOrder.ASC, self.page_size, start
            )
            if page.items:
                tally.rows += len(page.items)
                yield render(row(user) for user in page.items)
            if page.next_position is None:
                return
            start = page.next_position
