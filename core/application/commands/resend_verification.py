from __future__ import annotations

from dataclasses import dataclass

from core.application.account_emails import VERIFY_EMAIL
from core.application.limits import EmailThrottle
from core.application.tasks import SEND_VERIFICATION_EMAIL, TaskSubmitter
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ResendVerification:
    """A logged-in user asks for a new verification email.

    Queues it and returns ``True``; does nothing and returns ``False`` when the
    email is verified already. Links sent earlier keep working until they expire.
    Rate-limited per address and per client (``TooManyAttempts``).
    """

    submitter: TaskSubmitter
    throttle: EmailThrottle

    def execute(self, actor: User, client: str | None = None) -> bool:
        if actor.email_verified:
            return False
        # The asker owns the address: telling them to wait reveals nothing.
        self.throttle.require(VERIFY_EMAIL, actor.email.key, client)
        self.submitter.submit(
            SEND_VERIFICATION_EMAIL,
            {"user_id": actor.id, "template": VERIFY_EMAIL},
            owner_id=actor.id,
        )
        return True
