"""``@endpoint``: the one declaration of an endpoint, on its path function.

The decorator gives the function's module what Lambda and the local app look
for: ``router``, holding the one route, and ``handler``, the Lambda entry point
(``functions.http.<name>.handler``); it returns the function unchanged. Its
arguments are also read, without importing the module, by ``functions.catalog``
(so they hold literals and the names of ``functions.permissions`` only).

The error responses every route shares are derived here, never listed by hand: 401
where the route requires the session, 413 always (the guard middleware), 415 on
state-changing methods, 422 where the route takes input, 409 and 503 where it calls
Stripe, 503 where it has AWS permissions, each with the problem codes it carries;
``problems`` adds the route's own, or says what a standard one means on it. So is
what the docs say of the route: its operation id (the function's name), its
description (the module's docstring, who may call it, what it costs) and, where it
requires the session, the session's security scheme.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from functions.permissions import AUTHENTICATED
from functions.runtime.app import lambda_handler
from functions.runtime.auth import (
    ClientAddress,
    ContainerDep,
    CurrentAuth,
    OptionalAuth,
    requires_session,
)
from functions.runtime.problems import SESSION_SCHEME, Answer, answer
from functions.runtime.problems import problems as documented

__all__ = [
    "AUTHENTICATED",
    "ClientAddress",
    "ContainerDep",
    "CurrentAuth",
    "OptionalAuth",
    "PathSegment",
    "endpoint",
]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# A path parameter: a username or an id, bounded before any lookup.
PathSegment = Annotated[str, Path(max_length=64)]
_F = TypeVar("_F", bound=Callable[..., Any])


def _takes_input(dependant: Dependant) -> bool:
    own = (dependant.path_params, dependant.query_params, dependant.body_params)
    return any(own) or any(_takes_input(sub) for sub in dependant.dependencies)


def _standard_statuses(
    route: APIRoute, method: str, aws: bool, stripe: int
) -> dict[int, tuple[str, ...]]:
    """The error statuses the route's shape implies, with the codes each carries."""
    statuses: dict[int, tuple[str, ...]] = {413: ("payload_too_large",)}
    if requires_session(route.dependant):
        statuses[401] = ("not_authenticated",)
    if method in STATE_CHANGING:
        statuses[415] = ("unsupported_media_type",)
    if _takes_input(route.dependant):
        statuses[422] = ("invalid_input",)
    if stripe:
        # Stripe refused the request (or no longer knows the customer).
        statuses[409] = ("payment_provider_rejected", "customer_missing")
    if aws or stripe:
        statuses[503] = ("dependency_unavailable",)
        statuses[503] += ("payment_provider_unavailable",) if stripe else ()
    return statuses


def _description(
    summary: str, who: str | None, session: bool, budget: int | None, stripe: int
) -> str:
    """The module's docstring, then who may call the route and what it costs."""
    caller = who or ("logged in" if session else "anyone")
    caller = caller[0].upper() + caller[1:]
    if session:
        caller += (", logged in" if who else "") + " (the session cookie)"
    calls = "no DynamoDB call" if not budget else f"at most {budget} DynamoDB calls"
    if budget == 1:
        calls = "at most 1 DynamoDB call"
    if stripe:
        calls += f" and {stripe} Stripe API request{'s' if stripe > 1 else ''}"
    return f"{summary}\n\n**Who:** {caller}.\n\n**Cost:** {calls}."


def endpoint(
    route: str,
    permissions: tuple[str, ...] = (),
    *,
    budget: int | None = None,
    stripe: int = 0,
    sample: dict[str, Any] | None = None,
    status: int | None = None,
    problems: Mapping[int, str | Answer | tuple[str, ...]] | None = None,
    who: str | None = None,
    in_docs: bool = True,
    tag: str | None = None,
    responses: Mapping[int, Mapping[str, Any]] | None = None,
    openapi_extra: dict[str, Any] | None = None,
    counts: Mapping[int, str] | None = None,
) -> Callable[[_F], _F]:
    """Declare the endpoint ``route`` ("METHOD /path") served by the decorated
    function, answering ``status`` (by default 204 if it returns None, else 200).
    ``budget``, ``stripe``, ``sample`` and ``who`` are read by the catalog
    (the round-trip walk, the sample events, the README); ``problems`` maps the
    route's own error statuses to what they mean on it ("" for the usual meaning),
    or to ``(meaning, *codes)`` where the status carries codes of its own;
    ``responses`` documents a success's headers; ``counts`` names the business
    metric each answer status adds one to (``functions.runtime.observability``)."""
    method, _, path = route.partition(" ")

    def declare(function: _F) -> _F:
        # The path's first segment after the version groups the docs.
        section = [*path.split("/"), "", ""][3]
        router = APIRouter(tags=[tag or section or function.__name__])
        returns = inspect.signature(function).return_annotation
        success = status or (204 if returns in (None, "None") else 200)
        no_body: dict[str, Any] = {"response_class": Response} if success == 204 else {}
        success_responses: dict[int | str, dict[str, Any]] = {
            code: dict(response) for code, response in (responses or {}).items()
        }
        router.add_api_route(
            path,
            function,
            methods=[method],
            status_code=success,
            include_in_schema=in_docs,
            **no_body,
            # The function's name: what a generated client calls the operation.
            operation_id=function.__name__,
            responses=success_responses,
            openapi_extra=openapi_extra,
        )
        (added,) = router.routes
        assert isinstance(added, APIRoute)
        session = requires_session(added.dependant)
        summary = inspect.getdoc(sys.modules[function.__module__]) or ""
        added.description = _description(summary, who, session, budget, stripe)
        if session:
            security: list[dict[str, list[str]]] = [{SESSION_SCHEME: []}]
            added.openapi_extra = {**(openapi_extra or {}), "security": security}
        own = problems or {}
        derived = _standard_statuses(added, method, bool(permissions), stripe)
        statuses: dict[int, str | Answer] = dict.fromkeys(derived, "")
        statuses.update(
            {k: answer(*v) if isinstance(v, tuple) else v for k, v in own.items()}
        )
        added.responses.update(documented(dict(sorted(statuses.items())), derived))
        module = sys.modules[function.__module__]
        vars(module).update(router=router, handler=lambda_handler(router, counts))
        return function

    return declare
