from __future__ import annotations

from dataclasses import dataclass

from core.application.account_emails import VERIFY_EMAIL
from core.application.tasks import SEND_VERIFICATION_EMAIL, TaskSubmitter
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ResendVerification:
    """A logged-in user asks for a new verification email.

    Queues it and returns ``True``; does nothing and returns ``False`` when the
    email is verified already. Links sent earlier keep working until they expire.
    """

    submitter: TaskSubmitter

    def execute(self, actor: User) -> bool:
        if actor.email_verified:
            return False
        self.submitter.submit(
            SEND_VERIFICATION_EMAIL,
            {"user_id": actor.id, "template": VERIFY_EMAIL},
            owner_id=actor.id,
        )
        return True
