from __future__ import annotations

import pytest

from core.domain.errors import InvalidPassword
from core.domain.password import PASSWORD_MAX, PasswordPolicy


@pytest.mark.parametrize(
    ("length", "accepted"),
    [
        (0, False),
        (7, False),
        (8, True),
        (9, True),
        (PASSWORD_MAX, True),
        (PASSWORD_MAX + 1, False),
    ],
)
def test_the_default_policy_accepts_8_to_256_characters(
    length: int, accepted: bool
) -> None:
    password = "p" * length
    if accepted:
        assert PasswordPolicy().check(password) == password
    else:
        with pytest.raises(InvalidPassword):
            PasswordPolicy().check(password)


@pytest.mark.parametrize(("length", "accepted"), [(11, False), (12, True)])
def test_the_minimum_length_is_configurable(length: int, accepted: bool) -> None:
    policy = PasswordPolicy(min_length=12)
    if accepted:
        policy.check("p" * length)
    else:
        with pytest.raises(InvalidPassword, match="at least 12"):
            policy.check("p" * length)


def test_length_counts_characters_not_bytes() -> None:
    # Eight characters, 32 bytes of UTF-8: the policy is about what the user typed.
    assert PasswordPolicy().check("\U0001f511" * 8) == "\U0001f511" * 8
    with pytest.raises(InvalidPassword):
        PasswordPolicy().check("\U0001f511" * 7)
