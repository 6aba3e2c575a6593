from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.application.account_emails import (
    VERIFY_EMAIL,
    VERIFY_EMAIL_PURPOSE,
    WELCOME,
    AccountLinks,
    send_link,
)
from core.application.jobs import InvalidPayload, text
from core.application.ports import Clock, Mailer, OneTimeTokens, UserRepository


@dataclass(frozen=True, slots=True)
class SendVerificationEmailJob:
    """Emails a user a link that verifies their email: payload ``{user_id,
    template}``, the template ``welcome`` (after sign-up) or ``verify_email`` (a
    resend).

    The token is issued here, as the email goes out, so it exists only as a hash
    in storage and in the recipient's mailbox. Sends nothing (``sent: false``) to a
    user who is gone, deactivated or verified already.
    """

    users: UserRepository
    tokens: OneTimeTokens
    mailer: Mailer
    clock: Clock
    links: AccountLinks
    ttl: timedelta

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        user_id = text(payload, "user_id")
        template = text(payload, "template")
        if template not in (WELCOME, VERIFY_EMAIL):
            raise InvalidPayload(f"not a verification template: {template!r}")
        user = self.users.get(user_id)
        if user is None or user.email_verified or not user.is_active:
            return {"sent": False}
        token = self.tokens.issue(
            VERIFY_EMAIL_PURPOSE,
            user.id,
            self.clock.now(),
            self.ttl,
            epoch=user.session_epoch,
        )
        send_link(self.mailer, user, template, self.links.verify_email(token), self.ttl)
        return {"sent": True}
