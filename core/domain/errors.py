"""Domain errors: a business value or rule was violated.

Every error carries a stable ``code`` so the presentation layer can map it to a
problem response without parsing messages.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidUsername(DomainError):
    code = "invalid_username"


class InvalidEmail(DomainError):
    code = "invalid_email"


class InvalidPassword(DomainError):
    code = "invalid_password"


class InvalidRole(DomainError):
    code = "invalid_role"
