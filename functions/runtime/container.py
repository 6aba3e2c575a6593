"""The composition root: adapters built once per cold start, handed to interactors.

Nothing here runs at import. An interactor is built on demand from its own
constructor's fields (``Container.make``), and ``container.<use_case>()`` imports
only that use case's module: a function's cold start loads the use case it runs,
not all forty of them. In Lambda, ``get_container`` is first called by the handler
module's import (``functions.runtime.startup``: init builds it); elsewhere by the
first request. Tests install their own with ``use_container``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import timedelta
from functools import cache
from importlib import import_module
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

from core.application.errors import DependencyUnavailable, PaymentProviderUnavailable
from functions.runtime.settings import Settings, get_settings

logger = logging.getLogger("strata.container")

# The ports and the collaborators the container provides: named here for the
# type checker and for ``_providers`` (which reads annotations as strings), and
# imported where they are built, so a function loads only the application
# modules of what it uses (about 40 ms of CPU at a cold start otherwise).
if TYPE_CHECKING:
    from core.adapters.email.outbox import Outbox
    from core.application.account_emails import AccountLinks
    from core.application.billing import (
        BillingConfig,
        Customers,
        SubscriptionWriter,
    )
    from core.application.commands.authenticate import Authenticate
    from core.application.commands.run_task import RunTask
    from core.application.limits import EmailPolicy, EmailThrottle, LoginPolicy
    from core.application.org_billing import (
        CancelAtPeriodEnd,
        OrgBillingStore,
        OrgBillingWriter,
        SeatSync,
    )
    from core.application.org_ports import (
        AuditLog,
        InvitationStore,
        OrganizationStore,
    )
    from core.application.organizations import (
        AuditTrail,
        InvitationPolicy,
        PlatformAudit,
    )
    from core.application.ports import (
        BillingStore,
        Clock,
        CursorCodec,
        ExportStore,
        IdGenerator,
        Mailer,
        OneTimeTokens,
        OrganizationSeats,
        PasswordHasher,
        PaymentProvider,
        RateLimiter,
        SessionStore,
        TaskQueue,
        TaskStore,
        TokenCodec,
        UserRepository,
        WebhookVerifier,
    )
    from core.application.registration import Registrar
    from core.application.seat_billing import SeatBilling
    from core.application.tasks import JobRegistry, TaskSubmitter
    from core.domain.billing import PlanCatalog
    from core.domain.password import PasswordPolicy

T = TypeVar("T")
_Provider = Callable[["Container"], Any]


def _provides(method: Callable[[Container], T]) -> Callable[[Container], T]:
    """Marks a method as the provider of what it returns, for ``Container.make``."""
    method._provides = True  # type: ignore[attr-defined]
    return method


def _type_name(annotation: Any) -> str:
    """``UserRepository`` for ``UserRepository`` or for the string of a postponed
    annotation (``from __future__ import annotations``, which most of core has)."""
    text = annotation if isinstance(annotation, str) else annotation.__name__
    return str(text).rsplit(".", 1)[-1]


def _has_default(field_: Any) -> bool:
    return field_.default is not MISSING or field_.default_factory is not MISSING


def use_case(name: str) -> type[Any] | None:
    """The interactor of ``core/application/{commands,queries}/<name>.py``: by the
    one-interactor-per-file convention, the class named after the module."""
    for package in ("commands", "queries"):
        try:
            module = import_module(f"core.application.{package}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"core.application.{package}.{name}":
                raise
            continue
        kind = getattr(module, name.title().replace("_", ""), None)
        return kind if isinstance(kind, type) else None
    return None


@dataclass
class Container:
    """The ports, wired. ``make(Kind)`` builds any interactor from its constructor's
    fields, each resolved by its type among the ports and the ``_provides`` methods
    below, else by its name (a setting such as ``session_ttl``);
    ``container.<use_case>()`` does the same for ``core/application/commands`` or
    ``queries/<use_case>.py``. A new use case needs no line here."""

    settings: Settings
    users: UserRepository
    sessions: SessionStore
    hasher: PasswordHasher
    tokens: TokenCodec
    cursors: CursorCodec
    clock: Clock
    ids: IdGenerator
    attempts: RateLimiter
    tasks: TaskStore
    queue: TaskQueue
    exports: ExportStore
    mailer: Mailer
    # Link tokens in emails (``tokens`` is the session JWT codec).
    link_tokens: OneTimeTokens
    # Billing: the plans, Stripe, the webhook signature check, billing storage.
    catalog: PlanCatalog
    payments: PaymentProvider
    webhooks: WebhookVerifier
    billing: BillingStore
    # Organizations: orgs and members, invitations, audit logs (one table).
    orgs: OrganizationStore
    invitations: InvitationStore
    audit: AuditLog
    # Organizations' billing state (on their items) and the index of those whose
    # subscription has not ended (the daily seat reconciliation reads it).
    org_billing: OrgBillingStore
    org_seats: OrganizationSeats

    def make(self, kind: type[T]) -> T:
        """A ``kind`` (a dataclass), each field given what the container provides
        for its type, or else for its name."""
        by_type, by_name = _providers()
        values: dict[str, Any] = {}
        for field_ in fields(kind):  # type: ignore[arg-type]
            provider = by_type.get(_type_name(field_.type)) or by_name.get(field_.name)
            if provider is None and _has_default(field_):
                continue  # an optional collaborator nothing here gives yet
            if provider is None:
                raise TypeError(
                    f"{kind.__name__}.{field_.name}: nothing in the container provides "
                    f"a {_type_name(field_.type)}; add a port field or a @_provides "
                    "method to functions.runtime.container.Container"
                )
            values[field_.name] = provider(self)
        return kind(**values)

    def __getattr__(self, name: str) -> Callable[[], Any]:
        # Only reached for names that are not attributes: a use case's module name.
        kind = use_case(name) if not name.startswith("_") else None
        if kind is None:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        return lambda: self.make(kind)

    # -- what the interactors get beside the ports ------------------------------------

    @property
    @_provides
    def session_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.session_ttl_seconds)

    @_provides
    def renew_threshold(self) -> float:
        return self.settings.session_renew_threshold

    @property
    @_provides
    def policy(self) -> PasswordPolicy:
        from core.domain.password import PasswordPolicy

        return PasswordPolicy(min_length=self.settings.password_min_length)

    @property
    @_provides
    def session_max_age(self) -> timedelta:
        return timedelta(seconds=self.settings.session_max_age_seconds)

    @property
    @_provides
    def login_policy(self) -> LoginPolicy:
        from functions.runtime.limits import login_policy

        return login_policy(self.settings)

    @property
    @_provides
    def email_policy(self) -> EmailPolicy:
        from functions.runtime.limits import email_policy

        return email_policy(self.settings)

    @_provides
    def email_throttle(self) -> EmailThrottle:
        from core.application.limits import EmailThrottle

        return self.make(EmailThrottle)

    @_provides
    def registrar(self) -> Registrar:
        from core.application.registration import Registrar

        return self.make(Registrar)

    @_provides
    def submitter(self) -> TaskSubmitter:
        from core.application.tasks import TaskSubmitter

        return TaskSubmitter(
            self.tasks,
            self.queue,
            self.ids,
            self.clock,
            timedelta(seconds=self.settings.task_keep_seconds),
        )

    @property
    @_provides
    def links(self) -> AccountLinks:
        from core.application.account_emails import AccountLinks

        return AccountLinks(self.settings.app_base_url)

    @property
    @_provides
    def billing_config(self) -> BillingConfig:
        from core.application.billing import BillingConfig

        base = self.settings.app_base_url.rstrip("/")
        return BillingConfig(
            catalog=self.catalog,
            grace=timedelta(days=self.settings.billing_grace_days),
            proration_behavior=self.settings.billing_proration_behavior,
            invoice_days_until_due=self.settings.billing_invoice_days_until_due,
            event_keep=timedelta(days=self.settings.stripe_event_keep_days),
            proration_token_ttl=timedelta(
                seconds=self.settings.billing_proration_token_ttl_seconds
            ),
            # Stripe fills in {CHECKOUT_SESSION_ID} itself.
            success_url=f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/billing/cancel",
            portal_return_url=f"{base}/account",
        )

    @_provides
    def subscription_writer(self) -> SubscriptionWriter:
        from core.application.billing import SubscriptionWriter

        return self.make(SubscriptionWriter)

    @_provides
    def customers(self) -> Customers:
        from core.application.billing import Customers

        return self.make(Customers)

    @_provides
    def seat_billing(self) -> SeatBilling:
        from core.application.seat_billing import SeatBilling

        return self.make(SeatBilling)

    @_provides
    def seat_sync(self) -> SeatSync:
        from core.application.org_billing import SeatSync

        return self.make(SeatSync)

    @_provides
    def org_billing_writer(self) -> OrgBillingWriter:
        from core.application.org_billing import OrgBillingWriter

        return self.make(OrgBillingWriter)

    @_provides
    def cancel_at_period_end(self) -> CancelAtPeriodEnd:
        from core.application.org_billing import CancelAtPeriodEnd

        return self.make(CancelAtPeriodEnd)

    @_provides
    def trail(self) -> AuditTrail:
        from core.application.organizations import AuditTrail
        from functions.runtime.observability import correlation_id

        return AuditTrail(
            self.clock,
            self.ids,
            timedelta(days=self.settings.audit_retention_days),
            correlation_id,
        )

    @property
    @_provides
    def platform_audit(self) -> PlatformAudit:
        """The platform's audit log, given to the admin use cases on users
        (grant/revoke admin, activate/deactivate, a password set by an admin)."""
        from core.application.organizations import PlatformAudit

        return PlatformAudit(self.audit, self.trail())

    @property
    @_provides
    def invitation_policy(self) -> InvitationPolicy:
        from core.application.organizations import InvitationPolicy

        return InvitationPolicy(
            per_org=self.settings.invitations_per_org,
            per_address=self.settings.invitations_per_address,
            window=timedelta(seconds=self.settings.invitation_window_seconds),
            ttl=timedelta(seconds=self.settings.invitation_ttl_seconds),
        )

    # -- the interactors whose settings no field name or type tells apart --------------

    def authenticate(self) -> Authenticate:
        from core.application.commands.authenticate import Authenticate

        # Two lifetimes of one type: by name (``session_ttl``, ``session_max_age``).
        return self.make(Authenticate)

    def registry(self) -> JobRegistry:
        """Every job a worker runs, by task name: a new job is one more entry."""

        from core.application.jobs.export_users import ExportUsersJob
        from core.application.jobs.purge_unverified import PurgeUnverifiedJob
        from core.application.jobs.reconcile_subscriptions import (
            ReconcileSubscriptionsJob,
        )
        from core.application.jobs.send_email import SendEmailJob
        from core.application.jobs.send_invitation import SendInvitationJob
        from core.application.jobs.send_password_reset import SendPasswordResetJob
        from core.application.jobs.send_verification_email import (
            SendVerificationEmailJob,
        )
        from core.application.jobs.sync_seats import SyncSeatsJob
        from core.application.tasks import (
            EXPORT_USERS,
            PURGE_UNVERIFIED,
            RECONCILE_SUBSCRIPTIONS,
            SEND_EMAIL,
            SEND_INVITATION,
            SEND_PASSWORD_RESET,
            SEND_VERIFICATION_EMAIL,
            SYNC_SEATS,
            JobRegistry,
        )

        links = self.links
        return JobRegistry(
            {
                EXPORT_USERS: ExportUsersJob(
                    self.users,
                    self.exports,
                    timedelta(seconds=self.settings.export_link_seconds),
                    self.clock,
                ),
                SEND_EMAIL: SendEmailJob(self.mailer),
                SEND_INVITATION: SendInvitationJob(
                    self.orgs,
                    self.invitations,
                    self.users,
                    self.mailer,
                    self.clock,
                    links,
                ),
                SEND_VERIFICATION_EMAIL: SendVerificationEmailJob(
                    self.users,
                    self.link_tokens,
                    self.mailer,
                    self.clock,
                    links,
                    timedelta(seconds=self.settings.email_verification_ttl_seconds),
                ),
                SEND_PASSWORD_RESET: SendPasswordResetJob(
                    self.users,
                    self.link_tokens,
                    self.mailer,
                    self.clock,
                    links,
                    timedelta(seconds=self.settings.password_reset_ttl_seconds),
                ),
                PURGE_UNVERIFIED: PurgeUnverifiedJob(
                    self.users,
                    self.sessions,
                    self.clock,
                    timedelta(days=self.settings.unverified_purge_days),
                ),
                RECONCILE_SUBSCRIPTIONS: ReconcileSubscriptionsJob(
                    self.billing,
                    self.users,
                    self.payments,
                    self.subscription_writer(),
                    self.clock,
                    seats=self.org_seats,
                    seat_billing=self.seat_billing(),
                ),
                SYNC_SEATS: SyncSeatsJob(self.orgs, self.seat_billing()),
            }
        )

    def run_task(self, family: str) -> RunTask:
        """The worker of ``family``: it knows that family's jobs and no other."""
        from core.application.commands.run_task import RunTask

        return RunTask(
            self.tasks,
            self.registry().only(family),
            self.clock,
            timedelta(seconds=self.settings.task_lease_seconds),
            self.settings.task_max_receives,
        )


