"""``CursorCodec`` signed with HMAC-SHA256."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from core.application.errors import InvalidCursor
from core.application.ports import Position

# Cursors we mint are a few hundred characters; anything far longer is not ours.
MAX_CURSOR_LENGTH = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    # validate=True: one cursor, one spelling; stray characters are not skipped.
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


class HmacCursorCodec:
    """``<payload>.<mac>``, base64url; the MAC covers the scope and the payload, so a
    cursor can be neither altered nor replayed against another query."""

    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the secret: a cursor can never be a token.
        self._key = hmac.new(secret.encode(), b"strata-cursor", hashlib.sha256).digest()

    def _mac(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(
            self._key, scope.encode() + b"\0" + payload, hashlib.sha256
        ).digest()

    def encode(self, position: Position, scope: str) -> str:
        payload = json.dumps(
            dict(position), sort_keys=True, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(scope, payload))}"

    def decode(self, cursor: str, scope: str) -> Position:
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise InvalidCursor()
        payload_text, mac_text = cursor.split(".")
        try:
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            raise InvalidCursor() from None
        if not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise InvalidCursor()
        try:
            position = json.loads(payload)
        except ValueError:
            raise InvalidCursor() from None
        if not isinstance(position, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in position.items()
        ):
            raise InvalidCursor()
        return position
