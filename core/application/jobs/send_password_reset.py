from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.application.account_emails import (
    PASSWORD_RESET,
    PASSWORD_RESET_PURPOSE,
    AccountLinks,
    send_link,
)
from core.application.jobs import text
from core.application.ports import Clock, Mailer, OneTimeTokens, UserRepository


@dataclass(frozen=True, slots=True)
class SendPasswordResetJob:
    """The worker's half of a password reset request: payload ``{email}``.

    Looks the account up here, off the request path, so the request does the same
    work whether or not the email is registered. An active account gets an email
    with a link that carries a fresh token; an unknown email or a deactivated
    account gets nothing (``sent: false``).
    """

    users: UserRepository
    tokens: OneTimeTokens
    mailer: Mailer
    clock: Clock
    links: AccountLinks
    ttl: timedelta

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        email = text(payload, "email")
        user = self.users.get_by_email(email.lower())
        if user is None or not user.is_active:
            return {"sent": False}
        token = self.tokens.issue(
            PASSWORD_RESET_PURPOSE,
            user.id,
            self.clock.now(),
            self.ttl,
            epoch=user.session_epoch,
        )
        send_link(
            self.mailer,
            user,
            PASSWORD_RESET,
            self.links.reset_password(token),
            self.ttl,
        )
        return {"sent": True}
