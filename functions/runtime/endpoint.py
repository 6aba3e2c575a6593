"""``@endpoint``: the one declaration of an endpoint, on its path function.

The decorator gives the function's module what Lambda and the local app look
for: ``router``, holding the one route, and ``handler``, the Lambda entry point
(``functions.http.<name>.handler``); it returns the function unchanged. Its
arguments, and those of ``@sample``, ``@who`` and ``@counts`` under it, are also
read, without importing the module, by ``functions.catalog`` (so they hold literals,
the module's constants and the names of ``functions.permissions`` only, as
``api.p.X``). Endpoint modules reach all this through ``functions.runtime.api``.

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

from functions.permissions import AUTHENTICATED, uses_stripe
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
from functions.runtime.startup import on_event_loop, prepare

__all__ = [
    "AUTHENTICATED",
    "ClientAddress",
    "ContainerDep",
    "CurrentAuth",
    "EmailSegment",
    "OptionalAuth",
    "PathSegment",
    "endpoint",
]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# A path parameter: a username or an id, bounded before any lookup.
PathSegment = Annotated[str, Path(max_length=64)]
# An email address as a path parameter (an organization's invitation is one per
# address), bounded as the address itself is.
EmailSegment = Annotated[str, Path(max_length=320)]
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


# A route's own error statuses: what each means on it ("" for the usual meaning), or
# ``(meaning, *codes)`` where it carries codes of its own, or an ``Answer``.
Problems = Mapping[int, str | Answer | tuple[str, ...]]
_MORE = "__endpoint_more__"
_DECLARED = "__endpoint_route__"


def _more(function: Callable[..., Any], decorator: str) -> dict[str, Any]:
    """What the decorators under ``@endpoint`` said of ``function``."""
    if hasattr(function, _DECLARED):
        raise TypeError(f"@{decorator} goes below @endpoint: the route is declared")
    more: dict[str, Any] = vars(function).setdefault(_MORE, {"problems": {}})
    return more


def _says(decorator: str, **said: Any) -> Callable[[_F], _F]:
    def add(function: _F) -> _F:
        _more(function, decorator).update(said)
        return function

    return add


def problems(*tables: Problems) -> Callable[[_F], _F]:
    """The route's own error statuses (``endpoint``'s ``problems``), on a line of
    their own under ``@endpoint``; several tables merge, the last one winning."""

    def add(function: _F) -> _F:
        for table in tables:
            _more(function, "problems")["problems"].update(table)
        return function

    return add


def counts(statuses: Mapping[int, str], /) -> Callable[[_F], _F]:
    """The business metric each answer status adds one to (``endpoint``'s
    ``counts``), under ``@endpoint``."""
    return _says("counts", counts=statuses)


def responses(table: Mapping[int, Mapping[str, Any]], /) -> Callable[[_F], _F]:
    """What a success's response documents beyond its body, such as headers
    (``endpoint``'s ``responses``), under ``@endpoint``."""
    return _says("responses", responses=table)


def openapi_extra(extra: dict[str, Any], tag: str | None = None) -> Callable[[_F], _F]:
    """What the docs say of the route beyond what FastAPI infers (``endpoint``'s
    ``openapi_extra``), and the ``tag`` it is listed under, under ``@endpoint``."""
    return _says("openapi_extra", openapi_extra=extra, tag=tag)


def who(caller: str, /) -> Callable[[_F], _F]:
    """Who may call the route (``endpoint``'s ``who``), under ``@endpoint``."""
    return _says("who", who=caller)


def sample(**parts: Any) -> Callable[[_F], _F]:
    """The sample request (``endpoint``'s ``sample``: ``path``, ``query``, ``body``
    or ``body_file``, ``headers``), under ``@endpoint``. Only the catalog reads it,
    from the source: at run time it changes nothing."""
    return _says("sample")


def endpoint(
    route: str,
    permissions: tuple[str, ...] = (),
    *,
    budget: int | None = None,
    stripe: int | None = None,
    sample: dict[str, Any] | None = None,
    status: int | None = None,
    problems: Problems | None = None,
    who: str | None = None,
    in_docs: bool = True,
    tag: str | None = None,
    responses: Mapping[int, Mapping[str, Any]] | None = None,
    openapi_extra: dict[str, Any] | None = None,
    counts: Mapping[int, str] | None = None,
) -> Callable[[_F], _F]:
    """Declare the endpoint ``route`` ("METHOD /path") served by the decorated
    function, answering ``status`` (by default 204 if it returns None, else 200).
    ``budget``, ``stripe`` (by default 1 where ``permissions`` reach Stripe, else
    0), ``sample`` and ``who`` are read by the catalog (the round-trip walk, the
    sample events, the README); ``problems`` (``Problems``) adds the route's own
    error statuses to the standard ones; ``responses`` documents a success's
    headers; ``counts`` names the business metric each answer status adds one to
    (``functions.runtime.observability``). ``@who``, ``@problems``, ``@sample``,
    ``@counts``, ``@responses`` and ``@openapi_extra`` under it say the same as the
    keyword of their name, on lines of their own."""
    method, _, path = route.partition(" ")
    if stripe is None:
        stripe = 1 if uses_stripe(permissions) else 0

    def declare(function: _F) -> _F:
        more = vars(function).get(_MORE, {"problems": {}})
        extra = openapi_extra or more.get("openapi_extra")
        listed = tag or more.get("tag")
        setattr(function, _DECLARED, route)
        # The path's first segment after the version groups the docs.
        section = [*path.split("/"), "", ""][3]
        router = APIRouter(tags=[listed or section or function.__name__])
        returns = inspect.signature(function).return_annotation
        success = status or (204 if returns in (None, "None") else 200)
        no_body: dict[str, Any] = {"response_class": Response} if success == 204 else {}
        success_responses: dict[int | str, dict[str, Any]] = {
            code: dict(response)
            for code, response in (responses or more.get("responses", {})).items()
        }
        router.add_api_route(
            path,
            on_event_loop(function),
            methods=[method],
            status_code=success,
            include_in_schema=in_docs,
            **no_body,
            # The function's name: what a generated client calls the operation.
            operation_id=function.__name__,
            responses=success_responses,
            openapi_extra=extra,
        )
        (added,) = router.routes
        assert isinstance(added, APIRoute)
        session = requires_session(added.dependant)
        summary = inspect.getdoc(sys.modules[function.__module__]) or ""
        caller = who or more.get("who")
        added.description = _description(summary, caller, session, budget, stripe)
        if session:
            security: list[dict[str, list[str]]] = [{SESSION_SCHEME: []}]
            added.openapi_extra = {**(extra or {}), "security": security}
        own = {**more["problems"], **(problems or {})}
        derived = _standard_statuses(added, method, bool(permissions), stripe)
        statuses: dict[int, str | Answer] = dict.fromkeys(derived, "")
        statuses.update(
            {k: answer(*v) if isinstance(v, tuple) else v for k, v in own.items()}
        )
        added.responses.update(documented(dict(sorted(statuses.items())), derived))
        module = sys.modules[function.__module__]
        counted = counts or more.get("counts")
        vars(module).update(router=router, handler=lambda_handler(router, counted))
        # In Lambda, init builds what the first request needs: the container, the
        # clients of these permissions, the interactors the function calls. A
        # function without permissions touches no AWS service and holds no secret:
        # it builds nothing it does not use.
        if permissions:
            called = (
                *function.__code__.co_names,
                *(("authenticate",) if session else ()),
            )
            prepare(permissions, called)
        return function

    return declare
