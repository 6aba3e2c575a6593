"""Making a new user: shared by sign-up, user creation and the management command."""

from __future__ import annotations

from dataclasses import dataclass

from core.application.ports import Clock, IdGenerator, PasswordHasher, UserRepository
from core.domain.password import PasswordPolicy
from core.domain.user import Email, Role, User, Username


@dataclass(frozen=True, slots=True)
class Registrar:
    """Validates the values, hashes the password and stores the user atomically.

    Raises the domain's ``Invalid*`` errors for bad values (before any write) and
    ``UsernameTaken`` / ``EmailTaken`` from the repository.
    """

    users: UserRepository
    hasher: PasswordHasher
    ids: IdGenerator
    clock: Clock
    policy: PasswordPolicy

    def register(self, username: str, email: str, password: str, role: Role) -> User:
        return self.users.add(self.prepare(username, email, password, role))

    def prepare(self, username: str, email: str, password: str, role: Role) -> User:
        """The new user, checked and hashed, not yet stored."""
        return User(
            id=self.ids.new_id(),
            username=Username(username),
            email=Email(email),
            password_hash=self.hasher.hash(self.policy.check(password)),
            role=role,
            is_active=True,
            created_at=self.clock.now(),
        )
