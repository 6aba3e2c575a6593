from __future__ import annotations

from dataclasses import dataclass

from core.application.account_emails import VERIFY_EMAIL_PURPOSE
from core.application.errors import ConcurrentUpdate, InvalidToken
from core.application.ports import Clock, OneTimeTokens, UserRepository

# Saves that lose a race with another update of the user are tried again: the
# token is spent already, so giving up would leave it used and the email unverified.
_TRIES = 3


@dataclass(frozen=True, slots=True)
class VerifyEmail:
    """Marks the email of the user a verification link was sent to as verified.

    The token is used up in the same step that checks it. ``InvalidToken`` for a
    token that is unknown, used (verifying twice included), expired, issued for
    something else, or whose user is gone; nothing changes then.
    """

    users: UserRepository
    tokens: OneTimeTokens
    clock: Clock

    def execute(self, token: str) -> None:
        grant = self.tokens.consume(VERIFY_EMAIL_PURPOSE, token, self.clock.now())
        if grant is None:
            raise InvalidToken()
        for attempt in range(_TRIES):
            user = self.users.get(grant.user_id)
            # A password change or reset since the link was sent ends it.
            if user is None or user.session_epoch != grant.epoch:
                raise InvalidToken()
            if user.email_verified:
                return
            try:
                self.users.save(user.with_email_verified())
                return
            except ConcurrentUpdate:
                if attempt == _TRIES - 1:
                    raise
