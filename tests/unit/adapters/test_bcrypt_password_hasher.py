from __future__ import annotations

import bcrypt
import pytest

from core.adapters.passwords import BcryptPasswordHasher

PEPPER = "pepper-for-tests"


@pytest.fixture(scope="module")
def hasher() -> BcryptPasswordHasher:
    return BcryptPasswordHasher(PEPPER, rounds=4)


def test_the_right_password_verifies_and_a_wrong_one_does_not(
    hasher: BcryptPasswordHasher,
) -> None:
    stored = hasher.hash("correct horse")
    assert hasher.verify("correct horse", stored)
    assert not hasher.verify("correct horsE", stored)
    assert not hasher.verify("", stored)


def test_the_hash_is_salted_bcrypt_at_the_configured_cost(
    hasher: BcryptPasswordHasher,
) -> None:
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first != second
    assert first.startswith("$2b$04$")
    assert "correct horse" not in first
    assert hasher.verify("correct horse", first)
    assert hasher.verify("correct horse", second)


def test_a_long_password_is_not_truncated_at_bcrypts_72_bytes(
    hasher: BcryptPasswordHasher,
) -> None:
    password = "x" * 200
    stored = hasher.hash(password)
    assert hasher.verify(password, stored)
    # Same first 72 (and 150) bytes, different after: bcrypt alone would accept both.
    assert not hasher.verify("x" * 72 + "y" + "x" * 127, stored)
    assert not hasher.verify("x" * 150 + "y" * 50, stored)
    assert not hasher.verify("x" * 199, stored)


def test_a_multibyte_password_round_trips(hasher: BcryptPasswordHasher) -> None:
    stored = hasher.hash("pässwörd \U0001f511" * 10)
    assert hasher.verify("pässwörd \U0001f511" * 10, stored)
    assert not hasher.verify("passwörd \U0001f511" * 10, stored)


def test_a_hash_made_with_another_pepper_does_not_verify(
    hasher: BcryptPasswordHasher,
) -> None:
    other = BcryptPasswordHasher("a different pepper", rounds=4)
    assert not hasher.verify("correct horse", other.hash("correct horse"))
    assert not other.verify("correct horse", hasher.hash("correct horse"))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "$2b$04$",
        "$2b$04$short",
        "$2b$04$" + "." * 53,
        "$2b$99$" + "a" * 53,
        "\u00e9" * 60,
        "correct horse",
    ],
)
def test_a_garbage_hash_does_not_verify_and_does_not_raise(
    hasher: BcryptPasswordHasher, garbage: str
) -> None:
    assert hasher.verify("correct horse", garbage) is False


def test_a_truncated_real_hash_does_not_verify(hasher: BcryptPasswordHasher) -> None:
    stored = hasher.hash("correct horse")
    assert hasher.verify("correct horse", stored[:-1]) is False


def test_dummy_verify_spends_one_real_bcrypt_check(
    hasher: BcryptPasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher.dummy_verify("warm up")  # the dummy hash is made once, lazily
    real_checkpw = bcrypt.checkpw
    checks: list[bytes] = []

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return bool(real_checkpw(password, hashed))

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)

    hasher.dummy_verify("whatever was typed")

    assert len(checks) == 1
    assert checks[0].startswith(b"$2b$04$")


def test_a_password_with_a_lone_surrogate_hashes_and_verifies(
    hasher: BcryptPasswordHasher,
) -> None:
    password = "half of a pair \ud800 here"
    hashed = hasher.hash(password)

    assert hasher.verify(password, hashed)
    assert not hasher.verify("half of a pair \ud801 here", hashed)
