from __future__ import annotations

from dataclasses import dataclass

from core.application.account_emails import PASSWORD_RESET
from core.application.limits import EmailThrottle
from core.application.tasks import SEND_PASSWORD_RESET, TaskSubmitter
from core.domain.user import Email


@dataclass(frozen=True, slots=True)
class RequestPasswordReset:
    """Anyone asks for a password reset link for an email address.

    The answer must not tell whether the address is registered, not even by its
    timing: so this never looks the address up. It always queues the same task,
    and the worker looks the account up and emails it a link if there is an
    active one (see ``SendPasswordResetJob``). Raises only ``InvalidEmail`` for
    something that cannot be an address at all, which says nothing about accounts.

    Rate-limited per address (whether registered or not: a request over the
    address's share queues nothing and answers the same) and per client
    (``TooManyAttempts``), so it cannot be used to flood a mailbox.
    """

    submitter: TaskSubmitter
    throttle: EmailThrottle

    def execute(self, email: str, client: str | None = None) -> None:
        address = Email(email)
        if not self.throttle.allow(PASSWORD_RESET, address.key, client):
            return
        self.submitter.submit(
            SEND_PASSWORD_RESET, {"email": address.key}, owner_id=None
        )
