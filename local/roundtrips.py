"""The round-trip budget: how many DynamoDB calls each endpoint makes per request.

``measure`` walks every catalog endpoint once through its Lambda handler, with an API
Gateway HTTP API v2 event and realistic preconditions (a logged-in super admin for the
admin routes, a real target user with open sessions), and counts the DynamoDB calls of
each request through botocore's event hooks on the models' clients. The caller brings
a running DynamoDB (moto), bound tables and an installed container.

``python -m local.roundtrips`` does all of that on its own, against a throwaway moto
server on loopback, and prints the budget as a markdown table.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

from functions.catalog import BY_NAME, ENDPOINTS, Endpoint
from local.stack import provision

# Throwaway accounts in a throwaway moto server.
PASSWORD = "round trip password"  # noqa: S105
NEW_PASSWORD = "another round trip password"  # noqa: S105
RESET_PASSWORD = "a round trip password after a reset"  # noqa: S105
COOKIE = "access_token"


@dataclass
class RequestCalls:
    """The DynamoDB calls of one request: by operation, and by (operation, table)."""

    operations: Counter[str] = field(default_factory=Counter)
    tables: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.operations.values())


class _CallHook:
    """A ``before-call.dynamodb`` hook that records into ``current`` while set."""

    def __init__(self) -> None:
        self.current: RequestCalls | None = None

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if self.current is None:
            return
        operation = str(model.name)
        self.current.operations[operation] += 1
        for table in _tables_of(params.get("body")):
            self.current.tables[(operation, table)] += 1


def _tables_of(body: Any) -> list[str]:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or "{}")
        except ValueError:
            return []
    if not isinstance(body, dict):
        return []
    if "TableName" in body:
        return [str(body["TableName"])]
    if "RequestItems" in body:
        return [str(name) for name in body["RequestItems"]]
    if "TransactItems" in body:
        return sorted(
            {
                str(action["TableName"])
                for item in body["TransactItems"]
                for action in item.values()
            }
        )
    return []


@contextmanager
def _hooked() -> Iterator[_CallHook]:
    """A hook on the client of every model, removed again on the way out."""
    from core.adapters.dynamodb.models import ALL_MODELS

    hook = _CallHook()
    clients: dict[int, Any] = {}
    for model in ALL_MODELS:
        client = model._get_connection().connection.client
        clients[id(client)] = client
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", hook)
    try:
        yield hook
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", hook)


# -- events ----------------------------------------------------------------------------


def http_api_event(
    endpoint: Endpoint,
    path: str | None = None,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    cookie: str | None = None,
) -> dict[str, Any]:
    """A minimal API Gateway HTTP API (payload 2.0) event for ``endpoint``."""
    path = path or endpoint.path
    now = time.time()
    headers = {"host": "localhost", "x-forwarded-proto": "https"}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{endpoint.method} {endpoint.path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers,
        "requestContext": {
            "http": {
                "method": endpoint.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "strata-roundtrips",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{endpoint.method} {endpoint.path}",
            "stage": "$default",
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if cookie:
        event["cookies"] = [cookie]
    if body is not None:
        event["body"] = json.dumps(body)
        headers["content-type"] = "application/json"
    return event


class _Context:
    function_name = "strata-roundtrips"
    aws_request_id = "roundtrips"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _invoke(event: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    handler = import_module(endpoint.module).handler
    reply: dict[str, Any] = handler(event, _Context())
    return reply


def _body_text(reply: dict[str, Any]) -> str:
    body = str(reply.get("body") or "")
    return base64.b64decode(body).decode() if reply.get("isBase64Encoded") else body


def _session_cookie(reply: dict[str, Any]) -> str:
    for cookie in reply.get("cookies") or []:
        pair = str(cookie).split(";", 1)[0]
        if pair.startswith(f"{COOKIE}=") and len(pair) > len(COOKIE) + 1:
            return pair
    raise RuntimeError("the response set no session cookie")


# -- the walk --------------------------------------------------------------------------


class _Walk:
    """Calls endpoints by name; records the calls of the measured ones."""

    def __init__(self, hook: _CallHook) -> None:
        self.hook = hook
        self.results: dict[str, RequestCalls] = {}

    def call(
        self,
        name: str,
        expected: int,
        path: str | None = None,
        *,
        measured: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        endpoint = BY_NAME[name]
        event = http_api_event(endpoint, path, **kwargs)
        calls = RequestCalls()
        self.hook.current = calls if measured else None
        try:
            reply = _invoke(event, endpoint)
        finally:
            self.hook.current = None
        if reply["statusCode"] != expected:
            raise RuntimeError(
                f"{name}: expected {expected}, got {reply['statusCode']}: "
                f"{_body_text(reply)}"
            )
        if measured:
            self.results[name] = calls
        return reply

    def log_in(self, username: str, password: str, *, measured: bool = False) -> str:
        reply = self.call(
            "login",
            204,
            body={"username": username, "password": password},
            measured=measured,
        )
        return _session_cookie(reply)


def measure_detailed() -> dict[str, RequestCalls]:
    """Every catalog endpoint's calls for one successful request, in catalog order.

    Needs a reachable DynamoDB with the tables bound, and the container installed
    (``functions.runtime.container.use_container``); adds a few users to the tables.
    """
    from functions.runtime.container import get_container

    container = get_container()
    suffix = secrets.token_hex(3)
    root, target, made = f"root{suffix}", f"user{suffix}", f"made{suffix}"
    # The one role the API cannot make: created as the management command does.
    container.create_super_admin().execute(root, f"{root}@example.com", PASSWORD)

    with _hooked() as hook:
        walk = _Walk(hook)
        walk.call("root", 307)
        walk.call("docs", 200)
        walk.call("openapi", 200)
        walk.call("health", 200)
        walk.call(
            "signup",
            201,
            body={
                "username": target,
                "email": f"{target}@example.com",
                "password": PASSWORD,
            },
        )
        admin = walk.log_in(root, PASSWORD, measured=True)
        walk.call("me", 200, cookie=admin)
        walk.call(
            "create_user",
            201,
            cookie=admin,
            body={
                "username": made,
                "email": f"{made}@example.com",
                "password": PASSWORD,
            },
        )
        walk.call("list_users", 200, cookie=admin, query={"limit": "2"})
        # The target is logged in on two devices and changes the password on one,
        # which ends the session on the other.
        here = walk.log_in(target, PASSWORD)
        walk.log_in(target, PASSWORD)
        walk.call(
            "change_password",
            204,
            f"/api/v1/users/{target}/password",
            cookie=here,
            body={"password": NEW_PASSWORD, "current_password": PASSWORD},
        )
        users = f"/api/v1/users/{target}"
        walk.call("grant_admin", 204, f"{users}/grant-admin", cookie=admin)
        walk.call("revoke_admin", 204, f"{users}/revoke-admin", cookie=admin)
        # Deactivation ends the session the target still has open.
        walk.call("deactivate_user", 204, f"{users}/deactivate", cookie=admin)
        walk.call("activate_user", 204, f"{users}/activate", cookie=admin)
        exported = walk.call("export_users", 202, cookie=admin)
        task_id = json.loads(_body_text(exported))["task_id"]
        walk.call("get_task", 200, f"/api/v1/tasks/{task_id}", cookie=admin)
        _walk_email_flows(walk, container, target)
        walk.call("logout", 204, cookie=admin)

    missing = [e.name for e in ENDPOINTS if e.name not in walk.results]
    if missing:
        raise RuntimeError(f"endpoints the walk does not cover: {missing}")
    return {e.name: walk.results[e.name] for e in ENDPOINTS}


def _walk_email_flows(walk: _Walk, container: Any, target: str) -> None:
    """The target, still unverified, asks for a new verification email, verifies,
    forgets the password and sets a new one. The links' tokens are issued the way
    the worker issues them as it sends, outside the measured requests."""
    from datetime import timedelta

    user = container.users.get_by_username(target)
    session = walk.log_in(target, NEW_PASSWORD)
    walk.call("resend_verification", 202, cookie=session)
    now = container.clock.now()
    verify = container.link_tokens.issue(
        "verify_email", user.id, now, timedelta(hours=1)
    )
    walk.call("verify_email", 204, body={"token": verify})
    walk.call("password_reset", 202, body={"email": f"{target}@example.com"})
    reset = container.link_tokens.issue(
        "password_reset", user.id, now, timedelta(hours=1)
    )
    # The target's open session is one of those the reset ends.
    walk.call(
        "password_reset_confirm",
        204,
        body={"token": reset, "password": RESET_PASSWORD},
    )


def measure() -> dict[str, dict[str, int]]:
    """Endpoint name -> {DynamoDB operation: calls} for one successful request each."""
    return {
        name: dict(sorted(calls.operations.items()))
        for name, calls in measure_detailed().items()
    }


def render(budget: dict[str, dict[str, int]]) -> str:
    """The budget as a markdown table, in catalog order."""
    lines = [
        "| endpoint | method path | DynamoDB calls | by operation |",
        "|---|---|---:|---|",
    ]
    for name, operations in budget.items():
        endpoint = BY_NAME[name]
        by_operation = ", ".join(f"{op} {n}" for op, n in operations.items()) or "-"
        lines.append(
            f"| {name} | `{endpoint.method} {endpoint.path}` "
            f"| {sum(operations.values())} | {by_operation} |"
        )
    return "\n".join(lines)


# -- the command -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """Start moto on loopback, create the tables, measure, print the table."""
    # Fake credentials and the local stage: this never talks to a real AWS account.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto takes any)
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        STRATA_STAGE="local",
        STRATA_BCRYPT_ROUNDS="4",
    )
    for name in ("AWS_PROFILE", "STRATA_JWT_SECRET", "STRATA_PASSWORD_PEPPER"):
        os.environ.pop(name, None)

    from moto.server import ThreadedMotoServer

    from functions.runtime.container import build_container, use_container

    # The moto server's access log would drown the table.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        # Tables, task queue and export bucket: some requests queue work.
        use_container(build_container(provision()))
        budget = measure()
    finally:
        use_container(None)
        server.stop()
    print(render(budget))


if __name__ == "__main__":
    main()
