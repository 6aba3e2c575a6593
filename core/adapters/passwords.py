"""``PasswordHasher`` with a pepper and bcrypt."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cached_property

import bcrypt


class BcryptPasswordHasher:
    """HMAC-SHA256 with a secret pepper, then salted bcrypt.

    The pre-hash gives bcrypt a fixed 44-byte input, so no password is silently cut
    at bcrypt's 72 bytes, and a stolen table alone cannot be cracked without the
    pepper.
    """

    def __init__(self, pepper: str, rounds: int = 12) -> None:
        self._pepper = pepper.encode()
        self._rounds = rounds

    def _prehash(self, password: str) -> bytes:
        # surrogatepass: a lone surrogate is still a password, not a crash.
        data = password.encode("utf-8", "surrogatepass")
        digest = hmac.new(self._pepper, data, hashlib.sha256).digest()
        return base64.b64encode(digest)

    def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(rounds=self._rounds)
        return bcrypt.hashpw(self._prehash(password), salt).decode()

    def verify(self, password: str, password_hash: str) -> bool:
        try:
            return bcrypt.checkpw(self._prehash(password), password_hash.encode())
        except ValueError:
            return False

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hash("dummy password to spend the time of a real check")

    def dummy_verify(self, password: str) -> None:
        self.verify(password, self._dummy_hash)
