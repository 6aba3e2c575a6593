"""The task mix of ``make load``: what one simulated user does, over and over.

``python -m tools.load`` starts a throwaway local stack, seeds it and runs locust on
this file; it hands over the seeded accounts through a JSON file named by
``$STRATA_LOAD_SEED``, with a live session token for each, so that the measured
window holds only the mix below and no set-up log-ins:

    me     5   GET  /api/v1/account/me    as the user          200, the same username
    list   3   GET  /api/v1/users         as the super admin   200, one page; the
                                                               next call follows
                                                               next_cursor
    login  1   POST /api/v1/account/logout, then POST /api/v1/account/login as the
               user (204 each): a logged-in user's log-in is refused, so the task
               ends the session first, and the user goes on with the new one

Every response is checked; any other status or shape counts as a failure.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from locust import HttpUser, between, task
from locust.clients import HttpSession
from locust.exception import StopUser

SEED_ENV = "STRATA_LOAD_SEED"  # set by tools/load.py
COOKIE = "access_token"
ME = "/api/v1/account/me"
USERS = "/api/v1/users"
LOGIN = "/api/v1/account/login"
LOGOUT = "/api/v1/account/logout"


class Checked(Protocol):
    """What the tasks use of locust's ``catch_response`` response (whose
    ``__enter__`` is untyped, so the ``with`` target is ``Any``)."""

    status_code: int
    text: str
    url: str

    def json(self) -> Any: ...

    def failure(self, exc: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: str
    token: str


@dataclass(frozen=True, slots=True)
class Seed:
    admin: Account
    users: tuple[Account, ...]
    page_size: int

    @classmethod
    def load(cls) -> Seed:
        path = os.environ.get(SEED_ENV)
        if not path:
            raise RuntimeError(f"${SEED_ENV} is not set: run `python -m tools.load`")
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            admin=Account(**data["admin"]),
            users=tuple(Account(**user) for user in data["users"]),
            page_size=int(data["page_size"]),
        )


SEED = Seed.load()
_log = logging.getLogger("strata.load")  # tools/load.py reads its lines
# Each simulated user gets an account of its own: a shared one would lose its
# session to the other's log-out. Users are spawned one greenlet at a time.
_slots = itertools.count()


def _with_session(session: HttpSession, host: str, token: str) -> HttpSession:
    # Keyed (domain, path, name) exactly as the server's Set-Cookie is stored, so
    # that a renewal or a log-out replaces this cookie instead of adding another.
    domain = urlsplit(host).hostname or ""
    session.cookies.set(COOKIE, token, domain=domain, path="/")
    return session


def _has_session(session: HttpSession) -> bool:
    return any(cookie.name == COOKIE for cookie in session.cookies)


def _unexpected(response: Checked, expected: int) -> str | None:
    """Why the response is not the ``expected`` status, or None if it is."""
    if response.status_code == expected:
        return None
    body = " ".join((response.text or "").split())[:200]
    return f"expected {expected}, got {response.status_code}: {body}"


def _fail(response: Checked, problem: str) -> None:
    """Count the request as failed, and say why in locust's log, where the runner
    counts these lines by reason."""
    _log.warning("%s failed: %s", urlsplit(response.url).path, problem)
    response.failure(problem)


def _json(response: Checked) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class StrataUser(HttpUser):
    # A short think time between tasks, as a busy client would have.
    wait_time = between(0.1, 0.5)

    account: Account
    admin: HttpSession
    cursor: str | None

    def on_start(self) -> None:
        slot = next(_slots)
        if slot >= len(SEED.users):
            raise StopUser()  # more users than seeded accounts: the runner's bug
        self.account = SEED.users[slot]
        host = self.host or ""
        _with_session(self.client, host, self.account.token)
        # The admin's own cookie jar, beside the user's; shared session, own renewals.
        self.admin = _with_session(
            HttpSession(host, self.environment.events.request, self),
            host,
            SEED.admin.token,
        )
        self.cursor = None

    @task(5)
    def me(self) -> None:
        with self.client.get(ME, name=ME, catch_response=True) as response:
            problem = _unexpected(response, 200)
            body = _json(response) if problem is None else None
            if problem is None and (
                not isinstance(body, dict)
                or body.get("username") != self.account.username
            ):
                problem = f"not {self.account.username}'s account: {body!r:.200}"
            if problem is not None:
                _fail(response, problem)

    @task(3)
    def list_users(self) -> None:
        params: dict[str, str | int] = {"limit": SEED.page_size}
        if self.cursor is not None:
            params["cursor"] = self.cursor
        with self.admin.get(
            USERS, params=params, name=USERS, catch_response=True
        ) as response:
            problem = _unexpected(response, 200)
            body = _json(response) if problem is None else None
            if problem is None:
                items = body.get("items") if isinstance(body, dict) else None
                cursor = body.get("next_cursor") if isinstance(body, dict) else None
                if (
                    not isinstance(items, list)
                    or len(items) > SEED.page_size
                    or not isinstance(cursor, str | None)
                    or not (items or cursor is None)  # an empty page ends the list
                ):
                    problem = f"not a page of users: {body!r:.200}"
                else:
                    # The last page sends the next call back to the first.
                    self.cursor = cursor
            if problem is not None:
                self.cursor = None
                _fail(response, problem)

    @task(1)
    def login(self) -> None:
        with self.client.post(LOGOUT, name=LOGOUT, catch_response=True) as response:
            problem = _unexpected(response, 204)
            if problem is None and _has_session(self.client):
                problem = "the session cookie was not cleared"
            if problem is not None:
                _fail(response, problem)
                return
        credentials = {
            "username": self.account.username,
            "password": self.account.password,
        }
        with self.client.post(
            LOGIN, json=credentials, name=LOGIN, catch_response=True
        ) as response:
            problem = _unexpected(response, 204)
            if problem is None and not _has_session(self.client):
                problem = "no session cookie was set"
            if problem is not None:
                _fail(response, problem)
