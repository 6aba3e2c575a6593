from __future__ import annotations

from dataclasses import dataclass

from core.application.account_emails import PASSWORD_RESET_PURPOSE
from core.application.errors import AccountInactive, ConcurrentUpdate, InvalidToken
from core.application.limits import LoginPolicy
from core.application.ports import (
    Clock,
    OneTimeTokens,
    PasswordHasher,
    RateLimiter,
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
    mailbox, so the email counts as verified from then on. A token sent before a
    password change or another reset is refused (``InvalidToken``): tokens carry
    the user's epoch. A reset clears the username's failed log-ins.
    """

    users: UserRepository
    sessions: SessionStore
    tokens: OneTimeTokens
    hasher: PasswordHasher
    clock: Clock
    policy: PasswordPolicy
    attempts: RateLimiter
    login: LoginPolicy = LoginPolicy()  # noqa: RUF009 - frozen, so shared safely

    def execute(self, token: str, password: str) -> None:
        self.policy.check(password)
        now = self.clock.now()
        grant = self.tokens.consume(PASSWORD_RESET_PURPOSE, token, now)
        if grant is None:
            raise InvalidToken()
        user_id = grant.user_id
        password_hash = self.hasher.hash(password)
        for attempt in range(_TRIES):
            user = self.users.get(user_id)
            # The token is of the user's epoch when it was sent: any password
            # change or reset since (which moves the epoch on) has ended it, and
            # this reset ends every other outstanding link in turn.
            if user is None or user.session_epoch != grant.epoch:
                raise InvalidToken()
            if not user.is_active:
                raise AccountInactive()
            username = user.username
            # The epoch bump refuses every open session from the next request on;
            # the session items are deleted after.
            try:
                self.users.save(user.with_password(password_hash).with_email_verified())
                break
            except ConcurrentUpdate:
                if attempt == _TRIES - 1:
                    raise
        self.sessions.delete_all_for_user(user_id)
        # Whoever locked the account by guessing no longer keeps its owner out.
        self.attempts.clear(self.login.per_username, username.key, now)
