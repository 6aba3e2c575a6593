"""API Gateway HTTP API (payload format 2.0) events, and a Lambda context, for tests.

The events carry what API Gateway really sends to a function behind a route of the
``$default`` stage, so a handler sees in a test exactly what it sees in AWS.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

from functions.catalog import Endpoint

_PARAMETER = re.compile(r"\{([^}/]+)\}")


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
            "accountId": "123456789012",
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


@dataclass
class FakeLambdaContext:
    """The attributes and the one method handlers may use of a Lambda context."""

    function_name: str = "strata-test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/strata-test-function"
    log_stream_name: str = "2024/01/01/[$LATEST]0123456789abcdef"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:strata-test-function"
    )
    client_context: Any = None
    identity: Any = None
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 30_000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


@dataclass(frozen=True)
class Reply:
    """A handler's answer, with the parts tests look at decoded."""

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


def invoke(endpoint: Endpoint, path: str | None = None, **kwargs: Any) -> Reply:
    """Call the endpoint's Lambda handler with an HTTP API v2 event."""
    handler = import_module(endpoint.module).handler
    return Reply(handler(http_api_event(endpoint, path, **kwargs), FakeLambdaContext()))
