"""Loading helpers shared by interactors."""

from __future__ import annotations

from core.application.errors import UserNotFound
from core.application.ports import UserRepository
from core.domain.errors import DomainError
from core.domain.user import User, Username


def load_user_by_username(users: UserRepository, username: str) -> User:
    """The user named ``username`` (any case); ``UserNotFound`` if there is none.

    A string that cannot be a username cannot name a user either, so it is a 404, not
    a 422: the path names a resource, it does not propose a value.
    """
    try:
        key = Username(username).key
    except DomainError:
        raise UserNotFound() from None
    user = users.get_by_username(key)
    if user is None:
        raise UserNotFound()
    return user