@cache
def _providers() -> tuple[dict[str, _Provider], dict[str, _Provider]]:
    """What the container provides, by type name and by name: its ports (fields)
    and its ``_provides`` methods (by their return type)."""
    by_type: dict[str, _Provider] = {}
    by_name: dict[str, _Provider] = {}
    ambiguous: set[str] = set()

    def provide(type_name: str, name: str, provider: _Provider) -> None:
        # A type two providers give (two ``timedelta`` settings, say) says
        # nothing: a field of that type is matched by its name alone.
        if type_name in by_type:
            ambiguous.add(type_name)
        by_type[type_name] = by_name[name] = provider

    for field_ in fields(Container):
        provide(_type_name(field_.type), field_.name, attrgetter(field_.name))
    for name, member in vars(Container).items():
        method: Any = member.fget if isinstance(member, property) else member
        if getattr(method, "_provides", False):
            provide(_type_name(method.__annotations__["return"]), name, method)
    for type_name in ambiguous:
        del by_type[type_name]
    return by_type, by_name


def build_container(settings: Settings) -> Container:
    """Wire the real adapters. Their imports live here so that importing a handler
    module outside Lambda (tests, the local stack) stays cheap; in Lambda, init
    calls this (``functions.runtime.startup``)."""
    from core.adapters.clock import OffsetClock, SystemClock
    from core.adapters.cursors import HmacCursorCodec
    from core.adapters.dynamodb.billing import DynamoBillingStore
    from core.adapters.dynamodb.models import bind_tables
    from core.adapters.dynamodb.one_time_tokens import DynamoOneTimeTokens
    from core.adapters.dynamodb.org_billing import (
        DynamoOrganizationSeats,
        DynamoOrgBillingStore,
    )
    from core.adapters.dynamodb.orgs import (
        DynamoAuditLog,
        DynamoInvitationStore,
        DynamoOrganizationStore,
    )
    from core.adapters.dynamodb.rate_limits import DynamoRateLimiter
    from core.adapters.dynamodb.sessions import DynamoSessionStore
    from core.adapters.dynamodb.tasks import DynamoTaskStore
    from core.adapters.dynamodb.users import DynamoUserRepository
    from core.adapters.email.ses import SesMailer
    from core.adapters.ids import RandomIds
    from core.adapters.s3_exports import S3ExportStore
    from core.adapters.sqs import SqsTaskQueue
    from core.adapters.tokens import JwtTokenCodec
    from functions.runtime.observability import correlation_id
    from functions.runtime.plans import load_plan_catalog
    from functions.runtime.secrets import resolve_secrets

    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
        orgs_table=settings.orgs_table,
        user_shards=settings.user_index_shards,
        previous_indexes=settings.previous_user_indexes,
    )
    settings = resolve_secrets(settings, client=_secrets_client(settings))
    secret = settings.jwt_secret_value()
    clock: Clock = (
        OffsetClock(settings.clock_offset_file)
        if settings.clock_offset_file
        else SystemClock()
    )
    return Container(
        settings=settings,
        users=DynamoUserRepository(),
        sessions=DynamoSessionStore(),
        hasher=_hasher(settings),
        tokens=JwtTokenCodec(secret, now=clock.now),
        cursors=HmacCursorCodec(secret),
        clock=clock,
        ids=RandomIds(),
        attempts=DynamoRateLimiter(),
        # The AWS clients of these are made by their first use, not here.
        tasks=DynamoTaskStore(clock),
        queue=SqsTaskQueue(settings.task_queue_urls(), settings.region, correlation_id),
        exports=S3ExportStore(settings.exports_bucket, settings.region),
        mailer=SesMailer(
            settings.email_from,
            settings.ses_configuration_set,
            _outbox(settings),
            region=settings.region,
        ),
        link_tokens=DynamoOneTimeTokens(),
        catalog=load_plan_catalog(settings),
        # Built by their first use: a function that never calls Stripe never
        # imports the SDK (nor finds it: it ships only in the billing layer).
        payments=cast("PaymentProvider", Deferred(lambda: _payments(settings, clock))),
        webhooks=cast("WebhookVerifier", Deferred(lambda: _webhooks(settings))),
        billing=DynamoBillingStore(),
        orgs=DynamoOrganizationStore(),
        invitations=DynamoInvitationStore(),
        audit=DynamoAuditLog(),
        org_billing=DynamoOrgBillingStore(),
        org_seats=DynamoOrganizationSeats(),
    )


