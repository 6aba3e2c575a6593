"""``IdGenerator`` from random UUIDs."""

from __future__ import annotations

import uuid


class RandomIds:
    """122 random bits from the OS: unique, and unguessable for session ids."""

    def new_id(self) -> str:
        return uuid.uuid4().hex
