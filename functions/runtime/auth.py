"""The auth dependencies: the session cookie in, the current user out.

``CurrentAuth`` refuses anonymous requests and renews a session that runs low,
re-issuing the cookie on the same response. ``OptionalAuth`` only tells whether a
valid session came along (sign-up and log-in refuse logged-in users). ``LoggedIn``
is ``CurrentAuth`` with the container and the client's address: the one parameter
a route behind the session usually needs; ``MaybeLoggedIn`` is the same around
``OptionalAuth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant

from core.application.commands.authenticate import Authenticated
from core.application.errors import NotAuthenticated
from core.domain.billing import PlanCatalog
from core.domain.session import Session
from core.domain.user import User
from functions.runtime.container import Container, get_container
from functions.runtime.observability import identify
from functions.runtime.startup import on_event_loop

COOKIE_NAME = "access_token"


async def _container() -> Container:
    """The process's container. A coroutine, because FastAPI runs a plain function
    dependency in a worker thread: a thread hop on every request for what is, after
    the first call, an attribute read. In Lambda, init has built it
    (``functions.runtime.startup``) unless init failed, and then this call tries
    again (a 503 while it fails); elsewhere the first call builds it, blocking the
    event loop once."""
    return get_container()


ContainerDep = Annotated[Container, Depends(_container)]


def set_session_cookie(response: Response, token: str, container: Container) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=container.settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=container.settings.cookie_secure,
    )


def clear_session_cookie(response: Response, container: Container) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=container.settings.cookie_secure,
    )


@on_event_loop
def _current_auth(
    request: Request, response: Response, container: ContainerDep
) -> Authenticated:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise NotAuthenticated()
    auth = container.authenticate().execute(token)
    identify(auth.user.id)
    if auth.renewed_token is not None:
        set_session_cookie(response, auth.renewed_token, container)
    return auth


@on_event_loop
def _optional_auth(request: Request, container: ContainerDep) -> Authenticated | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        return container.authenticate().execute(token, renew=False)
    except NotAuthenticated:
        return None


CurrentAuth = Annotated[Authenticated, Depends(_current_auth)]
OptionalAuth = Annotated[Authenticated | None, Depends(_optional_auth)]


def requires_session(dependant: Dependant) -> bool:
    """Whether a route with this dependency tree refuses requests without a valid
    session: it depends on ``CurrentAuth``, directly or through another dependency."""
    return dependant.call is _current_auth or any(
        requires_session(sub) for sub in dependant.dependencies
    )


def _client_address(request: Request) -> str | None:
    """The address the request came from, as API Gateway saw it
    (``requestContext.http.sourceIp``, which Mangum hands over as the ASGI client):
    what per-client limits count by. ``None`` when unknown (a direct invocation)."""
    client = request.client
    return client.host if client is not None and client.host else None


ClientAddress = Annotated[str | None, Depends(on_event_loop(_client_address))]


@dataclass(frozen=True, slots=True)
class Caller:
    """A logged-in request: the container, who is asking (``auth``), and from where
    (``client``, as ``ClientAddress``)."""

    container: Container
    auth: Authenticated
    client: str | None

    @property
    def user(self) -> User:
        return self.auth.user

    @property
    def session(self) -> Session:
        return self.auth.session


async def _caller(
    request: Request, container: ContainerDep, auth: CurrentAuth
) -> Caller:
    # A coroutine, reading the address itself: no worker thread for a bundle.
    return Caller(container, auth, _client_address(request))


LoggedIn = Annotated[Caller, Depends(_caller)]


@dataclass(frozen=True, slots=True)
class Visitor:
    """A request that may come with or without a session (sign-up and log-in
    refuse a logged-in one): the container, ``auth`` as ``OptionalAuth`` gives it,
    and ``client``."""

    container: Container
    auth: Authenticated | None
    client: str | None

    @property
    def user(self) -> User | None:
        return self.auth.user if self.auth else None


async def _visitor(
    request: Request, container: ContainerDep, auth: OptionalAuth
) -> Visitor:
    return Visitor(container, auth, _client_address(request))


MaybeLoggedIn = Annotated[Visitor, Depends(_visitor)]


def require_feature(feature: str) -> Any:
    """A dependency for routes behind a plan: the logged-in user, or 402
    ``plan_required`` naming the plans that include ``feature``. Costs no read: the
    user loaded by authentication carries the subscription."""

    @on_event_loop
    def check(container: ContainerDep, auth: CurrentAuth) -> Authenticated:
        from core.application import billing

        billing.require_feature(
            container.billing_config, auth.user, feature, container.clock.now()
        )
        return auth

    return Depends(check)


async def _plan_catalog() -> PlanCatalog:
    # Imported here: only the plans route loads the plan file's schema.
    from functions.runtime.plans import get_plan_catalog

    return get_plan_catalog()


# The plans alone: a public route with them builds no container (no AWS, no secrets).
PlanCatalogDep = Annotated[PlanCatalog, Depends(_plan_catalog)]


def logged_in_with(feature: str) -> Any:
    """``LoggedIn`` on a route behind a plan (``require_feature``): the caller, or
    402 ``plan_required``."""

    on_the_plan = require_feature(feature)

    async def caller(
        request: Request, container: ContainerDep, auth: Authenticated = on_the_plan
    ) -> Caller:
        return Caller(container, auth, _client_address(request))

    return Depends(caller)
