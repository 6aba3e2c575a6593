"""The OpenAPI document the fuzzer works from tells the truth about every answer a
route can give: its statuses, content types, bodies and headers."""

from __future__ import annotations

from typing import Any

from functions.catalog import ENDPOINTS
from functions.runtime.problems import PROBLEM_MEDIA_TYPE
from tests.fuzz.harness import APP, RAW_BODY_ROUTES, SCHEMA

PROBLEM = {"$ref": "#/components/schemas/Problem"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = APP.openapi()
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_fuzzer_covers_every_catalog_endpoint_in_the_docs() -> None:
    fuzzed = {
        (result.ok().method.upper(), result.ok().path)
        for result in SCHEMA.get_all_operations()
    }

    assert fuzzed == {(e.method, e.path) for e in ENDPOINTS if e.in_docs}


def test_every_error_answer_is_documented_as_problem_details_and_nothing_else() -> None:
    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response.get("content", {})) == {PROBLEM_MEDIA_TYPE}
                schema = response["content"][PROBLEM_MEDIA_TYPE]["schema"]
                assert schema["allOf"][0] == PROBLEM, (method, path, status)

    schemas = APP.openapi()["components"]["schemas"]
    assert {"Problem", "InputError"} <= set(schemas)
    assert "HTTPValidationError" not in schemas


def test_every_success_is_documented_with_its_body_or_as_having_none() -> None:
    for method, path, operation in operations():
        successes = {s: r for s, r in operation["responses"].items() if s[0] == "2"}
        assert len(successes) == 1, (method, path)
        [(status, response)] = successes.items()
        if status == "204":
            assert "content" not in response, (method, path)
        else:
            assert set(response["content"]) == {"application/json"}, (method, path)
            assert response["content"]["application/json"]["schema"], (method, path)


def test_every_route_documents_what_the_guard_middleware_answers_before_it() -> None:
    for method, path, operation in operations():
        documented = set(operation["responses"])
        takes_input = "parameters" in operation or "requestBody" in operation

        assert "413" in documented, (method, path)
        assert ("415" in documented) == (method in STATE_CHANGING), (method, path)
        if (method, path) in RAW_BODY_ROUTES:
            assert "400" in documented, (method, path)
            assert "422" not in documented, (method, path)
        elif takes_input:
            assert "422" in documented, (method, path)
        if path != "/api/v1/":  # the health check touches no AWS service
            assert "503" in documented, (method, path)


def test_the_log_in_throttle_and_the_session_cookie_are_documented_headers() -> None:
    paths = APP.openapi()["paths"]
    login = paths["/api/v1/account/login"]["post"]["responses"]
    logout = paths["/api/v1/account/logout"]["post"]["responses"]

    assert login["429"]["headers"]["Retry-After"]["required"] is True
    assert login["204"]["headers"]["Set-Cookie"]["required"] is True
    assert logout["204"]["headers"]["Set-Cookie"]["required"] is True
