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
    # DNS labels are at most 63 characters: three of those, then the rest.
    labels = ["b" * 63] * 3
    rest = EMAIL_MAX - len("a@") - (63 * 3 + len("...") + len(".com"))
    value = "a@" + ".".join([*labels, "c" * rest]) + ".com"
    assert len(value) == EMAIL_MAX
    assert Email(value).value == value


def test_the_email_key_is_case_insensitive() -> None:
    assert Email("Alice@Example.COM").key == Email("alice@example.com").key
    assert Email("Alice@Example.COM").key == "alice@example.com"


@pytest.mark.parametrize("control", ["\x00", "\x1f", "\x7f", "\r"])
def test_an_address_with_a_control_character_is_refused(control: str) -> None:
    with pytest.raises(InvalidEmail):
        Email(f"na{control}me@example.com")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("al ice@example.com", "a space"),
        ("alice@exa mple.com", "a space in the domain"),
        ("alice\u200b@example.com", "a zero-width space"),
        ("alice@exam\u200dple.com", "a zero-width joiner in the domain"),
        ("alice\u202e@example.com", "a bidi override"),
        ("alice\u00ad@example.com", "a soft hyphen"),
        ("alice\x07@example.com", "a control character"),
        ("alice@\uff45xample.com", "a full-width letter in the domain"),
        ("\uff41lice@example.com", "a full-width letter in the local part"),
        ("alic\u00e9@example.com", "a non-ASCII local part"),
        ("alice,bob@example.com", "a comma"),
        ("alice@example,com", "a comma in the domain"),
        ('"alice"@example.com', "a quoted local part"),
        ("alice..bob@example.com", "two dots in a row"),
        (".alice@example.com", "a leading dot"),
        ("alice@localhost", "a domain without a dot"),
        ("alice@-example.com", "a label starting with a hyphen"),
        ("alice@example..com", "an empty label"),
        ("alice@" + "b" * 64 + ".com", "a label over 63 characters"),
        ("alice@exam_ple.com", "an underscore in the domain"),
    ],
)
def test_look_alike_and_undeliverable_addresses_are_refused(
    value: str, why: str
) -> None:
    with pytest.raises(InvalidEmail):
        Email(value)


@pytest.mark.parametrize(
    "value",
    [
        "alice@example.com",
        "alice.o'neil+tag@example.co.uk",
        "x@b\u00fccher.example",  # an internationalized domain
        "a-b_c@sub.example-host.org",
    ],
)
def test_ordinary_and_internationalized_addresses_are_accepted(value: str) -> None:
    assert Email(value).value == value
