"""``@endpoint``: the one declaration of an endpoint, on its path function.

The decorator gives the function's module what Lambda and the local app look
for: ``router``, holding the one route, and ``handler``, the Lambda entry point
(``functions.http.<name>.handler``); it returns the function unchanged. Its
arguments are also read, without importing the module, by ``functions.catalog``
(so they hold literals and the names of ``functions.permissions`` only).

The error responses every route shares are derived here, never listed by hand: 401
where the route requires the session, 413 always (the guard middleware), 415 on
state-changing methods, 422 where the route takes input, 503 where it has AWS
permissions; ``problems`` adds the route's own, or says what a standard one means
on it.
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


def _standard_statuses(route: APIRoute, method: str, aws: bool) -> list[int]:
    statuses = [413]
    if requires_session(route.dependant):
        statuses.append(401)
    if method in STATE_CHANGING:
        statuses.append(415)
    if _takes_input(route.dependant):
        statuses.append(422)
    if aws:
        statuses.append(503)
    return statuses


def endpoint(
    route: str,
    permissions: tuple[str, ...] = (),
    *,
    budget: int | None = None,
    stripe: int = 0,
    sample: dict[str, Any] | None = None,
    status: int | None = None,
    problems: Mapping[int, str] | None = None,
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
    route's own error statuses to what they mean on it ("" for the usual meaning);
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
            description=inspect.getdoc(sys.modules[function.__module__]),
            responses=success_responses,
            openapi_extra=openapi_extra,
        )
        (added,) = router.routes
        assert isinstance(added, APIRoute)
        aws = bool(permissions)
        statuses = dict.fromkeys(_standard_statuses(added, method, aws), "")
        statuses.update(problems or {})
        added.responses.update(documented(dict(sorted(statuses.items()))))
        module = sys.modules[function.__module__]
        vars(module).update(router=router, handler=lambda_handler(router, counts))
        return function

    return declare
