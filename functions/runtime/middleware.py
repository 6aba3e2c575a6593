"""An outer ASGI guard: body size and type, security headers, the last-resort 500."""

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


class _TooLarge(HTTPException):
    """An HTTP error, so that FastAPI's body reader passes it on (it turns any other
    error while reading into a 400) and the app's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body may be at most {limit} bytes")


class GuardMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
