"""Forged, expired and mismatched tokens are refused, at most one read spent."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.domain.session import Session
from core.domain.user import Role
from tests.conftest import DynamoCalls
from tests.security.conftest import Api, assert_problem, b64url, craft_token


def claims_of(api: Api, cookie: str) -> dict[str, Any]:
    token = cookie.split("=", 1)[1]
    read = api.container.tokens.read(token)
    return {
        "sid": read.session_id,
        "sub": read.user_id,
        "iat": int(time.time()) - 5,
        "exp": int(read.expires_at.timestamp()),
    }


def me_with(api: Api, token: str) -> None:
    reply = api.call("me", cookies=[f"access_token={token}"])
    assert_problem(reply, 401, "not_authenticated")


@pytest.fixture
def victim(api: Api) -> dict[str, Any]:
    """The claims of a real, live session: the best an attacker could copy."""
    return claims_of(api, api.as_("victim01"))


def test_a_token_with_alg_none_is_refused_without_a_read(
    api: Api, victim: dict[str, Any], dynamo_calls: DynamoCalls
) -> None:
    me_with(api, craft_token(victim, alg="none"))
    me_with(api, craft_token(victim, alg="None"))
    assert dynamo_calls.total == 0


def test_a_token_signed_with_another_key_is_refused_without_a_read(
    api: Api, victim: dict[str, Any], dynamo_calls: DynamoCalls
) -> None:
    me_with(api, craft_token(victim, key=b"not-the-secret-but-long-enough-0123"))
    assert dynamo_calls.total == 0


def test_rs_hs_confusion_attempts_are_refused_without_a_read(
    api: Api, victim: dict[str, Any], dynamo_calls: DynamoCalls
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # 1. a genuine RS256 token from the attacker's own key pair
    unsigned = craft_token(victim, alg="RS256").rsplit(".", 1)[0]
    signature = private.sign(unsigned.encode(), padding.PKCS1v15(), hashes.SHA256())
    me_with(api, f"{unsigned}.{b64url(signature)}")
    # 2. the classic confusion: HS256 keyed with a public key the server might hold
    me_with(api, craft_token(victim, alg="HS256", key=public_pem))
    # 3. a header claiming RS256 over an HMAC signature
    me_with(api, craft_token(victim, alg="RS256", key=public_pem))
    assert dynamo_calls.total == 0


def test_an_expired_token_is_refused_without_a_read(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    user = api.user("victim01")
    now = api.container.clock.now().replace(microsecond=0)
    session = Session(
        id="expired-session",
        user_id=user.id,
        created_at=now - timedelta(hours=1),
        expires_at=now - timedelta(minutes=1),
    )
    api.container.sessions.add(session)
    dynamo_calls.reset()

    me_with(api, api.container.tokens.issue(session))
    assert dynamo_calls.total == 0


def test_a_token_for_a_deleted_session_is_refused_after_one_read(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    cookie = api.as_("victim01")
    claims = claims_of(api, cookie)
    api.container.sessions.delete(claims["sid"])
    dynamo_calls.reset()

    me_with(api, cookie.split("=", 1)[1])
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1}


def test_a_validly_signed_token_with_its_user_id_swapped_is_refused_after_one_read(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    # The worst case: the attacker holds a signing key and points their own
    # session at an admin's user id. The session says whose it is.
    admin = api.user("admin001", role=Role.ADMIN)
    cookie = api.as_("attacker1")
    own = api.container.tokens.read(cookie.split("=", 1)[1])
    session, _ = api.container.sessions.get_with_user(own.session_id, own.user_id)
    assert session is not None
    forged = api.container.tokens.issue(replace(session, user_id=admin.id))
    dynamo_calls.reset()

    me_with(api, forged)
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1}


@pytest.mark.parametrize(
    "cookie",
    [
        "access_token=",
        "access_token=garbage",
        "access_token=a.b.c",
        "access_token=" + "A" * 4000,
        "access_token=eyJhbGciOiJIUzI1NiJ9.e30",
        'access_token="quoted"',
        "access_token=%00%ff",
    ],
    ids=["empty", "garbage", "three-dots", "huge", "two-parts", "quoted", "bytes"],
)
def test_a_malformed_cookie_is_refused_without_a_read(
    api: Api, cookie: str, dynamo_calls: DynamoCalls
) -> None:
    reply = api.call("me", cookies=[cookie])
    assert_problem(reply, 401, "not_authenticated")
    assert dynamo_calls.total == 0
