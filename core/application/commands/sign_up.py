from __future__ import annotations

from dataclasses import dataclass

from core.application.errors import AlreadyAuthenticated
from core.application.registration import Registrar
from core.domain.user import Role, User


@dataclass(frozen=True, slots=True)
class SignUp:
    """Anyone not logged in creates their own account, with the role ``user``.

    Raises ``AlreadyAuthenticated`` when ``current`` is a logged-in user, the domain's
    ``Invalid*`` errors for bad values, ``UsernameTaken`` or ``EmailTaken``.
    """

    registrar: Registrar

    def execute(
        self, username: str, email: str, password: str, current: User | None
    ) -> User:
        if current is not None:
            raise AlreadyAuthenticated()
        return self.registrar.register(username, email, password, Role.USER)
