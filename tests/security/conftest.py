"""The security suite attacks the handlers as deployed: Lambda events in, through
the real adapters on moto. Each test fails if the defence it names is removed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from tests.functions.conftest import Api, api, assert_problem

__all__ = ["Api", "api", "assert_problem", "b64url", "craft_token"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft_token(
    claims: dict[str, Any], *, alg: str = "HS256", key: bytes | None = None
) -> str:
    """A JWT made by hand, as an attacker would: any header, any HMAC key (none
    for an empty signature)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = (
        b"" if key is None else hmac.new(key, signing_input, hashlib.sha256).digest()
    )
    return f"{header}.{payload}.{b64url(signature)}"
