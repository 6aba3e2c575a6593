"""Problem details (RFC 9457), the body of every error; and response documentation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from functions.runtime.glossary import describe_fields

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


@dataclass(frozen=True, slots=True)
class Answer:
    """What an error status means on a route, and the problem ``code``s it carries
    there (a route's ``problems`` gives a plain string where the usual codes hold)."""

    meaning: str
    codes: tuple[str, ...]


def answer(meaning: str, *codes: str) -> Answer:
    return Answer(meaning, codes)


# The codes an error status carries unless a route's ``Answer`` names others.
USUAL_CODES: dict[int, tuple[str, ...]] = {
    400: ("invalid_signature",),
    401: ("not_authenticated",),
    402: ("plan_required",),
    403: ("forbidden",),
    404: ("user_not_found",),
    409: ("concurrent_update",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("invalid_input",),
    429: ("too_many_attempts",),
    503: ("dependency_unavailable",),
}


def problem_schema(codes: Iterable[str]) -> dict[str, Any]:
    """A problem document whose ``code`` is one of ``codes``."""
    enum = {"type": "string", "enum": sorted(set(codes))}
    return {
        "allOf": [
            {"$ref": f"{_SCHEMAS}Problem"},
            {"type": "object", "properties": {"code": enum}},
        ]
    }


def problems(
    statuses: Mapping[int, str | Answer],
    derived: Mapping[int, Iterable[str]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error statuses, all problem details.

    Each status maps to what it means on that route ("": what it means on any), or
    to an ``Answer`` that also names its codes; ``derived`` adds the codes that the
    route's shape implies (the session, its AWS services, the guard middleware).
    Only ``application/problem+json`` is documented, because only it is sent.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status, meant in statuses.items():
        meaning = meant.meaning if isinstance(meant, Answer) else meant
        codes = meant.codes if isinstance(meant, Answer) else USUAL_CODES[status]
        codes = (*codes, *(derived or {}).get(status, ()))
        response: dict[str, Any] = {
            "description": meaning or MEANINGS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_schema(codes)}},
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
    """Put the schemas that ``problems()`` refers to into ``app``'s OpenAPI document,
    with the session's security scheme and the glossary's field descriptions.

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
            components["securitySchemes"] = {SESSION_SCHEME: _SESSION}
            describe_fields(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_ORIGIN_REFUSED = (
    "`origin_not_allowed`: the request came from a page of another site (its Origin "
    "or Sec-Fetch-Site)"
)
# The session cookie as an OpenAPI security scheme: the routes that require it say
# so, and Swagger UI shows who must log in first.
SESSION_SCHEME = "session"
_SESSION = {
    "type": "apiKey",
    "in": "cookie",
    "name": "access_token",
    "description": "The session cookie that POST /api/v1/account/login sets; a "
    "browser sends it by itself once logged in",
}


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
                refused = answer(_ORIGIN_REFUSED, "origin_not_allowed")
                responses["403"] = problems({403: refused})[403]
                continue
            refusal = responses["403"]
            refusal["description"] += f"; or {_ORIGIN_REFUSED}"
            code = refusal["content"][PROBLEM_MEDIA_TYPE]["schema"]["allOf"][1]
            enum = code["properties"]["code"]["enum"]
            enum[:] = sorted({*enum, "origin_not_allowed"})


STRING = {"type": "string"}


def header(description: str) -> dict[str, Any]:
    """A string header that a success always carries, as an OpenAPI response
    header."""
    return {"description": description, "required": True, "schema": STRING}


def raw_body(schema: dict[str, Any], description: str, *headers: str) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads its body raw, which FastAPI
    cannot infer: the JSON body it expects, and the string headers it requires."""
    content = {"application/json": {"schema": schema}}
    body = {"required": True, "description": description, "content": content}
    required = [{"name": h, "in": "header", "required": True} for h in headers]
    return {
        "requestBody": body,
        "parameters": [{**parameter, "schema": STRING} for parameter in required],
    }


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
USER_CHANGED = answer("The user changed meanwhile; try again", "concurrent_update")
BAD_LINK = answer("The token is unknown, used or expired", "invalid_token")
LINK_USER_CHANGED = answer(
    "The account changed meanwhile; ask for a new link", "concurrent_update"
)
NO_SUBSCRIPTION = answer("No live subscription", "no_subscription", "concurrent_update")
TAKEN = answer("The username or the email is taken", "username_taken", "email_taken")
# A page's cursor or size that the server refuses (forged, stale, out of range).
PAGING = answer("", "invalid_input", "invalid_cursor", "invalid_page_request")


def _over_a_user(forbidden: str) -> dict[int, str | Answer]:
    too_long = "The username in the path is too long"
    return {403: forbidden, 404: "", 409: USER_CHANGED, 422: too_long}


# The problems of the admin routes that act on the user named in their path.
OVER_A_SUBORDINATE = _over_a_user(
    "Not an admin over this user, or the user is oneself or a super admin"
)
OVER_AN_ADMIN = _over_a_user("Not a super admin, or the user is a super admin")


# The organization routes: a non-member, or an id that names no organization, gets
# the same 404 (never a 403 that would confirm the organization exists); a member
# whose role does not allow the action gets a 403.
NOT_A_MEMBER = answer(
    "No such organization, or one the caller is not a member of",
    "organization_not_found",
)
ORG_ROLE_REFUSED = answer(
    "A member of the organization whose role does not allow this", "forbidden"
)
INVITATION_REFUSED = answer(
    "The link names no pending invitation (unknown, revoked or replaced)",
    "invitation_invalid",
)
