"""The composition root: adapters built once per cold start, handed to interactors.

Nothing here runs at import, and each factory imports its interactor itself: a
function's cold start loads the use case it runs, not all forty of them.
``get_container`` builds on the first request; tests install their own with
``use_container``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from core.application.account_emails import AccountLinks
from core.application.billing import (
    BillingConfig,
    Customers,
    SubscriptionWriter,
)
from core.application.errors import PaymentProviderUnavailable
from core.application.limits import EmailPolicy, EmailThrottle, LoginPolicy
from core.application.ports import (
    BillingStore,
    Clock,
    CursorCodec,
    ExportStore,
    IdGenerator,
    Mailer,
    OneTimeTokens,
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
from core.application.tasks import (
    EXPORT_USERS,
    PURGE_UNVERIFIED,
    RECONCILE_SUBSCRIPTIONS,
    SEND_EMAIL,
    SEND_PASSWORD_RESET,
    SEND_VERIFICATION_EMAIL,
    JobRegistry,
    TaskSubmitter,
)
from core.domain.billing import PlanCatalog
from core.domain.password import PasswordPolicy
from functions.runtime.limits import email_policy, login_policy
from functions.runtime.settings import Settings, get_settings

if TYPE_CHECKING:
    from core.adapters.email.outbox import Outbox
    from core.application.commands.activate_user import ActivateUser
    from core.application.commands.authenticate import Authenticate
    from core.application.commands.cancel_subscription import CancelSubscription
    from core.application.commands.change_password import ChangePassword
    from core.application.commands.change_plan import ChangePlan
    from core.application.commands.create_super_admin import CreateSuperAdmin
    from core.application.commands.create_user import CreateUser
    from core.application.commands.deactivate_user import DeactivateUser
    from core.application.commands.grant_admin import GrantAdmin
    from core.application.commands.handle_stripe_event import HandleStripeEvent
    from core.application.commands.log_in import LogIn
    from core.application.commands.log_out import LogOut
    from core.application.commands.open_billing_portal import OpenBillingPortal
    from core.application.commands.request_export import RequestExport
    from core.application.commands.request_password_reset import RequestPasswordReset
    from core.application.commands.resend_verification import ResendVerification
    from core.application.commands.reset_password import ResetPassword
    from core.application.commands.resume_subscription import ResumeSubscription
    from core.application.commands.revoke_admin import RevokeAdmin
    from core.application.commands.run_task import RunTask
    from core.application.commands.sign_up import SignUp
    from core.application.commands.start_checkout import StartCheckout
    from core.application.commands.verify_email import VerifyEmail
    from core.application.queries.get_account import GetAccount
    from core.application.queries.get_subscription import GetSubscription
    from core.application.queries.get_task import GetTask
    from core.application.queries.list_invoices import ListInvoices
    from core.application.queries.list_users import ListUsers
    from core.application.queries.preview_plan_change import PreviewPlanChange


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

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.session_ttl_seconds)

    @property
    def policy(self) -> PasswordPolicy:
        return PasswordPolicy(min_length=self.settings.password_min_length)

    @property
    def login_policy(self) -> LoginPolicy:
        return login_policy(self.settings)

    @property
    def email_policy(self) -> EmailPolicy:
        return email_policy(self.settings)

    def email_throttle(self) -> EmailThrottle:
        return EmailThrottle(self.attempts, self.clock, self.email_policy)

    def registrar(self) -> Registrar:
        return Registrar(self.users, self.hasher, self.ids, self.clock, self.policy)

    def authenticate(self) -> Authenticate:
        from core.application.commands.authenticate import Authenticate

        return Authenticate(
            self.sessions,
            self.tokens,
            self.clock,
            self.session_ttl,
            self.settings.session_renew_threshold,
            timedelta(seconds=self.settings.session_max_age_seconds),
        )

    def sign_up(self) -> SignUp:
        from core.application.commands.sign_up import SignUp

        return SignUp(self.registrar(), self.submitter(), self.email_throttle())

    def create_user(self) -> CreateUser:
        from core.application.commands.create_user import CreateUser

        return CreateUser(self.registrar())

    def create_super_admin(self) -> CreateSuperAdmin:
        from core.application.commands.create_super_admin import CreateSuperAdmin

        return CreateSuperAdmin(self.registrar())

    def log_in(self) -> LogIn:
        from core.application.commands.log_in import LogIn

        return LogIn(
            self.users,
            self.sessions,
            self.hasher,
            self.tokens,
            self.ids,
            self.clock,
            self.session_ttl,
            self.attempts,
            self.login_policy,
        )

    def log_out(self) -> LogOut:
        from core.application.commands.log_out import LogOut

        return LogOut(self.sessions)

    def change_password(self) -> ChangePassword:
        from core.application.commands.change_password import ChangePassword

        return ChangePassword(
            self.users,
            self.sessions,
            self.hasher,
            self.policy,
            self.attempts,
            self.clock,
            self.login_policy,
        )

    def grant_admin(self) -> GrantAdmin:
        from core.application.commands.grant_admin import GrantAdmin

        return GrantAdmin(self.users)

    def revoke_admin(self) -> RevokeAdmin:
        from core.application.commands.revoke_admin import RevokeAdmin

        return RevokeAdmin(self.users)

    def activate_user(self) -> ActivateUser:
        from core.application.commands.activate_user import ActivateUser

        return ActivateUser(self.users)

    def deactivate_user(self) -> DeactivateUser:
        from core.application.commands.deactivate_user import DeactivateUser

        return DeactivateUser(self.users, self.sessions)

    def get_account(self) -> GetAccount:
        from core.application.queries.get_account import GetAccount

        return GetAccount(self.billing_config, self.clock)

    def list_users(self) -> ListUsers:
        from core.application.queries.list_users import ListUsers

        return ListUsers(self.users, self.cursors)

    # -- background tasks --------------------------------------------------------------

    def submitter(self) -> TaskSubmitter:
        return TaskSubmitter(
            self.tasks,
            self.queue,
            self.ids,
            self.clock,
            timedelta(seconds=self.settings.task_keep_seconds),
        )

    def registry(self) -> JobRegistry:
        """Every job a worker runs, by task name: a new job is one more entry."""

        from core.application.jobs.export_users import ExportUsersJob
        from core.application.jobs.purge_unverified import PurgeUnverifiedJob
        from core.application.jobs.reconcile_subscriptions import (
            ReconcileSubscriptionsJob,
        )
        from core.application.jobs.send_email import SendEmailJob
        from core.application.jobs.send_password_reset import SendPasswordResetJob
        from core.application.jobs.send_verification_email import (
            SendVerificationEmailJob,
        )

        return JobRegistry(
            {
                EXPORT_USERS: ExportUsersJob(
                    self.users,
                    self.exports,
                    timedelta(seconds=self.settings.export_link_seconds),
                    self.clock,
                ),
                SEND_EMAIL: SendEmailJob(self.mailer),
                SEND_VERIFICATION_EMAIL: SendVerificationEmailJob(
                    self.users,
                    self.link_tokens,
                    self.mailer,
                    self.clock,
                    self.links,
                    timedelta(seconds=self.settings.email_verification_ttl_seconds),
                ),
                SEND_PASSWORD_RESET: SendPasswordResetJob(
                    self.users,
                    self.link_tokens,
                    self.mailer,
                    self.clock,
                    self.links,
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
                ),
            }
        )

    def run_task(self) -> RunTask:
        from core.application.commands.run_task import RunTask

        return RunTask(
            self.tasks,
            self.registry(),
            self.clock,
            timedelta(seconds=self.settings.task_lease_seconds),
            self.settings.task_max_receives,
        )

    def request_export(self) -> RequestExport:
        from core.application.commands.request_export import RequestExport

        return RequestExport(self.submitter(), self.ids)

    def get_task(self) -> GetTask:
        from core.application.queries.get_task import GetTask

        return GetTask(self.tasks, self.clock)

    # -- email and the account flows that need it --------------------------------------

    @property
    def links(self) -> AccountLinks:
        return AccountLinks(self.settings.app_base_url)

    def verify_email(self) -> VerifyEmail:
        from core.application.commands.verify_email import VerifyEmail

        return VerifyEmail(self.users, self.link_tokens, self.clock)

    def resend_verification(self) -> ResendVerification:
        from core.application.commands.resend_verification import ResendVerification

        return ResendVerification(self.submitter(), self.email_throttle())

    def request_password_reset(self) -> RequestPasswordReset:
        from core.application.commands.request_password_reset import (
            RequestPasswordReset,
        )

        return RequestPasswordReset(self.submitter(), self.email_throttle())

    def reset_password(self) -> ResetPassword:
        from core.application.commands.reset_password import ResetPassword

        return ResetPassword(
            self.users,
            self.sessions,
            self.link_tokens,
            self.hasher,
            self.clock,
            self.policy,
            self.attempts,
            self.login_policy,
        )

    # -- billing -----------------------------------------------------------------------

    @property
    def billing_config(self) -> BillingConfig:
        base = self.settings.app_base_url.rstrip("/")
        return BillingConfig(
            catalog=self.catalog,
            grace=timedelta(days=self.settings.billing_grace_days),
            proration_behavior=self.settings.billing_proration_behavior,
            invoice_days_until_due=self.settings.billing_invoice_days_until_due,
            event_keep=timedelta(days=self.settings.stripe_event_keep_days),
            # Stripe fills in {CHECKOUT_SESSION_ID} itself.
            success_url=f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/billing/cancel",
            portal_return_url=f"{base}/account",
        )

    def subscription_writer(self) -> SubscriptionWriter:
        return SubscriptionWriter(self.users, self.catalog)

    def start_checkout(self) -> StartCheckout:
        from core.application.commands.start_checkout import StartCheckout

        return StartCheckout(
            Customers(self.users, self.billing, self.payments),
            self.payments,
            self.billing_config,
            self.clock,
            self.ids,
        )

    def open_billing_portal(self) -> OpenBillingPortal:
        from core.application.commands.open_billing_portal import OpenBillingPortal

        return OpenBillingPortal(self.payments, self.billing_config)

    def get_subscription(self) -> GetSubscription:
        from core.application.queries.get_subscription import GetSubscription

        return GetSubscription(self.billing_config, self.clock)

    def preview_plan_change(self) -> PreviewPlanChange:
        from core.application.queries.preview_plan_change import PreviewPlanChange

        return PreviewPlanChange(self.payments, self.billing_config)

    def change_plan(self) -> ChangePlan:
        from core.application.commands.change_plan import ChangePlan

        return ChangePlan(
            self.payments, self.subscription_writer(), self.billing_config, self.clock
        )

    def cancel_subscription(self) -> CancelSubscription:
        from core.application.commands.cancel_subscription import CancelSubscription

        return CancelSubscription(self.payments, self.subscription_writer(), self.clock)

    def resume_subscription(self) -> ResumeSubscription:
        from core.application.commands.resume_subscription import ResumeSubscription

        return ResumeSubscription(self.payments, self.subscription_writer(), self.clock)

    def list_invoices(self) -> ListInvoices:
        from core.application.queries.list_invoices import ListInvoices

        return ListInvoices(self.payments, self.cursors)

    def handle_stripe_event(self) -> HandleStripeEvent:
        from core.application.commands.handle_stripe_event import HandleStripeEvent

        return HandleStripeEvent(
            self.webhooks,
            self.users,
            self.billing,
            self.payments,
            self.submitter(),
            self.billing_config,
            self.clock,
        )


def build_container(settings: Settings) -> Container:
    """Wire the real adapters. Their imports live here so that importing a handler
    module stays cheap and the cost is paid by the first request that needs it."""
    from core.adapters.clock import OffsetClock, SystemClock
    from core.adapters.cursors import HmacCursorCodec
    from core.adapters.dynamodb.billing import DynamoBillingStore
    from core.adapters.dynamodb.models import bind_tables
    from core.adapters.dynamodb.one_time_tokens import DynamoOneTimeTokens
    from core.adapters.dynamodb.rate_limits import DynamoRateLimiter
    from core.adapters.dynamodb.sessions import DynamoSessionStore
    from core.adapters.dynamodb.tasks import DynamoTaskStore
    from core.adapters.dynamodb.users import DynamoUserRepository
    from core.adapters.email.ses import SesMailer
    from core.adapters.ids import RandomIds
    from core.adapters.passwords import BcryptPasswordHasher
    from core.adapters.s3_exports import S3ExportStore
    from core.adapters.sqs import SqsTaskQueue
    from core.adapters.tokens import JwtTokenCodec
    from functions.runtime.plans import load_plan_catalog
    from functions.runtime.secrets import resolve_secrets

    settings = resolve_secrets(settings)
    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
    )
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
        hasher=BcryptPasswordHasher(settings.pepper_value(), settings.bcrypt_rounds),
        tokens=JwtTokenCodec(secret, now=clock.now),
        cursors=HmacCursorCodec(secret),
        clock=clock,
        ids=RandomIds(),
        attempts=DynamoRateLimiter(),
        # The AWS clients of these are made by their first use, not here.
        tasks=DynamoTaskStore(clock),
        queue=SqsTaskQueue(settings.task_queue_url, settings.region),
        exports=S3ExportStore(settings.exports_bucket, settings.region),
        mailer=SesMailer(
            settings.email_from,
            settings.ses_configuration_set,
            _outbox(settings),
            region=settings.region,
        ),
        link_tokens=DynamoOneTimeTokens(),
        catalog=load_plan_catalog(settings),
        payments=_payments(settings, clock),
        webhooks=_webhooks(settings),
        billing=DynamoBillingStore(),
    )


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
        return cast(PaymentProvider, UnconfiguredPayments())
    from core.adapters.stripe.client import StripeClient
    from core.adapters.stripe.provider import StripePaymentProvider

    client = StripeClient(
        key,
        base_url=settings.stripe_api_base,
        # With the default read timeout and retries, the worst case (3 attempts
        # of 2 + 6 s, plus backoff) stays inside the timeout of the functions
        # that call Stripe (functions.resources.STRIPE_FUNCTION_TIMEOUT_SECONDS).
        connect_timeout=2.0,
        read_timeout=settings.stripe_timeout_seconds,
        max_retries=settings.stripe_max_retries,
    )
    return StripePaymentProvider(client, now=clock.now)


def _webhooks(settings: Settings) -> WebhookVerifier:
    try:
        secret = settings.stripe_webhook_secret_value()
    except ValueError:
        return cast(WebhookVerifier, _UnconfiguredWebhooks())
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


def use_container(container: Container | None) -> None:
    """Replace the process's container (tests, the CLI); ``None`` rebuilds lazily."""
    global _container
    _container = container
