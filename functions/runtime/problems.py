"""Problem details (RFC 9457), the body of every error; and response documentation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

PROBLEM_MEDIA_TYPE = "application/problem+json"
_SCHEMAS = "#/components/schemas/"


class InputError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """The documented shape of every 4xx and 5xx response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[InputError] | None = None
    # 402 only: the plans that include the feature asked for.
    plans: list[str] | None = None
    # 402 ``payment_failed`` only: where to pay (the invoice's page, or the portal).
    payment_url: str | None = None


def problem_response(
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


# What an error status means on this API, unless a route says it more precisely.
# 413 and 415 come from the guard middleware before any route code runs: 413 on
# any request (a Content-Length or a body over the limit), 415 on state-changing
# ones only.
MEANINGS: dict[int, str] = {
    400: "The webhook's Stripe-Signature is missing, wrong or too old",
    401: "Not logged in: no, bad or expired session cookie, or the session ended",
    402: "Your plan does not include this feature; `plans` names those that do",
    403: "Logged in, but not allowed to do this",
    404: "No such user",
    409: "Conflict with the stored state",
    413: "The body is over the size limit",
    415: "A state-changing request whose body is not declared application/json",
    422: "Invalid input; `errors` names each field and what is wrong with it",
    429: "Too many attempts (a rate limit); retry after Retry-After seconds",
    503: "A service we depend on is unavailable; try again",
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Whole seconds until attempts are accepted again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def problems(statuses: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error statuses, all problem details.

    Each status maps to what it means on that route ("": what it means on any).
    Only ``application/problem+json`` is documented, because only it is sent.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status, meaning in statuses.items():
        response: dict[str, Any] = {
            "description": meaning or MEANINGS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"{_SCHEMAS}Problem"}}},
        }
        if status == 429:
            response["headers"] = _RETRY_AFTER
        responses[status] = response
    return responses


def problem_schemas() -> dict[str, dict[str, Any]]:
    """``Problem`` and the models it uses, as OpenAPI component schemas."""
    schema = Problem.model_json_schema(
        ref_template=_SCHEMAS + "{model}", mode="serialization"
    )
    nested: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    return {"Problem": schema, **nested}


def document_problems(app: FastAPI) -> None:
    """Put the schemas that ``problems()`` refers to into ``app``'s OpenAPI document.

    ``problems()`` names no pydantic model (FastAPI would then also document the
    route's own media type, ``application/json``, which error responses never use),
    so FastAPI does not collect ``Problem`` by itself.
    """
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _document_origin_check(document)
            components = document.setdefault("components", {})
            components.setdefault("schemas", {}).update(problem_schemas())
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_ORIGIN_REFUSED = (
    "Not allowed; or, `origin_not_allowed`, the request came from a page of another "
    "site (its Origin or Sec-Fetch-Site)"
)


def _document_origin_check(document: dict[str, Any]) -> None:
    """The guard middleware refuses a state change from another site's page with
    403 ``origin_not_allowed`` on every route but Stripe's webhook: say so."""
    from functions.runtime.middleware import ORIGIN_EXEMPT_PATHS

    for path, operations in document.get("paths", {}).items():
        if path in ORIGIN_EXEMPT_PATHS:
            continue
        for method, operation in operations.items():
            if method.upper() not in {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            responses = operation.setdefault("responses", {})
            if "403" not in responses:
                responses["403"] = problems({403: _ORIGIN_REFUSED})[403]


def session_cookie_header() -> dict[str, Any]:
    """The ``Set-Cookie`` header of the routes that always set or clear the session
    cookie (``access_token``), as OpenAPI response headers."""
    return {
        "Set-Cookie": {
            "description": "access_token: the session's JWT (HttpOnly, SameSite=Lax, "
            "Path=/, Secure outside local), or its removal",
            "required": True,
            "schema": {"type": "string", "pattern": "^access_token="},
        }
    }


# What a problem means on the routes that share it (a route's ``problems``).
USER_CHANGED = "The user changed meanwhile; try again"
BAD_LINK = "The token is unknown, used or expired: `invalid_token`"
LINK_USER_CHANGED = "The account changed meanwhile; ask for a new link"
NO_SUBSCRIPTION = "No live subscription"
TAKEN = "The username or the email is taken"


def _over_a_user(forbidden: str) -> dict[int, str]:
    too_long = "The username in the path is too long"
    return {403: forbidden, 404: "", 409: USER_CHANGED, 422: too_long}


# The problems of the admin routes that act on the user named in their path.
OVER_A_SUBORDINATE = _over_a_user(
    "Not an admin over this user, or the user is oneself or a super admin"
)
OVER_AN_ADMIN = _over_a_user("Not a super admin, or the user is a super admin")
