"""The composition root: adapters built once per cold start, handed to interactors.

Nothing here runs at import. ``get_container`` builds on the first request;
tests install their own with ``use_container``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.commands.activate_user import ActivateUser
from core.application.commands.authenticate import Authenticate
from core.application.commands.change_password import ChangePassword
from core.application.commands.create_super_admin import CreateSuperAdmin
from core.application.commands.create_user import CreateUser
from core.application.commands.deactivate_user import DeactivateUser
from core.application.commands.grant_admin import GrantAdmin
from core.application.commands.log_in import LogIn, LoginPolicy
from core.application.commands.log_out import LogOut
from core.application.commands.revoke_admin import RevokeAdmin
from core.application.commands.sign_up import SignUp
from core.application.ports import (
    Clock,
    CursorCodec,
    IdGenerator,
    LoginAttempts,
    PasswordHasher,
    SessionStore,
    TokenCodec,
    UserRepository,
)
from core.application.queries.get_account import GetAccount
from core.application.queries.list_users import ListUsers
from core.application.registration import Registrar
from core.domain.password import PasswordPolicy
from functions.runtime.settings import Settings, get_settings


@dataclass
class Container:
    """The ports, wired; one small factory method per interactor."""

    settings: Settings
    users: UserRepository
    sessions: SessionStore
    hasher: PasswordHasher
    tokens: TokenCodec
    cursors: CursorCodec
    clock: Clock
    ids: IdGenerator
    attempts: LoginAttempts

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.session_ttl_seconds)

    @property
    def policy(self) -> PasswordPolicy:
        return PasswordPolicy(min_length=self.settings.password_min_length)

    def registrar(self) -> Registrar:
        return Registrar(self.users, self.hasher, self.ids, self.clock, self.policy)

    def authenticate(self) -> Authenticate:
        return Authenticate(
            self.sessions,
            self.tokens,
            self.clock,
            self.session_ttl,
            self.settings.session_renew_threshold,
        )

    def sign_up(self) -> SignUp:
        return SignUp(self.registrar())

    def create_user(self) -> CreateUser:
        return CreateUser(self.registrar())

    def create_super_admin(self) -> CreateSuperAdmin:
        return CreateSuperAdmin(self.registrar())

    def log_in(self) -> LogIn:
        return LogIn(
            self.users,
            self.sessions,
            self.hasher,
            self.tokens,
            self.ids,
            self.clock,
            self.session_ttl,
            self.attempts,
            LoginPolicy(
                max_failures=self.settings.login_max_failures,
                window=timedelta(seconds=self.settings.login_window_seconds),
            ),
        )

    def log_out(self) -> LogOut:
        return LogOut(self.sessions)

    def change_password(self) -> ChangePassword:
        return ChangePassword(self.users, self.sessions, self.hasher, self.policy)

    def grant_admin(self) -> GrantAdmin:
        return GrantAdmin(self.users)

    def revoke_admin(self) -> RevokeAdmin:
        return RevokeAdmin(self.users)

    def activate_user(self) -> ActivateUser:
        return ActivateUser(self.users)

    def deactivate_user(self) -> DeactivateUser:
        return DeactivateUser(self.users, self.sessions)

    def get_account(self) -> GetAccount:
        return GetAccount()

    def list_users(self) -> ListUsers:
        return ListUsers(self.users, self.cursors)


def build_container(settings: Settings) -> Container:
    """Wire the real adapters. Their imports live here so that importing a handler
    module stays cheap and the cost is paid by the first request that needs it."""
    from core.adapters.clock import SystemClock
    from core.adapters.cursors import HmacCursorCodec
    from core.adapters.dynamodb.login_attempts import DynamoLoginAttempts
    from core.adapters.dynamodb.models import bind_tables
    from core.adapters.dynamodb.sessions import DynamoSessionStore
    from core.adapters.dynamodb.users import DynamoUserRepository
    from core.adapters.ids import RandomIds
    from core.adapters.passwords import BcryptPasswordHasher
    from core.adapters.tokens import JwtTokenCodec
    from functions.runtime.secrets import resolve_secrets

    settings = resolve_secrets(settings)
    bind_tables(settings.users_table, settings.sessions_table, settings.region)
    secret = settings.jwt_secret_value()
    return Container(
        settings=settings,
        users=DynamoUserRepository(),
        sessions=DynamoSessionStore(),
        hasher=BcryptPasswordHasher(settings.pepper_value(), settings.bcrypt_rounds),
        tokens=JwtTokenCodec(secret),
        cursors=HmacCursorCodec(secret),
        clock=SystemClock(),
        ids=RandomIds(),
        attempts=DynamoLoginAttempts(),
    )


_container: Container | None = None


def get_container() -> Container:
    global _container
    if _container is None:
        _container = build_container(get_settings())
    return _container


def use_container(container: Container | None) -> None:
    """Replace the process's container (tests, the CLI); ``None`` rebuilds lazily."""
    global _container
    _container = container
