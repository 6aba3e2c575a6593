"""Running a Lambda handler on this machine, as API Gateway and Lambda would: the one
harness that tests, the measurement tools and the ``strata`` CLI share.

- ``http_api_event``: an API Gateway HTTP API (payload format 2.0) event for a
  catalog ``Endpoint``, carrying what API Gateway really sends to a function behind
  a route of the ``$default`` stage, so a handler sees here what it sees in AWS;
- ``FakeLambdaContext``: the attributes and the one method of a Lambda context that
  handlers, Mangum and Powertools read;
- ``invoke`` and ``Reply``: call an endpoint's handler, read its answer;
- ``free_port``/``free_ports``: loopback ports for throwaway servers.

It imports only the standard library at run time (the catalog only for type
checking): the bench's fresh processes use the context after timing an import,
and must not pay for more than they measure.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from functions.catalog import Endpoint

LOOPBACK = "127.0.0.1"
# The account and region of every fake ARN: nothing here talks to AWS.
FAKE_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_TIMEOUT_MS = 30_000

_PARAMETER = re.compile(r"\{([^}/]+)\}")


# --- events ---------------------------------------------------------------------------


def path_parameters(template: str, path: str) -> dict[str, str]:
    """The values of the ``{name}`` segments of ``template`` in ``path``."""
    wanted, given = template.split("/"), path.split("/")
    if len(wanted) != len(given):
        raise ValueError(f"{path!r} does not match the route {template!r}")
    found: dict[str, str] = {}
    for pattern, segment in zip(wanted, given, strict=True):
        name = _PARAMETER.fullmatch(pattern)
        if name is not None:
            found[name.group(1)] = segment
        elif pattern != segment:
            raise ValueError(f"{path!r} does not match the route {template!r}")
    return found


def http_api_event(
    endpoint: Endpoint,
    path: str | None = None,
    *,
    query: dict[str, str] | None = None,
    json_body: Any = None,
    raw_body: str | bytes | None = None,
    cookies: list[str] | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
    source_ip: str = "198.51.100.7",
) -> dict[str, Any]:
    """An HTTP API v2 event for a request to ``endpoint``.

    ``path`` is the concrete path (defaults to the catalog path, for routes without
    parameters); ``json_body`` is serialised, ``raw_body`` is sent as given. The body
    travels base64-encoded when ``base64_body`` is set or it is bytes, as API Gateway
    sends binary bodies. ``headers`` override the defaults.
    """
    path = path if path is not None else endpoint.path
    request_headers = {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "strata-tests",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    content: bytes | None = None
    if json_body is not None:
        content = json.dumps(json_body).encode()
    elif raw_body is not None:
        content = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
    is_base64 = base64_body or isinstance(raw_body, bytes)
    body: str | None = None
    if content is not None:
        request_headers["content-type"] = "application/json"
        request_headers["content-length"] = str(len(content))
        body = base64.b64encode(content).decode() if is_base64 else content.decode()
    request_headers.update({k.lower(): v for k, v in (headers or {}).items()})

    now = time.time()
    request_id = uuid.uuid4().hex[:16]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{endpoint.method} {endpoint.path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": request_headers,
        "requestContext": {
            "accountId": FAKE_ACCOUNT,
            "apiId": "abc123",
            "domainName": request_headers["host"],
            "domainPrefix": "abc123",
            "http": {
                "method": endpoint.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": request_headers["user-agent"],
            },
            "requestId": request_id,
            "routeKey": f"{endpoint.method} {endpoint.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if cookies:
        event["cookies"] = list(cookies)
    parameters = path_parameters(endpoint.path, path)
    if parameters:
        event["pathParameters"] = parameters
    if body is not None:
        event["body"] = body
    return event


# --- the context ----------------------------------------------------------------------


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context object that handlers, Mangum and Powertools
    read. The ARN, log group and log stream follow from the name, region and
    version, as Lambda's do; the remaining time counts down from creation."""

    function_name: str = "strata-test-function"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = DEFAULT_REGION
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    client_context: Any = None
    identity: Any = None
    # Monotonic, so a clock a test moves (or NTP) does not shorten the time left.
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        region, name = self.region, self.function_name
        return f"arn:aws:lambda:{region}:{FAKE_ACCOUNT}:function:{name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    @property
    def deadline_ms(self) -> int:
        """When the invocation times out, in epoch milliseconds."""
        return int(time.time() * 1000) + self.get_remaining_time_in_millis()

    def get_remaining_time_in_millis(self) -> int:
        elapsed = int((time.monotonic() - self.started) * 1000)
        return max(self.timeout_ms - elapsed, 0)


# --- calling a handler ----------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A handler's answer, with the parts callers look at decoded."""

    raw: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.raw["statusCode"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in (self.raw.get("headers") or {}).items()}

    @property
    def cookies(self) -> list[str]:
        return list(self.raw.get("cookies") or [])

    @property
    def text(self) -> str:
        body = self.raw.get("body") or ""
        if self.raw.get("isBase64Encoded"):
            return base64.b64decode(body).decode()
        return str(body)

    def json(self) -> Any:
        return json.loads(self.text)

    def cookie(self, name: str) -> str | None:
        """The value of the Set-Cookie for ``name``, or ``None`` if none is set."""
        for cookie in self.cookies:
            key, _, rest = cookie.partition("=")
            if key == name:
                return rest.split(";", 1)[0]
        return None


def invoke(
    endpoint: Endpoint,
    path: str | None = None,
    *,
    context: FakeLambdaContext | None = None,
    **kwargs: Any,
) -> Reply:
    """Call the endpoint's Lambda handler with an HTTP API v2 event
    (``http_api_event``'s keyword arguments) and a fresh context unless given."""
    handler = import_module(endpoint.module).handler
    event = http_api_event(endpoint, path, **kwargs)
    return Reply(handler(event, context or FakeLambdaContext()))


# --- ports ----------------------------------------------------------------------------


def free_port(host: str = LOOPBACK) -> int:
    """A port on ``host`` that was free a moment ago (nothing listens on it)."""
    return free_ports(1, host)[0]


def free_ports(
    count: int, host: str = LOOPBACK, avoid: Collection[int] = ()
) -> list[int]:
    """``count`` distinct ports on ``host`` that were free a moment ago, none of
    ``avoid``. They are bound together, so the kernel cannot hand one out twice."""
    ports: list[int] = []
    while len(ports) < count:
        sockets = [socket.socket() for _ in range(count)]
        try:
            for sock in sockets:
                sock.bind((host, 0))
            found = {int(sock.getsockname()[1]) for sock in sockets}
        finally:
            for sock in sockets:
                sock.close()
        ports = sorted(found - set(avoid))
    return ports[:count]
