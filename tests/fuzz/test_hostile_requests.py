"""Requests the fuzzer seldom or never makes, sent to every operation: each answer
is still a documented 4xx problem, never a 5xx or an undocumented status."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis

from tests.fuzz.harness import (
    CHECKS,
    KNOWN_TASK,
    RAW_BODY_ROUTES,
    SCHEMA,
    USER,
    SuperAdmin,
)
from tests.stripe_local import sign

LIMIT = 64 * 1024
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
WITH_BODY = [
    op
    for op in OPERATIONS
    if op.body and (op.method.upper(), op.path) not in RAW_BODY_ROUTES
]
RAW_BODY = [op for op in OPERATIONS if (op.method.upper(), op.path) in RAW_BODY_ROUTES]
STATE_CHANGES = [op for op in OPERATIONS if op.method.upper() in STATE_CHANGING]


def label(operation: Any) -> str:
    return str(operation.label)


def case_for(operation: Any) -> schemathesis.Case:
    """A case of ``operation`` naming a user or task that exists, with no body of
    its own."""
    values = {
        "username": USER,
        "task_id": KNOWN_TASK,
        # The body is refused before the route reads them.
        "org_id": "org-unknown",
        "user_id": "user-unknown",
        "email": "nobody@example.com",
    }
    names = re.findall(r"{(\w+)}", operation.path)
    unknown = set(names) - set(values)
    assert not unknown, f"give the path parameters {unknown} a value here"
    return operation.Case(path_parameters={name: values[name] for name in names})


def send(
    operation: Any, super_admin: SuperAdmin, body: bytes, content_type: str
) -> Any:
    """``body`` as a logged-in super admin, validated against the document."""
    case = case_for(operation)
    response = case.call(
        data=body, headers={"Content-Type": content_type}, cookies=super_admin.cookies()
    )
    case.validate_response(response, checks=CHECKS)
    return response


@pytest.mark.parametrize("operation", OPERATIONS, ids=label)
def test_a_body_over_the_limit_is_a_documented_413_on_every_route(
    operation: Any, super_admin: SuperAdmin
) -> None:
    response = send(
        operation, super_admin, b"{" + b" " * LIMIT + b"}", "application/json"
    )

    assert response.status_code == 413


@pytest.mark.parametrize("operation", STATE_CHANGES, ids=label)
def test_a_state_change_with_a_body_that_is_not_json_is_a_documented_415(
    operation: Any, super_admin: SuperAdmin
) -> None:
    response = send(operation, super_admin, b"username=root0001", "text/plain")

    assert response.status_code == 415


# Bodies declared JSON that the JSON parser gives up on before validation starts.
UNPARSABLE = {
    "not-utf-8": b'{"username": "\xff\xfe"}',
    "nested-too-deep": b"[" * 50_000,
    "objects-nested-too-deep": b'{"a":' * 10_000,
}


@pytest.mark.parametrize("body", list(UNPARSABLE))
@pytest.mark.parametrize("operation", WITH_BODY, ids=label)
def test_a_json_body_the_parser_gives_up_on_is_a_documented_422(
    operation: Any, super_admin: SuperAdmin, body: str
) -> None:
    response = send(operation, super_admin, UNPARSABLE[body], "application/json")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize("body", list(UNPARSABLE))
@pytest.mark.parametrize("operation", RAW_BODY, ids=label)
def test_a_signed_body_the_parser_gives_up_on_is_a_documented_400_on_a_raw_route(
    operation: Any, super_admin: SuperAdmin, body: str
) -> None:
    # Validly signed, so that the body itself is what is judged.
    case = case_for(operation)
    response = case.call(
        data=UNPARSABLE[body],
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(UNPARSABLE[body]),
        },
    )
    case.validate_response(response, checks=CHECKS)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_the_raw_routes_are_the_ones_that_read_their_body_themselves() -> None:
    assert {(op.method.upper(), op.path) for op in RAW_BODY} == RAW_BODY_ROUTES


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS"])
def test_a_method_the_path_does_not_serve_is_a_405_that_allows_every_one_it_does(
    container: Any, method: str
) -> None:
    case = SCHEMA["/api/v1/users"]["GET"].Case(method=method)

    response = case.call()

    assert response.status_code == 405
    assert response.headers["allow"] == ["GET, POST"]
    assert response.headers["content-type"] == ["application/problem+json"]
