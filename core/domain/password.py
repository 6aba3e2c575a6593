"""The password policy."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.errors import InvalidPassword

# Passwords are pre-hashed (HMAC-SHA256 with the pepper) before bcrypt, so bcrypt's
# 72-byte limit never truncates them; this cap only bounds the work one request may ask.
PASSWORD_MAX = 256


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Which plain-text passwords are acceptable; the minimum comes from settings."""

    min_length: int = 8
    max_length: int = PASSWORD_MAX

    def check(self, password: str) -> str:
        if len(password) < self.min_length:
            raise InvalidPassword(
                f"password must be at least {self.min_length} characters long"
            )
        if len(password) > self.max_length:
            raise InvalidPassword(
                f"password must be at most {self.max_length} characters long"
            )
        return password