def _secrets_client(settings: Settings) -> Any:
    """A Secrets Manager client on the botocore session of the DynamoDB client the
    models share, if this function holds a secret: a client on a session of its
    own loads botocore's endpoint data again (about 60 ms of CPU at cold start),
    one beside another on a session costs a few."""
    from functions.runtime.secrets import holds_secrets

    if not holds_secrets(settings):
        return None
    from core.adapters.dynamodb.models import UserItem, table_connection

    session = table_connection(UserItem).connection.session
    return session.create_client("secretsmanager", region_name=settings.region)


class _NoPepper(DependencyUnavailable):
    default_message = "this function may not handle passwords"


class PepperlessHasher:
    """What a function without the password pepper gets (only the functions that
    declare ``secrets:pepper`` read it): any use is a 503 and an error in the logs,
    never a hash made with the wrong pepper."""

    def _refuse(self) -> NoReturn:
        logger.error("a password was hashed by a function without the pepper")
        raise _NoPepper()

    def hash(self, password: str) -> str:
        self._refuse()

    def verify(self, password: str, password_hash: str) -> bool:
        self._refuse()

    def dummy_verify(self, password: str) -> None:
        self._refuse()


def _hasher(settings: Settings) -> PasswordHasher:
    from core.adapters.passwords import BcryptPasswordHasher

    pepper = settings.pepper_value()
    if pepper is None:
        return PepperlessHasher()
    return BcryptPasswordHasher(pepper, settings.bcrypt_rounds)


