"""The sample events: one per catalog endpoint, built from its declaration, each a
faithful API Gateway HTTP API (payload format 2.0) request for that endpoint's route."""

from __future__ import annotations

import json
import re
from importlib import import_module
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qsl

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from functions.catalog import ENDPOINTS, Endpoint
from functions.runtime.auth import CurrentAuth
from functions.sample_events import sample_event
from local.cli import main
from local.harness import FakeLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"
_PARAMETER = re.compile(r"\{([^}/]+)\}")
# The dependency behind CurrentAuth: a route that has it needs the session cookie.
_SESSION_REQUIRED = get_args(CurrentAuth)[1].dependency


def _event(endpoint: Endpoint) -> dict[str, Any]:
    return sample_event(endpoint)


def _route(endpoint: Endpoint) -> APIRoute:
    routes = import_module(endpoint.module).router.routes
    assert len(routes) == 1
    route = routes[0]
    assert isinstance(route, APIRoute)
    return route


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _by_name(endpoint: Endpoint) -> str:
    return endpoint.name


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_by_name)
def test_every_catalog_endpoint_has_an_event_for_its_route(endpoint: Endpoint) -> None:
    event = _event(endpoint)
    route_key = f"{endpoint.method} {endpoint.path}"
    http = event["requestContext"]["http"]

    assert event["version"] == "2.0"
    assert event["routeKey"] == route_key
    assert event["requestContext"]["routeKey"] == route_key
    assert event["requestContext"]["stage"] == "$default"
    assert http["method"] == endpoint.method
    assert event["rawPath"] == http["path"]
    names = _PARAMETER.findall(endpoint.path)
    parameters = event.get("pathParameters", {})
    assert sorted(parameters) == sorted(names)
    assert all(parameters.values())
    expected_path = _PARAMETER.sub(lambda m: parameters[m.group(1)], endpoint.path)
    assert event["rawPath"] == expected_path
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["requestId"]
    assert http["sourceIp"]
    assert http["userAgent"]
    assert http["protocol"] == "HTTP/1.1"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_by_name)
def test_an_event_carries_a_json_body_exactly_when_its_route_takes_one(
    endpoint: Endpoint,
) -> None:
    event = _event(endpoint)
    route = _route(endpoint)
    # A route that reads its raw body (the Stripe webhook) documents it by hand.
    raw_body = "requestBody" in (route.openapi_extra or {})
    takes_body = route.body_field is not None or raw_body

    assert ("body" in event) == takes_body, (
        f"{endpoint.name} takes a body: declare one with sample={{'body': ...}} "
        f"in {endpoint.module}"
        if takes_body
        else f"{endpoint.name} takes no body: its sample declares one"
    )
    if takes_body:
        assert isinstance(json.loads(event["body"]), dict)
        content_type = event["headers"]["content-type"]
        assert content_type.split(";")[0] == "application/json"
        assert int(event["headers"]["content-length"]) == len(event["body"].encode())


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_by_name)
def test_an_event_carries_a_session_cookie_exactly_when_its_route_needs_one(
    endpoint: Endpoint,
) -> None:
    event = _event(endpoint)
    needs_session = _SESSION_REQUIRED in _calls(_route(endpoint).dependant)

    assert ("cookies" in event) == needs_session
    if needs_session:
        assert event["cookies"] == ["access_token=PASTE_YOUR_TOKEN"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_by_name)
def test_an_events_query_parameters_agree_with_its_raw_query_string(
    endpoint: Endpoint,
) -> None:
    event = _event(endpoint)

    assert dict(parse_qsl(event["rawQueryString"])) == event.get(
        "queryStringParameters", {}
    )


def test_no_hand_written_http_event_is_left_to_go_stale_in_events() -> None:
    for path in sorted(EVENTS.rglob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        # Queues, schedules and Stripe's event bodies bring their own.
        assert "routeKey" not in event, path


def test_strata_events_writes_every_endpoints_sample_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "--out", str(tmp_path)]) == 0

    written = {path.stem: path for path in tmp_path.glob("*.json")}
    assert set(written) == {endpoint.name for endpoint in ENDPOINTS}
    for endpoint in ENDPOINTS:
        text = written[endpoint.name].read_text(encoding="utf-8")
        assert json.loads(text) == sample_event(endpoint)
    assert capsys.readouterr().out.count(".json") == len(ENDPOINTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_by_name)
def test_every_event_reaches_its_route_with_input_the_route_accepts(
    endpoint: Endpoint, container: Any
) -> None:
    handler = import_module(endpoint.module).handler

    response = handler(_event(endpoint), FakeLambdaContext(endpoint.name))

    # Any answer but "no such route", "bad input" or a crash: the placeholder
    # cookie earns a 401, and that still proves routing and body shape.
    assert response["statusCode"] not in (404, 405, 422, 500), response
