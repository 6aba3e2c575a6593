"""An outer ASGI guard: body size and type, the origin of state changes, security
headers, the last-resort 500."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.runtime.errors import internal_error_response
from functions.runtime.problems import problem_response

# Answers that carry a user's data must never be cached or content-sniffed.
_PRIVATE_PREFIXES = (
    "/api/v1/account",
    "/api/v1/users",
    "/api/v1/tasks",
    "/api/v1/billing",
)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def refuses_body_type(method: str, headers: dict[bytes, bytes]) -> bool:
    """A state-changing request whose body is not declared JSON is refused.

    HTML forms and no-cors fetches can only send form, multipart or text bodies (or
    an untyped blob): refusing those before any work means a cross-site request can
    never ride the session cookie into a state change.
    """
    if method not in _STATE_CHANGING:
        return False
    content_type = headers.get(b"content-type")
    if content_type is not None:
        return not _is_json(content_type)
    has_body = headers.get(b"content-length", b"0") != b"0" or (
        b"transfer-encoding" in headers
    )
    return has_body


# Stripe's webhook is called by Stripe's servers, never by a browser, and proves
# itself with a signature: no origin to check.
ORIGIN_EXEMPT_PATHS = frozenset({"/api/v1/webhooks/stripe"})
_SAME_SITE_FETCHES = frozenset({b"same-origin", b"none"})


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def own_origin(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
    """The API's own origin, as the request names it (its Host, and its scheme as
    API Gateway reports it to Mangum)."""
    host = headers.get(b"host")
    if not host:
        return None
    scheme = headers.get(b"x-forwarded-proto", str(scope.get("scheme", "")).encode())
    return normalize_origin(f"{scheme.decode('latin-1')}://{host.decode('latin-1')}")


def refuses_origin(
    scope: Scope, headers: dict[bytes, bytes], allowed: frozenset[str]
) -> bool:
    """A state-changing request from a page of another site is refused.

    Browsers send ``Origin`` on every POST, PUT, PATCH and DELETE: it must be the
    API's own origin or one of ``allowed`` (the stage's front ends). Without it, a
    ``Sec-Fetch-Site`` other than ``same-origin`` or ``none`` (typed by the user)
    is refused too. A request with neither header is not a browser's (a server,
    curl, a mobile app) and carries no ambient cookie risk: it passes.
    """
    if str(scope.get("method", "")) not in _STATE_CHANGING:
        return False
    if str(scope.get("path", "")) in ORIGIN_EXEMPT_PATHS:
        return False
    origin = headers.get(b"origin")
    if origin is not None:
        name = normalize_origin(origin.decode("latin-1"))
        return name not in allowed and name != own_origin(scope, headers)
    fetch_site = headers.get(b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in _SAME_SITE_FETCHES
    return False


class _TooLarge(HTTPException):
    """An HTTP error, so that FastAPI's body reader passes it on (it turns any other
    error while reading into a 400) and the app's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body may be at most {limit} bytes")


class GuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        allowed_origins: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.allowed_origins = frozenset(normalize_origin(o) for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        private = str(scope.get("path", "")).startswith(_PRIVATE_PREFIXES)
        started = False

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        headers = dict(scope.get("headers", ()))
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(scope, receive, guarded_send)
            return
        if refuses_origin(scope, headers, self.allowed_origins):
            response = problem_response(
                403,
                "origin_not_allowed",
                "state-changing requests are accepted only from the app's own pages",
            )
            await response(scope, receive, guarded_send)
            return
        if refuses_body_type(str(scope.get("method", "")), headers):
            response = problem_response(
                415, "unsupported_media_type", "send the body as application/json"
            )
            await response(scope, receive, guarded_send)
            return

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not started:
                await self._too_large(scope, receive, guarded_send)
        except Exception as exc:  # the last resort: never leak internals
            if started:
                raise
            await internal_error_response(exc)(scope, receive, guarded_send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "payload_too_large",
            f"the body may be at most {self.max_body_bytes} bytes",
        )
        await response(scope, receive, send)
