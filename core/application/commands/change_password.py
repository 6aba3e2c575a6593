from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_set_password, require
from core.application.errors import CurrentPasswordRequired, WrongPassword
from core.application.limits import LoginPolicy
from core.application.lookups import load_user_by_username
from core.application.organizations import PlatformAudit
from core.application.ports import (
    Clock,
    PasswordHasher,
    RateLimiter,
    SessionStore,
    UserRepository,
)
from core.domain.organization import AuditAction
from core.domain.password import PasswordPolicy
from core.domain.session import Session
from core.domain.user import User, username_key


@dataclass(frozen=True, slots=True)
class ChangePassword:
    """Sets a user's password: one's own (proving the current one), or a
    subordinate's as an admin.

    Changing one's own keeps the session it is done from and ends every other;
    an admin's change ends all of the target's sessions.

    The current password is checked like a log-in's: the attempt is counted
    against the username first, so a stolen session cannot guess
    it faster than the log-in form; past the limit it raises ``TooManyAttempts``.
    The right one clears the username's count.
    """

    users: UserRepository
    sessions: SessionStore
    hasher: PasswordHasher
    policy: PasswordPolicy
    attempts: RateLimiter
    clock: Clock
    login: LoginPolicy = LoginPolicy()  # noqa: RUF009 - frozen, so shared safely
    # The platform's audit log (the container always gives one).
    platform_audit: PlatformAudit | None = None

    def execute(
        self,
        actor: User,
        actor_session: Session,
        username: str,
        password: str,
        current_password: str | None,
    ) -> None:
        # Authentication already read the actor: changing one's own password needs
        # no second read.
        target = (
            actor
            if username_key(username) == actor.username.key
            else load_user_by_username(self.users, username)
        )
        require(can_set_password(actor, target))
        self.policy.check(password)
        is_self = target.id == actor.id
        if is_self:
            if current_password is None:
                raise CurrentPasswordRequired()
            now = self.clock.now()
            self.attempts.hit(self.login.per_username, target.username.key, now)
            if not self.hasher.verify(current_password, target.password_hash):
                raise WrongPassword()
            self.attempts.clear(self.login.per_username, target.username.key, now)
        # Bumping the epoch invalidates every session at once, before the slower
        # per-item cleanup below; the caller's own session is then moved to the new
        # epoch so it survives.
        updated = self.users.save(target.with_password(self.hasher.hash(password)))
        if is_self:
            self.sessions.move_to_epoch(actor_session.id, updated.session_epoch)
            self.sessions.delete_all_for_user(target.id, keep=actor_session.id)
        else:
            self.sessions.delete_all_for_user(target.id)
            if self.platform_audit is not None:
                self.platform_audit.record(
                    actor, AuditAction.USER_PASSWORD_CHANGED, target
                )
