"""The sample event of each endpoint, built from its declaration.

An API Gateway HTTP API (payload format 2.0) request to the endpoint's route on the
``$default`` stage, as API Gateway sends it to the function: the declared sample's
path parameters, query and JSON body (or a file of events/, sent as it is, for
Stripe's webhook), and the placeholder session cookie where the route requires the
session. ``strata invoke`` sends it by default; ``strata events`` writes them all.
Plain data, like the catalog: no FastAPI here.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from functions.catalog import ROOT, Endpoint

EVENTS_DIR = ROOT / "events"
PLACEHOLDER_COOKIE = "access_token=PASTE_YOUR_TOKEN"
_PARAMETER = re.compile(r"\{([^}/]+)\}")
_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
_BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
_SOURCE_IP = "203.0.113.10"
# A fixed moment: the same declaration always gives the same event.
_EPOCH_MS = 1767261600000


class MissingSample(ValueError):
    """An endpoint whose declared sample cannot fill its route's path."""


def _body(endpoint: Endpoint) -> str | None:
    sample = endpoint.sample
    if "body_file" in sample:
        return (EVENTS_DIR / str(sample["body_file"])).read_text(encoding="utf-8")
    if "body" in sample:
        return json.dumps(sample["body"])
    return None


def sample_event(endpoint: Endpoint, cookie: str | None = None) -> dict[str, Any]:
    """The endpoint's sample event; ``cookie`` (``access_token=...``) replaces the
    placeholder session cookie."""
    parameters = dict(endpoint.sample.get("path", {}))
    missing = [p for p in _PARAMETER.findall(endpoint.path) if p not in parameters]
    if missing:
        raise MissingSample(
            f"{endpoint.name}: no sample for the path parameters {missing}: add them "
            f'to sample={{"path": ...}} in {endpoint.module}, or to PATH_SAMPLES'
        )
    path = _PARAMETER.sub(lambda m: str(parameters[m.group(1)]), endpoint.path)
    query = {k: str(v) for k, v in endpoint.sample.get("query", {}).items()}
    body = _body(endpoint)
    headers = {
        "accept": "application/json",
        "accept-encoding": "gzip, deflate, br",
        "host": _HOST,
        "user-agent": _BROWSER,
        "x-forwarded-for": _SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(body.encode()))
    headers.update(endpoint.sample.get("headers", {}))
    request_id = hashlib.sha256(endpoint.name.encode()).hexdigest()[:16]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": endpoint.route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": _HOST.split(".", 1)[0],
            "domainName": _HOST,
            "domainPrefix": _HOST.split(".", 1)[0],
            "http": {
                "method": endpoint.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": _SOURCE_IP,
                "userAgent": _BROWSER,
            },
            "requestId": request_id,
            "routeKey": endpoint.route_key,
            "stage": "$default",
            "time": "01/Jan/2026:10:00:00 +0000",
            "timeEpoch": _EPOCH_MS,
        },
        "isBase64Encoded": False,
    }
    if endpoint.requires_session or cookie:
        event["cookies"] = [cookie or PLACEHOLDER_COOKIE]
    if query:
        event["queryStringParameters"] = query
    if parameters:
        event["pathParameters"] = {k: str(v) for k, v in parameters.items()}
    if body is not None:
        event["body"] = body
    return event


def write_events(out: Path, endpoints: tuple[Endpoint, ...]) -> list[Path]:
    """Write each endpoint's sample event to ``out/<name>.json``; the files."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for endpoint in endpoints:
        path = out / f"{endpoint.name}.json"
        path.write_text(json.dumps(sample_event(endpoint), indent=2) + "\n")
        written.append(path)
    return written
