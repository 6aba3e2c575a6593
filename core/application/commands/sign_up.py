from __future__ import annotations

import logging
from dataclasses import dataclass

from core.application.account_emails import WELCOME
from core.application.errors import AlreadyAuthenticated, DependencyUnavailable
from core.application.registration import Registrar
from core.application.tasks import SEND_VERIFICATION_EMAIL, TaskSubmitter
from core.domain.user import Role, User

logger = logging.getLogger("strata")


@dataclass(frozen=True, slots=True)
class SignUp:
    """Anyone not logged in creates their own account, with the role ``user``, and
    is sent a welcome email with a link that verifies the address.

    Raises ``AlreadyAuthenticated`` when ``current`` is a logged-in user, the domain's
    ``Invalid*`` errors for bad values, ``UsernameTaken`` or ``EmailTaken``. The email
    is queued, never sent here; if it cannot be queued the account still stands
    (a resend gets the link) and the failure is logged.
    """

    registrar: Registrar
    submitter: TaskSubmitter

    def execute(
        self, username: str, email: str, password: str, current: User | None
    ) -> User:
        if current is not None:
            raise AlreadyAuthenticated()
        user = self.registrar.register(username, email, password, Role.USER)
        try:
            self.submitter.submit(
                SEND_VERIFICATION_EMAIL,
                {"user_id": user.id, "template": WELCOME},
                owner_id=user.id,
            )
        except DependencyUnavailable:
            logger.warning("the welcome email of a new user could not be queued")
        return user
