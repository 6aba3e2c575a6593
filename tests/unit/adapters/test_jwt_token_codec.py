"""The session token: HS256 pinned, expiry enforced, claims required.

Malicious tokens are built by hand (base64url, JSON, HMAC), so a refusal shows the
codec's checks at work rather than a library's refusal to make such a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from core.adapters.tokens import JwtTokenCodec
from core.application.errors import NotAuthenticated
from core.domain.session import Session

SECRET = "test-secret-of-a-decent-length-0123456789"
OTHER_SECRET = "another-secret-of-a-decent-length-987654"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(
    claims: dict[str, Any],
    *,
    alg: str = "HS256",
    key: str | None = SECRET,
    digest: Any = hashlib.sha256,
) -> str:
    header = {"alg": alg, "typ": "JWT"}
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    )
    signature = (
        b""
        if key is None
        else hmac.new(key.encode(), signing_input.encode(), digest).digest()
    )
    return f"{signing_input}.{b64(signature)}"


def good_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sid": "s-1",
        "sub": "u-1",
        "iat": now - 5,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def codec() -> JwtTokenCodec:
    return JwtTokenCodec(SECRET)


def live_session(lifetime: timedelta = timedelta(hours=1)) -> Session:
    now = datetime.now(UTC)
    return Session(
        id="s-1",
        user_id="u-1",
        created_at=now - timedelta(seconds=5),
        expires_at=now + lifetime,
    )


def test_an_issued_token_reads_back_as_its_session(codec: JwtTokenCodec) -> None:
    session = live_session()

    claims = codec.read(codec.issue(session))

    assert (claims.session_id, claims.user_id) == ("s-1", "u-1")
    assert claims.expires_at == session.expires_at.replace(microsecond=0)
    assert claims.expires_at.tzinfo is not None


def test_the_token_header_names_hs256(codec: JwtTokenCodec) -> None:
    assert jwt.get_unverified_header(codec.issue(live_session()))["alg"] == "HS256"


def test_a_hand_crafted_token_with_the_right_key_is_accepted(
    codec: JwtTokenCodec,
) -> None:
    # The control for the refusals below: the crafting itself is sound.
    assert codec.read(craft(good_claims())).session_id == "s-1"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_alg_none_token_is_refused(codec: JwtTokenCodec, alg: str) -> None:
    with pytest.raises(NotAuthenticated):
        codec.read(craft(good_claims(), alg=alg, key=None))


def test_an_hs256_token_signed_with_another_key_is_refused(
    codec: JwtTokenCodec,
) -> None:
    with pytest.raises(NotAuthenticated):
        codec.read(craft(good_claims(), key=OTHER_SECRET))
    with pytest.raises(NotAuthenticated):
        codec.read(JwtTokenCodec(OTHER_SECRET).issue(live_session()))


@pytest.mark.parametrize(
    ("alg", "digest"),
    [
        ("HS512", hashlib.sha512),
        ("HS384", hashlib.sha384),
        # Key confusion: an "RS256" token whose "public key" is our HMAC secret.
        ("RS256", hashlib.sha256),
        ("ES256", hashlib.sha256),
    ],
)
def test_a_token_whose_header_names_another_algorithm_is_refused(
    codec: JwtTokenCodec, alg: str, digest: Any
) -> None:
    with pytest.raises(NotAuthenticated):
        codec.read(craft(good_claims(), alg=alg, digest=digest))


def test_a_token_properly_signed_with_the_same_key_but_hs512_is_refused() -> None:
    long_secret = "k" * 64  # long enough that HS512 itself has nothing to object to
    codec = JwtTokenCodec(long_secret)
    assert codec.read(jwt.encode(good_claims(), long_secret, algorithm="HS256"))

    with pytest.raises(NotAuthenticated):
        codec.read(jwt.encode(good_claims(), long_secret, algorithm="HS512"))


def test_an_expired_token_is_refused(codec: JwtTokenCodec) -> None:
    expired = live_session(lifetime=timedelta(seconds=-1))
    with pytest.raises(NotAuthenticated):
        codec.read(codec.issue(expired))
    now = int(time.time())
    with pytest.raises(NotAuthenticated):
        codec.read(craft(good_claims(iat=now - 7200, exp=now - 10)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"sid": None},
        {"sub": None},
        {"exp": None},
        {"sid": ""},
        {"sub": ""},
        {"sid": 123},
        {"sub": ["u-1"]},
        {"exp": "tomorrow"},
    ],
    ids=[
        "no-sid",
        "no-sub",
        "no-exp",
        "empty-sid",
        "empty-sub",
        "int-sid",
        "list-sub",
        "text-exp",
    ],
)
def test_a_signed_token_with_a_missing_or_malformed_claim_is_refused(
    codec: JwtTokenCodec, overrides: dict[str, Any]
) -> None:
    with pytest.raises(NotAuthenticated):
        codec.read(craft(good_claims(**overrides)))


def test_a_token_whose_payload_was_altered_after_signing_is_refused(
    codec: JwtTokenCodec,
) -> None:
    header, _, signature = codec.issue(live_session()).split(".")
    forged_payload = b64(json.dumps(good_claims(sub="someone-else")).encode())

    with pytest.raises(NotAuthenticated):
        codec.read(f"{header}.{forged_payload}.{signature}")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c",
        "...",
        "eyJhbGciOiJIUzI1NiJ9..",
        "\u00e9\u00e9.\u00e9\u00e9.\u00e9\u00e9",
        "x" * 10_000,
    ],
)
def test_a_garbage_string_is_refused(codec: JwtTokenCodec, token: str) -> None:
    with pytest.raises(NotAuthenticated):
        codec.read(token)


@pytest.mark.parametrize(
    "exp",
    ["9999999999", 10**13, True, 1.5e9],
    ids=["numeric-string", "out-of-range", "bool", "float"],
)
def test_a_token_signed_with_our_key_but_an_odd_expiry_is_refused_not_crashed(
    codec: JwtTokenCodec, exp: Any
) -> None:
    with pytest.raises(NotAuthenticated):
        codec.read(craft(good_claims(exp=exp)))


def _session_at(created: datetime, lifetime: timedelta) -> Session:
    return Session(
        id="s1",
        user_id="u1",
        created_at=created,
        expires_at=created + lifetime,
        epoch=0,
    )


def test_expiry_is_judged_by_the_codecs_clock_not_the_system_time() -> None:
    # A clock moved 40 days ahead (the local stack's `strata stripe advance`).
    ahead = datetime.now(UTC) + timedelta(days=40)
    codec = JwtTokenCodec(SECRET, now=lambda: ahead)
    old = JwtTokenCodec(SECRET).issue(
        _session_at(datetime.now(UTC), timedelta(minutes=30))
    )
    fresh = codec.issue(_session_at(ahead, timedelta(minutes=30)))

    # Issued before the move: expired by the moved clock, though not by the system's.
    with pytest.raises(NotAuthenticated):
        codec.read(old)
    assert codec.read(fresh).session_id == "s1"


def test_a_token_issued_in_the_codecs_future_is_refused() -> None:
    now = datetime.now(UTC)
    later = JwtTokenCodec(SECRET).issue(
        _session_at(now + timedelta(hours=1), timedelta(minutes=30))
    )

    with pytest.raises(NotAuthenticated):
        JwtTokenCodec(SECRET, now=lambda: now).read(later)
