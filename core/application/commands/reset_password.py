from __future__ import annotations

from dataclasses import dataclass

from core.application.account_emails import PASSWORD_RESET_PURPOSE
from core.application.errors import AccountInactive, ConcurrentUpdate, InvalidToken
from core.application.ports import (
    Clock,
    OneTimeTokens,
    PasswordHasher,
    SessionStore,
    UserRepository,
)
from core.domain.password import PasswordPolicy

# The token is spent before the save: a save that loses a race with another
# update of the user is tried again rather than wasting it.
_TRIES = 3


@dataclass(frozen=True, slots=True)
class ResetPassword:
    """Sets a new password with the token from a password reset email, and ends
    every session of the user.

    The password is checked against the policy first, so a bad one raises
    ``InvalidPassword`` and leaves the token usable. ``InvalidToken`` for a token
    that is unknown, used, expired, issued for something else, or whose user is
    gone; ``AccountInactive`` for a deactivated user. Following the link proves the
    mailbox, so the email counts as verified from then on.
    """

    users: UserRepository
    sessions: SessionStore
    tokens: OneTimeTokens
    hasher: PasswordHasher
    clock: Clock
    policy: PasswordPolicy

    def execute(self, token: str, password: str) -> None:
        self.policy.check(password)
        user_id = self.tokens.consume(PASSWORD_RESET_PURPOSE, token, self.clock.now())
        if user_id is None:
            raise InvalidToken()
        password_hash = self.hasher.hash(password)
        for attempt in range(_TRIES):
            user = self.users.get(user_id)
            if user is None:
                raise InvalidToken()
            if not user.is_active:
                raise AccountInactive()
            # The epoch bump refuses every open session from the next request on;
            # the session items are deleted after.
            try:
                self.users.save(user.with_password(password_hash).with_email_verified())
                break
            except ConcurrentUpdate:
                if attempt == _TRIES - 1:
                    raise
        self.sessions.delete_all_for_user(user_id)
