"""What the account emails share: their templates, the purposes of the tokens
their links carry, and how those links are made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from core.application.ports import Mailer
from core.domain.user import User

# Message templates (see the email adapter's templates/).
WELCOME = "welcome"
VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 (a template name)
SIGNUP_ATTEMPT = "signup_attempt"
ORG_INVITATION = "org_invitation"

# One-time token purposes: a token works only for the purpose it was issued for.
VERIFY_EMAIL_PURPOSE = "verify_email"
PASSWORD_RESET_PURPOSE = "password_reset"  # noqa: S105 (a token purpose)


@dataclass(frozen=True, slots=True)
class AccountLinks:
    """Links into the app (``base_url``, the front end), which reads ``?token=``."""

    base_url: str

    def verify_email(self, token: str) -> str:
        return self._link("/verify-email", token)

    def reset_password(self, token: str) -> str:
        return self._link("/reset-password", token)

    def accept_invitation(self, token: str) -> str:
        return self._link("/accept-invitation", token)

    def _link(self, path: str, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def send_link(
    mailer: Mailer, user: User, template: str, link: str, valid_for: timedelta
) -> None:
    """Email ``user`` a link, with the context every link template expects."""
    mailer.send(
        user.email.value,
        template,
        {
            "username": user.username.value,
            "link": link,
            "expires_in": describe(valid_for),
        },
    )


def describe(duration: timedelta) -> str:
    """``duration`` as an email says it: "24 hours", "1 hour", "30 minutes"."""
    minutes = max(1, int(duration.total_seconds()) // 60)
    if minutes % (24 * 60) == 0 and minutes > 24 * 60:
        return _plural(minutes // (24 * 60), "day")
    if minutes % 60 == 0:
        return _plural(minutes // 60, "hour")
    return _plural(minutes, "minute")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
