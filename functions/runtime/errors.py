"""The one table from core error types to HTTP statuses, and the handlers that use it.

Core raises typed errors with stable codes; only this module knows HTTP. Anything
unexpected becomes a 500 that carries no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.application import errors as app
from core.domain import errors as domain
from core.domain import organization as orgs
from core.domain import seats
from functions.runtime.problems import problem_response

logger = logging.getLogger("strata")

# error type -> (status, the body field a 422 points at, if any)
ERROR_STATUS: dict[type[Exception], tuple[int, str | None]] = {
    domain.InvalidUsername: (422, "username"),
    domain.InvalidEmail: (422, "email"),
    domain.InvalidPassword: (422, "password"),
    domain.InvalidRole: (422, "role"),
    app.CurrentPasswordRequired: (422, "current_password"),
    app.InvalidCursor: (422, "cursor"),
    app.InvalidPageRequest: (422, "limit"),
    app.UnknownPlan: (422, "plan"),
    app.PriceUnavailable: (422, None),
    app.BankTransferUnavailable: (422, "payment_method"),
    app.InvalidProrationToken: (422, "proration_token"),
    app.PlanRequired: (402, None),
    app.PaymentFailed: (402, None),
    seats.SeatsExhausted: (402, None),
    app.NotAuthenticated: (401, None),
    app.InvalidCredentials: (401, None),
    app.AccountInactive: (403, None),
    app.EmailNotVerified: (403, None),
    app.AlreadyAuthenticated: (403, None),
    app.PermissionDenied: (403, None),
    app.WrongPassword: (403, None),
    app.UserNotFound: (404, None),
    app.TaskNotFound: (404, None),
    app.InvalidToken: (400, None),
    app.UsernameTaken: (409, None),
    app.EmailTaken: (409, None),
    app.ConcurrentUpdate: (409, None),
    app.AlreadySubscribed: (409, None),
    app.SubscriptionExists: (409, None),
    app.NoSubscription: (409, None),
    app.NoBillingAccount: (409, None),
    app.PaymentProviderRejected: (409, None),
    app.InvalidSignature: (400, None),
    app.TooManyAttempts: (429, None),
    app.DependencyUnavailable: (503, None),
    # Organizations.
    orgs.InvalidOrgName: (422, "name"),
    orgs.InvalidOrgRole: (422, "role"),
    orgs.OrganizationNotFound: (404, None),
    orgs.MemberNotFound: (404, None),
    orgs.LastOwner: (409, None),
    orgs.AlreadyMember: (409, None),
    orgs.InvitationInvalid: (400, None),
    orgs.InvitationExpired: (410, None),
    orgs.InvitationUsed: (410, None),
    orgs.InvitationEmailMismatch: (403, None),
}

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def status_of(exc: Exception) -> tuple[int, str | None]:
    for kind in type(exc).__mro__:
        if kind in ERROR_STATUS:
            return ERROR_STATUS[kind]
    return 500, None


def core_error_response(exc: domain.DomainError | app.ApplicationError) -> JSONResponse:
    status, field = status_of(exc)
    if status == 500:
        return internal_error_response(exc)
    errors = None
    if status == 422:
        location: list[str | int] = [
            "query" if field in ("cursor", "limit") else "body"
        ]
        errors = [
            {"loc": [*location, field] if field else location, "msg": exc.message}
        ]
    if isinstance(exc, app.DependencyUnavailable):
        logger.error("dependency unavailable", exc_info=exc.__cause__ or exc)
    headers = None
    if isinstance(exc, app.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    extra: dict[str, Any] | None = None
    if isinstance(exc, app.PlanRequired):
        extra = {"plans": exc.plans}
    elif isinstance(exc, app.PaymentFailed):
        extra = {"payment_url": exc.payment_url}
    return problem_response(status, exc.code, exc.message, errors, headers, extra)


def internal_error_response(exc: BaseException) -> JSONResponse:
    logger.error("unhandled error", exc_info=exc)
    return problem_response(500, "internal_error", "something went wrong on our side")


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: the rejected input is never echoed back.
    return [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
            "msg": str(e.get("msg", "invalid value")),
        }
        for e in exc.errors()
    ]


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method the request's path answers to, for a 405's ``Allow``.

    Starlette names only the methods of the first route whose path matched; with
    one router per endpoint, a path served by two endpoints (GET and POST
    /api/v1/users) would advertise only one of them.
    """
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in routes
        )
    )


def install_error_handlers(app_: FastAPI) -> None:
    async def on_core_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, domain.DomainError | app.ApplicationError)
        return core_error_response(exc)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(
            422, "invalid_input", "the request is not valid", _validation_errors(exc)
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's answer to a JSON body its parser gives up on before any
            # validation (bytes that are not UTF-8, nesting deeper than the parser
            # recurses): invalid input like any other malformed body.
            return problem_response(
                422,
                "invalid_input",
                "the request is not valid",
                [{"loc": ["body"], "msg": "the body is not valid JSON"}],
            )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem_response(
            exc.status_code,
            _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"),
            str(exc.detail),
            headers=headers,
        )

    app_.add_exception_handler(domain.DomainError, on_core_error)
    app_.add_exception_handler(app.ApplicationError, on_core_error)
    app_.add_exception_handler(RequestValidationError, on_validation_error)
    app_.add_exception_handler(StarletteHTTPException, on_http_error)
