"""The OpenAPI document explains itself: for every route in it, who may call it,
what it does and costs, what each field means, who must log in, a clean operation
id, and every problem code it can answer."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest

from core.application import errors as application_errors
from core.domain import errors as domain_errors
from functions.catalog import ENDPOINTS, Endpoint
from functions.runtime.errors import status_of
from functions.runtime.problems import PROBLEM_MEDIA_TYPE
from local.dev_app import build_app

DOCUMENTED = [e for e in ENDPOINTS if e.in_docs]
# The codes answered before any route code runs, or by FastAPI's input checks.
GUARD_CODES = {
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "origin_not_allowed": 403,
    "invalid_input": 422,
    "not_found": 404,
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_app().openapi()


def operation_of(document: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    return dict(document["paths"][endpoint.path][endpoint.method.lower()])


def _subclasses(kind: type[Exception]) -> list[type[Exception]]:
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def answered_codes() -> dict[str, int]:
    """Every code a core error carries, with the status it is answered with."""
    kinds = [
        *_subclasses(application_errors.ApplicationError),
        *_subclasses(domain_errors.DomainError),
    ]
    codes = {kind.code: status_of(kind.__new__(kind))[0] for kind in kinds}  # type: ignore[attr-defined]
    return {code: status for code, status in codes.items() if status != 500}


@pytest.mark.parametrize("endpoint", DOCUMENTED, ids=lambda e: e.name)
def test_every_operation_says_what_it_does_who_may_call_it_and_what_it_costs(
    document: dict[str, Any], endpoint: Endpoint
) -> None:
    description = operation_of(document, endpoint)["description"]

    assert " ".join(description.split()).startswith(endpoint.summary)
    who = endpoint.who[0].upper() + endpoint.who[1:]
    assert f"**Who:** {who}" in description
    assert "**Cost:**" in description
    if endpoint.budget:
        assert f"at most {endpoint.budget} DynamoDB call" in description
    if endpoint.stripe:
        assert f"{endpoint.stripe} Stripe API request" in description


@pytest.mark.parametrize("endpoint", DOCUMENTED, ids=lambda e: e.name)
def test_every_operation_id_is_its_path_functions_name(
    document: dict[str, Any], endpoint: Endpoint
) -> None:
    (route,) = import_module(endpoint.module).router.routes

    assert operation_of(document, endpoint)["operationId"] == route.endpoint.__name__


def test_operation_ids_are_unique_and_read_as_names(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]

    assert len(ids) == len(set(ids)) == len(DOCUMENTED)
    assert all(i.isidentifier() and "api_v1" not in i for i in ids), ids


@pytest.mark.parametrize("endpoint", DOCUMENTED, ids=lambda e: e.name)
def test_exactly_the_operations_that_require_the_session_declare_it(
    document: dict[str, Any], endpoint: Endpoint
) -> None:
    security = operation_of(document, endpoint).get("security")

    if endpoint.requires_session:
        assert security == [{"session": []}]
    else:
        assert security is None


def test_the_session_cookie_is_the_security_scheme(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["session"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey",
        "cookie",
        "access_token",
    )


def test_every_field_of_every_schema_has_a_description_and_an_example(
    document: dict[str, Any],
) -> None:
    bare = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("description") or not spec.get("examples")
    ]

    assert bare == []


def test_every_parameter_has_a_description_and_an_example(
    document: dict[str, Any],
) -> None:
    bare = [
        (path, parameter["name"])
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description") or "example" not in parameter
    ]

    assert bare == []


@pytest.mark.parametrize("endpoint", DOCUMENTED, ids=lambda e: e.name)
def test_every_error_response_enumerates_real_codes_of_its_status(
    document: dict[str, Any], endpoint: Endpoint
) -> None:
    known = {**answered_codes(), **GUARD_CODES}

    for status, response in operation_of(document, endpoint)["responses"].items():
        if status[0] not in "45":
            continue
        schema = response["content"][PROBLEM_MEDIA_TYPE]["schema"]
        enum = schema["allOf"][1]["properties"]["code"]["enum"]
        assert enum, status
        for code in enum:
            assert known.get(code) == int(status), (status, code)


@pytest.mark.parametrize("endpoint", DOCUMENTED, ids=lambda e: e.name)
def test_a_route_lists_not_authenticated_exactly_when_it_requires_the_session(
    document: dict[str, Any], endpoint: Endpoint
) -> None:
    responses = operation_of(document, endpoint)["responses"]
    refusal = responses.get("401", {"content": {PROBLEM_MEDIA_TYPE: {"schema": None}}})
    schema = refusal["content"][PROBLEM_MEDIA_TYPE]["schema"]
    codes = schema["allOf"][1]["properties"]["code"]["enum"] if schema else []

    assert ("not_authenticated" in codes) == endpoint.requires_session
