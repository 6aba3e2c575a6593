"""An outer ASGI guard: body size limit, security headers, and the last-resort 500."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.runtime.errors import internal_error_response
from functions.runtime.problems import problem_response

# Answers that carry a user's data must never be cached or content-sniffed.
_PRIVATE_PREFIXES = ("/api/v1/account", "/api/v1/users")


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

        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (
                not value.isdigit() or int(value) > limit
            ):
                await self._too_large(scope, receive, guarded_send)
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
