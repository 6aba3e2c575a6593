"""The catalog, the endpoint modules and the local app agree on every endpoint."""

from __future__ import annotations

import difflib
from dataclasses import replace
from importlib import import_module
from typing import Any

import pytest
from fastapi.routing import APIRoute
from mangum import Mangum

from functions.catalog import (
    ENDPOINTS,
    README,
    REGENERATE,
    Endpoint,
    readme_with_table,
)
from functions.runtime.observability import HttpHandler
from local import frontend
from local.dev_app import build_app
from local.harness import FakeLambdaContext, Reply, http_api_event

FASTAPI_OWN_PATHS = {"/docs", "/docs/oauth2-redirect", "/openapi.json"}
KNOWN_PERMISSIONS = {
    "users:read",
    "users:write",
    "sessions:read",
    "sessions:write",
    "tasks:read",
    "tasks:write",
    "queue:send",
    "exports:read",
    "exports:write",
    "email:send",
    "stripe:api",
    "stripe:webhook",
    "secrets:pepper",
    "users:list",
    "users:unverified",
    "users:subscribed",
    "sessions:by-user",
    "orgs:read",
    "orgs:write",
    "orgs:by-member",
    "invitations:by-token",
}


def test_catalog_names_methods_paths_and_modules_are_each_listed_once() -> None:
    names = [e.name for e in ENDPOINTS]
    routes = [(e.method, e.path) for e in ENDPOINTS]
    modules = [e.module for e in ENDPOINTS]

    assert len(set(names)) == len(names)
    assert len(set(routes)) == len(routes)
    assert len(set(modules)) == len(modules)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_catalog_module_has_a_handler_and_one_route_of_its_method_and_path(
    endpoint: Endpoint,
) -> None:
    module = import_module(endpoint.module)

    assert isinstance(module.handler, HttpHandler)
    assert isinstance(module.handler.inner, Mangum)
    routes = [r for r in module.router.routes if isinstance(r, APIRoute)]
    assert len(module.router.routes) == 1
    (route,) = routes
    assert route.path == endpoint.path
    assert route.methods == {endpoint.method}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_catalog_permission_is_one_the_infrastructure_knows(
    endpoint: Endpoint,
) -> None:
    assert set(endpoint.permissions) <= KNOWN_PERMISSIONS
    assert len(set(endpoint.permissions)) == len(endpoint.permissions)


def served_routes(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route, looking into included routers: recent FastAPI
    keeps an included router as one entry that points at the original."""
    served: set[tuple[str, str]] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            inner = prefix + getattr(context, "prefix", "")
            served |= served_routes(list(included.routes), inner)
        elif isinstance(route, APIRoute):
            served |= {(method, prefix + route.path) for method in route.methods or ()}
        else:
            path = prefix + str(getattr(route, "path", "?"))
            assert path in FASTAPI_OWN_PATHS, f"unexpected route {route!r}"
    return served


def test_the_local_app_serves_exactly_the_catalog_routes_and_the_dev_pages() -> None:
    served = served_routes(list(build_app().routes))
    pages = served_routes(list(frontend.router.routes))

    assert served == {(e.method, e.path) for e in ENDPOINTS} | pages
    assert all(method == "GET" for method, _ in pages)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_the_local_app_routes_each_catalog_entry_and_no_other_method_on_its_path(
    container: Any, endpoint: Endpoint
) -> None:
    local = Mangum(build_app(), lifespan="off")
    path = endpoint.path
    for name, value in {
        "username": "somebody",
        **endpoint.sample.get("path", {}),
    }.items():
        path = path.replace(f"{{{name}}}", value)

    def status(method: str) -> int:
        event = http_api_event(replace(endpoint, method=method), path)
        return Reply(local(event, FakeLambdaContext())).status

    assert status(endpoint.method) not in (404, 405)
    assert status(endpoint.method) < 500
    methods_on_path = {e.method for e in ENDPOINTS if e.path == endpoint.path}
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - methods_on_path:
        assert status(method) == 405, method


def test_the_openapi_document_lists_every_catalog_route_meant_for_it() -> None:
    document = build_app().openapi()

    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }

    assert documented == {(e.method, e.path) for e in ENDPOINTS if e.in_docs}


def test_every_documented_error_response_is_a_problem_document() -> None:
    document = build_app().openapi()

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "422":
                    assert "application/problem+json" in response["content"], (
                        method,
                        path,
                        status,
                    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_route_is_in_the_docs_exactly_when_the_catalog_says_so(
    endpoint: Endpoint,
) -> None:
    (route,) = [
        r
        for r in import_module(endpoint.module).router.routes
        if isinstance(r, APIRoute)
    ]

    assert route.include_in_schema is endpoint.in_docs


def test_the_docs_function_serves_the_document_the_local_app_serves(
    container: Any,
) -> None:
    from functions.catalog import BY_NAME

    reply = Reply(
        import_module("functions.http.openapi").handler(
            http_api_event(BY_NAME["openapi"]), FakeLambdaContext()
        )
    )
    page = Reply(
        import_module("functions.http.docs").handler(
            http_api_event(BY_NAME["docs"]), FakeLambdaContext()
        )
    )

    assert reply.status == 200
    assert reply.json() == build_app().openapi()
    assert page.status == 200
    assert "/openapi.json" in page.text
    assert "swagger-ui" in page.text


def test_the_readmes_api_table_is_the_one_the_declarations_give() -> None:
    current = README.read_text(encoding="utf-8")
    wanted = readme_with_table(current)

    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            "README.md",
            "README.md as the declarations give it",
        )
    )
    assert not diff, f"the README's API table is stale; run `{REGENERATE}`:\n{diff}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_endpoint_declares_what_the_readme_and_the_walk_need(
    endpoint: Endpoint,
) -> None:
    assert endpoint.summary, f"{endpoint.module}: give the module a docstring"
    assert endpoint.budget is not None, f"{endpoint.module}: declare budget="
    (route,) = import_module(endpoint.module).router.routes
    assert isinstance(route, APIRoute)
    required = [
        p.name for p in route.dependant.query_params if p.field_info.is_required()
    ]
    missing = [p for p in required if p not in endpoint.sample.get("query", {})]
    assert missing == [], f"{endpoint.module}: add {missing} to sample={{'query': ...}}"
    assert route.status_code == endpoint.status