class Deferred:
    """Stands for an adapter made by ``make`` at the first attribute asked of it
    (or by ``made``: Lambda's init makes it ahead of the first request)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._made: Any = None

    def made(self) -> Any:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)


class _StripeNotConfigured(PaymentProviderUnavailable):
    default_message = "billing is not configured for this service"


class UnconfiguredPayments:
    """What a function without the Stripe key gets: every call is a 503 that says
    why, instead of a cold start that fails for every route."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise _StripeNotConfigured()

        return refuse


def _payments(settings: Settings, clock: Clock) -> PaymentProvider:
    """Stripe (or the local emulator, by ``stripe_api_base``). Building it opens no
    connection: the client's pool is made by the first call."""
    try:
        key = settings.stripe_api_key_value()
    except ValueError:
        return cast("PaymentProvider", UnconfiguredPayments())
    # Imported here: only the functions that call Stripe load the SDK.
    from core.adapters.stripe.provider import build_payment_provider

    return build_payment_provider(
        key,
        base_url=settings.stripe_api_base,
        now=clock.now,
        # Writes read for longer (core.adapters.stripe.http.WRITE_TIMEOUT); every
        # call and its retries end within the HTTP client's deadline, inside the
        # timeout of the functions that call Stripe
        # (functions.resources.STRIPE_FUNCTION_TIMEOUT_SECONDS).
        read_timeout=settings.stripe_timeout_seconds,
        max_retries=settings.stripe_max_retries,
    )


def _webhooks(settings: Settings) -> WebhookVerifier:
    try:
        secret = settings.stripe_webhook_secret_value()
    except ValueError:
        return cast("WebhookVerifier", _UnconfiguredWebhooks())
    from core.adapters.stripe.webhooks import StripeWebhookVerifier

    # The signature's timestamp is checked against the real time, not ``clock``:
    # Stripe (and the emulator) sign with the real time even when the local
    # clock has been moved forward.
    return StripeWebhookVerifier(secret)


class _UnconfiguredWebhooks:
    def verify(self, payload: bytes, signature_header: str) -> Any:
        raise _StripeNotConfigured()


def _outbox(settings: Settings) -> Outbox | None:
    """The local stack's outbox folder, if one is set (never in AWS)."""
    if not settings.outbox_dir:
        return None
    from core.adapters.email.outbox import Outbox

    return Outbox(settings.outbox_dir)


_container: Container | None = None


def get_container() -> Container:
    global _container
    if _container is None:
        _container = build_container(get_settings())
    return _container


def current() -> Container | None:
    """The process's container if one is built (or installed), without building."""
    return _container


def use_container(container: Container | None) -> None:
    """Replace the process's container (tests, the CLI); ``None`` rebuilds lazily."""
    global _container
    _container = container
