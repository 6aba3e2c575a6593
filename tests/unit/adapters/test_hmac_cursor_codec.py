from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from core.adapters.cursors import MAX_CURSOR_LENGTH, HmacCursorCodec
from core.application.errors import InvalidCursor

SECRET = "cursor-test-secret"
SCOPE = "users/username/asc"
POSITION = {"pk": "USER#id-42", "username_lower": "alice"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(payload: bytes, scope: str = SCOPE, secret: str = SECRET) -> str:
    """A cursor with a valid MAC over any payload, made by hand from the scheme:
    key = HMAC(secret, "strata-cursor"); mac = HMAC(key, scope NUL payload)."""
    key = hmac.new(secret.encode(), b"strata-cursor", hashlib.sha256).digest()
    mac = hmac.new(key, scope.encode() + b"\0" + payload, hashlib.sha256).digest()
    return f"{b64(payload)}.{b64(mac)}"


@pytest.fixture
def codec() -> HmacCursorCodec:
    return HmacCursorCodec(SECRET)


def test_a_cursor_decodes_back_to_its_position(codec: HmacCursorCodec) -> None:
    assert codec.decode(codec.encode(POSITION, SCOPE), SCOPE) == POSITION


def test_the_hand_made_scheme_matches_the_codec(codec: HmacCursorCodec) -> None:
    # The control for the forged cursors below.
    payload = json.dumps(POSITION, sort_keys=True, separators=(",", ":")).encode()
    assert signed(payload) == codec.encode(POSITION, SCOPE)


def flip_each_byte(data: bytes) -> list[bytes]:
    return [
        data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :] for i in range(len(data))
    ]


def test_a_cursor_with_any_byte_of_its_payload_flipped_is_refused(
    codec: HmacCursorCodec,
) -> None:
    payload_text, mac_text = codec.encode(POSITION, SCOPE).split(".")
    for altered in flip_each_byte(unb64(payload_text)):
        with pytest.raises(InvalidCursor):
            codec.decode(f"{b64(altered)}.{mac_text}", SCOPE)


def test_a_cursor_with_any_byte_of_its_mac_flipped_is_refused(
    codec: HmacCursorCodec,
) -> None:
    payload_text, mac_text = codec.encode(POSITION, SCOPE).split(".")
    for altered in flip_each_byte(unb64(mac_text)):
        with pytest.raises(InvalidCursor):
            codec.decode(f"{payload_text}.{b64(altered)}", SCOPE)


@pytest.mark.parametrize(
    "other_scope", ["users/username/desc", "users/created_at/asc", "", SCOPE + " "]
)
def test_a_cursor_made_for_another_scope_is_refused(
    codec: HmacCursorCodec, other_scope: str
) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(codec.encode(POSITION, SCOPE), other_scope)


def test_a_cursor_signed_with_another_secret_is_refused(codec: HmacCursorCodec) -> None:
    foreign = HmacCursorCodec("some other secret").encode(POSITION, SCOPE)
    with pytest.raises(InvalidCursor):
        codec.decode(foreign, SCOPE)


def test_a_cursor_is_not_signed_with_the_bare_secret(codec: HmacCursorCodec) -> None:
    # A MAC keyed by the raw secret (as a token would be) must not pass as a cursor.
    payload = json.dumps(POSITION).encode()
    mac = hmac.new(SECRET.encode(), SCOPE.encode() + b"\0" + payload, hashlib.sha256)
    with pytest.raises(InvalidCursor):
        codec.decode(f"{b64(payload)}.{b64(mac.digest())}", SCOPE)


def test_an_oversize_cursor_is_refused_even_with_a_valid_mac(
    codec: HmacCursorCodec,
) -> None:
    big = codec.encode(
        {"pk": "USER#1", "username_lower": "a" * MAX_CURSOR_LENGTH}, SCOPE
    )
    assert len(big) > MAX_CURSOR_LENGTH
    with pytest.raises(InvalidCursor):
        codec.decode(big, SCOPE)


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'["pk", "x"]',
        b'"a string"',
        b"42",
        b"null",
        b'{"pk": 1}',
        b'{"pk": null}',
        b'{"pk": {"S": "USER#1"}}',
        b'{"pk": ["USER#1"]}',
        b"not json",
        b"{",
        b"\xff\xfe\xfd",
        b"",
    ],
)
def test_a_validly_signed_payload_that_is_not_a_dict_of_strings_is_refused(
    codec: HmacCursorCodec, payload: bytes
) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(signed(payload), SCOPE)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        ".",
        "abc",
        "a.b.c",
        "!!!.???",
        "\u00e9\u00e9.\u00e9\u00e9",
        "abc.",
        ".abc",
        "a",
    ],
)
def test_a_malformed_cursor_is_refused(codec: HmacCursorCodec, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(cursor, SCOPE)


def test_a_cursor_with_characters_outside_base64url_is_refused(
    codec: HmacCursorCodec,
) -> None:
    cursor = codec.encode({"pk": "USER#1"}, "scope")
    payload, mac = cursor.split(".")
    # A lenient decoder would skip the stray characters and accept this spelling.
    with pytest.raises(InvalidCursor):
        codec.decode(f"{payload}!!.{mac}", "scope")
