"""The user entity and the value objects it is made of."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from core.domain.billing import Billing
from core.domain.errors import InvalidEmail, InvalidRole, InvalidUsername


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise InvalidRole(f"unknown role {value!r}") from None


USERNAME_MIN = 5
USERNAME_MAX = 20
# Letters or digits, with single separators between them: this one pattern gives
# "starts and ends with a letter or digit" and "no two separators in a row".
_USERNAME_RE = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")


def username_key(text: str) -> str:
    """The case-insensitive key a username is unique by.

    A function of any text, not only of a valid ``Username``: failed log-ins are
    counted per key whatever was typed, so a malformed name is throttled as well.
    """
    return text.lower()


@dataclass(frozen=True, slots=True)
class Username:
    """A username as typed; compared and stored uniquely by its lower-case ``key``."""

    value: str

    def __post_init__(self) -> None:
        if not USERNAME_MIN <= len(self.value) <= USERNAME_MAX:
            raise InvalidUsername(
                f"username must be {USERNAME_MIN} to {USERNAME_MAX} characters long"
            )
        if not _USERNAME_RE.fullmatch(self.value):
            raise InvalidUsername(
                "username may contain letters, digits and . _ -, must start and end "
                "with a letter or digit, and may not have two of . _ - in a row"
            )

    @property
    def key(self) -> str:
        return username_key(self.value)

    def __str__(self) -> str:
        return self.value


EMAIL_MAX = 254
# The local part: an RFC 5322 dot-atom of ASCII (no quoted strings, no comments,
# no comma), at most 64 characters.
_LOCAL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
# A DNS label once IDNA-encoded: letters, digits and inner hyphens.
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Control, format (zero-width, bidi), surrogate, private, unassigned, separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _email_problem(value: str) -> str | None:
    """Why ``value`` is not an address Strata accepts, or ``None``."""
    if len(value) > EMAIL_MAX:
        return f"email must be at most {EMAIL_MAX} characters"
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in value):
        return "email must not contain spaces, control or invisible characters"
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return "email must look like name@example.com"
    if len(local) > 64 or not _LOCAL_RE.fullmatch(local):
        return (
            "the part before @ must be plain ASCII letters, digits and "
            "!#$%&'*+/=?^_`{|}~- separated by single dots"
        )
    # Full-width and other compatibility forms look like ASCII but are not it.
    if unicodedata.normalize("NFKC", domain) != domain:
        return "the domain must not use full-width or other look-alike characters"
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "the domain is not a valid internationalized domain name"
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return "the domain must be a name with a dot, such as example.com"
    if len(ascii_domain) > 253:
        return "the domain is too long"
    return None


@dataclass(frozen=True, slots=True)
class Email:
    """An email address; unique case-insensitively through its ``key``.

    Only a delivered message proves an address, but look-alikes and addresses no
    mail system takes are refused here: the local part is an ASCII dot-atom; the
    domain has a dot and encodes to IDNA (Unicode domains are allowed, full-width
    and other compatibility forms are not); nothing anywhere is a control, format
    (zero-width, bidi), or space character; no comma.
    """

    value: str

    def __post_init__(self) -> None:
        problem = _email_problem(self.value)
        if problem is not None:
            raise InvalidEmail(problem)

    @property
    def key(self) -> str:
        return self.value.lower()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class User:
    """A person who can log in.

    ``session_epoch`` increases whenever every existing session of the user must stop
    working (password change, deactivation); a session is valid only for the epoch it
    was created in. ``version`` guards concurrent updates of the stored item.
    """

    id: str
    username: Username
    email: Email
    password_hash: str
    role: Role
    is_active: bool
    created_at: datetime
    session_epoch: int = 0
    version: int = 0
    email_verified: bool = False
    # The Stripe customer and subscription; stored on the user item, so the one
    # read that authenticates a request also knows the plan.
    billing: Billing = field(default_factory=Billing)

    def with_role(self, role: Role) -> User:
        return replace(self, role=role)

    def activated(self) -> User:
        return replace(self, is_active=True)

    def deactivated(self) -> User:
        return replace(self, is_active=False, session_epoch=self.session_epoch + 1)

    def with_password(self, password_hash: str) -> User:
        return replace(
            self, password_hash=password_hash, session_epoch=self.session_epoch + 1
        )

    def with_email_verified(self) -> User:
        return replace(self, email_verified=True)

    def with_billing(self, billing: Billing) -> User:
        return replace(self, billing=billing)
