from __future__ import annotations

import logging
from dataclasses import dataclass

from core.application.account_emails import SIGNUP_ATTEMPT, WELCOME
from core.application.errors import (
    AlreadyAuthenticated,
    DependencyUnavailable,
    EmailTaken,
)
from core.application.limits import EmailThrottle
from core.application.registration import Registrar
from core.application.tasks import SEND_EMAIL, SEND_VERIFICATION_EMAIL, TaskSubmitter
from core.domain.user import Role, User

logger = logging.getLogger("strata")

SIGNUP_KIND = "signup"


@dataclass(frozen=True, slots=True)
class SignUp:
    """Anyone not logged in creates their own account, with the role ``user``, and
    is sent a welcome email with a link that verifies the address.

    Raises ``AlreadyAuthenticated`` when ``current`` is a logged-in user, the domain's
    ``Invalid*`` errors for bad values, ``UsernameTaken``, or ``TooManyAttempts``
    past the client's email limit. An email that has an account already is
    answered like a new one (the same user-shaped result, after the same hashing),
    but nothing is stored and the address's owner is emailed that someone tried.
    The email is queued, never sent here; if it cannot be queued the account
    still stands (a resend gets the link) and the failure is logged.
    """

    registrar: Registrar
    submitter: TaskSubmitter
    throttle: EmailThrottle

    def execute(
        self,
        username: str,
        email: str,
        password: str,
        current: User | None,
        client: str | None = None,
    ) -> User:
        if current is not None:
            raise AlreadyAuthenticated()
        if client:
            # Every sign-up sends an email: one client cannot send many.
            self.throttle.attempts.hit(
                self.throttle.policy.per_requester, client, self.throttle.clock.now()
            )
        prepared = self.registrar.prepare(username, email, password, Role.USER)
        try:
            user = self.registrar.users.add(prepared)
        except EmailTaken:
            self._tell_the_owner(prepared)
            # Answered exactly like a new account, so sign-up cannot tell who is
            # registered (the password reset's promise); nothing is stored.
            return prepared
        try:
            self.submitter.submit(
                SEND_VERIFICATION_EMAIL,
                {"user_id": user.id, "template": WELCOME},
                owner_id=user.id,
            )
        except DependencyUnavailable:
            logger.warning("the welcome email of a new user could not be queued")
        return user

    def _tell_the_owner(self, attempt: User) -> None:
        """Email the address's owner that someone tried to sign up with it, at
        most once per address per window (no client hit: it was counted)."""
        if not self.throttle.allow(SIGNUP_KIND, attempt.email.key, None):
            return
        try:
            self.submitter.submit(
                SEND_EMAIL,
                {"to": attempt.email.value, "template": SIGNUP_ATTEMPT, "context": {}},
                owner_id=None,
            )
        except DependencyUnavailable:
            logger.warning("a sign-up attempt email could not be queued")
