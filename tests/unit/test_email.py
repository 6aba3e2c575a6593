from __future__ import annotations

import pytest

from core.domain.errors import InvalidEmail
from core.domain.user import EMAIL_MAX, Email


@pytest.mark.parametrize(
    "value",
    [
        "a@example.com",
        "John.Smith+tag@Example.COM",
        "x@sub.domain-name.org",
        "a" * 64 + "@example.com",
    ],
)
def test_an_address_that_looks_like_one_is_accepted(value: str) -> None:
    assert Email(value).value == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("example.com", "no at sign"),
        ("@example.com", "no local part"),
        ("a@", "no domain"),
        ("a@localhost", "a domain without a dot"),
        ("a@@example.com", "two at signs"),
        ("a b@example.com", "a space in the local part"),
        ("a@exa mple.com", "a space in the domain"),
        ("a@example..com", "an empty domain label"),
        ("a@example.com.", "a trailing dot"),
        ("a" * 65 + "@example.com", "a 65-character local part"),
        ("a@" + "b" * (EMAIL_MAX - 5) + ".com", "255 characters, one too many"),
        ("a@example.com\n", "a trailing newline"),
    ],
)
def test_an_address_that_does_not_look_like_one_is_refused(
    value: str, reason: str
) -> None:
    with pytest.raises(InvalidEmail):
        Email(value)


def test_an_address_of_exactly_the_maximum_length_is_accepted() -> None:
    value = "a@" + "b" * (EMAIL_MAX - 6) + ".com"
    assert len(value) == EMAIL_MAX
    assert Email(value).value == value


def test_the_email_key_is_case_insensitive() -> None:
    assert Email("Alice@Example.COM").key == Email("alice@example.com").key
    assert Email("Alice@Example.COM").key == "alice@example.com"


@pytest.mark.parametrize("control", ["\x00", "\x1f", "\x7f", "\r"])
def test_an_address_with_a_control_character_is_refused(control: str) -> None:
    with pytest.raises(InvalidEmail):
        Email(f"na{control}me@example.com")
