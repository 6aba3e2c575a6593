from __future__ import annotations

import pytest

from core.domain.errors import InvalidUsername
from core.domain.user import Username, username_key


@pytest.mark.parametrize(
    "value",
    [
        "abcde",  # 5: the shortest allowed
        "a" * 20,  # 20: the longest allowed
        "12345",
        "Alice",
        "a.b_c-d",
        "john.smith",
        "a_b-c.d9",
        "UPPER.lower_09",
        "0a0a0",
    ],
)
def test_a_well_formed_username_is_accepted(value: str) -> None:
    assert Username(value).value == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("abcd", "4 characters, one too few"),
        ("a" * 21, "21 characters, one too many"),
        ("a" * 200, "far too long"),
        (".abcde", "starts with a dot"),
        ("_abcde", "starts with an underscore"),
        ("-abcde", "starts with a hyphen"),
        ("abcde.", "ends with a dot"),
        ("abcde_", "ends with an underscore"),
        ("abcde-", "ends with a hyphen"),
        ("a..bc", "two dots in a row"),
        ("ab__c", "two underscores in a row"),
        ("ab--c", "two hyphens in a row"),
        ("ab_-c", "underscore then hyphen"),
        ("ab-.c", "hyphen then dot"),
        ("ab._c", "dot then underscore"),
        ("ab cd", "a space"),
        ("abc@d", "an at sign"),
        ("abc+d", "a plus sign"),
        ("abc/d", "a slash"),
        ("abcdé", "a non-ASCII letter"),
        ("abcd\u0661", "a non-ASCII digit"),
        ("abcde\n", "a trailing newline"),
        ("\tabcde", "a leading tab"),
        ("abc\x00d", "a NUL byte"),
    ],
)
def test_a_malformed_username_is_refused_at_construction(
    value: str, reason: str
) -> None:
    with pytest.raises(InvalidUsername):
        Username(value)


def test_the_username_key_is_the_lower_case_text_valid_or_not() -> None:
    assert username_key("John.Smith") == "john.smith"
    assert username_key("No Such..Name!") == "no such..name!"
    assert Username("John.Smith").key == username_key("John.Smith")


def test_usernames_differing_only_in_case_share_a_key_but_keep_their_spelling() -> None:
    first, second = Username("AliceB"), Username("aliceb")
    assert first.key == second.key
    assert str(first) == "AliceB"
    assert first != second


def test_a_username_cannot_be_changed_after_construction() -> None:
    username = Username("alice")
    with pytest.raises(AttributeError):
        username.value = "a..b"  # type: ignore[misc]
