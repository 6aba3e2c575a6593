"""Application errors: a use case refused to proceed.

Each carries a stable ``code``; ``functions.runtime.errors`` maps the types to HTTP.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """Base of every error an interactor raises on purpose."""

    code = "application_error"
    default_message = "the request could not be completed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAuthenticated(ApplicationError):
    code = "not_authenticated"
    default_message = "log in first"


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    default_message = "wrong username or password"


class AccountInactive(ApplicationError):
    code = "account_inactive"
    default_message = "this account is deactivated"


class AlreadyAuthenticated(ApplicationError):
    code = "already_authenticated"
    default_message = "log out first"


class PermissionDenied(ApplicationError):
    code = "forbidden"
    default_message = "you may not do this"


class WrongPassword(ApplicationError):
    code = "wrong_password"
    default_message = "the current password is wrong"


class UserNotFound(ApplicationError):
    code = "user_not_found"
    default_message = "no such user"


class UsernameTaken(ApplicationError):
    code = "username_taken"
    default_message = "this username is taken"


class EmailTaken(ApplicationError):
    code = "email_taken"
    default_message = "this email is already registered"


class InvalidCursor(ApplicationError):
    code = "invalid_cursor"
    default_message = "the cursor is not valid for this query"


class ConcurrentUpdate(ApplicationError):
    code = "concurrent_update"
    default_message = "the resource changed meanwhile; try again"


class DependencyUnavailable(ApplicationError):
    code = "dependency_unavailable"
    default_message = "a service we depend on is unavailable; try again"


class PermanentFailure(ApplicationError):
    """A job's work refused for good by a dependency (SES rejecting an address):
    no retry can change the answer, so the task fails at once, without a retry
    or a trip to the dead letter queue."""

    code = "permanent_failure"
    default_message = "the work was refused for good"


class TooManyAttempts(ApplicationError):
    """Refused outright for a while (a rate limit: log-in guesses, emails);
    ``retry_after`` is in whole seconds."""

    code = "too_many_attempts"
    default_message = "too many attempts; try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class InvalidToken(ApplicationError):
    """A link token that is unknown, used, expired or for something else."""

    code = "invalid_token"
    default_message = "this link is invalid or has expired"


class TaskNotFound(ApplicationError):
    """No such task, or not one the caller may see: the two are not told apart."""

    code = "task_not_found"
    default_message = "no such task"


class CurrentPasswordRequired(ApplicationError):
    code = "current_password_required"
    default_message = "send current_password to change your own password"


class InvalidPageRequest(ApplicationError):
    code = "invalid_page_request"
    default_message = "limit must be between 1 and 100"


class TaskExists(ApplicationError):
    """A task with this id was submitted before (ids given by the submitter)."""

    code = "task_exists"
    default_message = "this task was submitted before"


# -- billing -------------------------------------------------------------------------


class PlanRequired(ApplicationError):
    """The user's plan lacks a feature; ``plans`` are the plans that have it."""

    code = "plan_required"
    default_message = "your plan does not include this feature"

    def __init__(self, feature: str, plans: list[str]) -> None:
        names = ", ".join(plans) if plans else "no plan"
        super().__init__(f"{feature!r} needs one of these plans: {names}")
        self.feature = feature
        self.plans = plans


class EmailNotVerified(ApplicationError):
    """Buying needs a verified email: the purge removes unverified accounts, and
    who pays must be reachable."""

    code = "email_not_verified"
    default_message = "verify your email address before buying a plan"


class UnknownPlan(ApplicationError):
    code = "unknown_plan"
    default_message = "no such plan"


class PriceUnavailable(ApplicationError):
    code = "price_unavailable"
    default_message = "this plan is not sold at that interval and currency"


class BankTransferUnavailable(ApplicationError):
    code = "bank_transfer_unavailable"
    default_message = "this plan cannot be paid by bank transfer"


class AlreadySubscribed(ApplicationError):
    code = "already_subscribed"
    default_message = "you already have this plan"


class SubscriptionExists(ApplicationError):
    code = "subscription_exists"
    default_message = (
        "you already have a subscription: change it with "
        "POST /api/v1/billing/subscription/change"
    )


class NoSubscription(ApplicationError):
    code = "no_subscription"
    default_message = "you have no subscription to change"


class NoBillingAccount(ApplicationError):
    code = "no_billing_account"
    default_message = "there is no billing account yet: check out a plan first"


class PaymentFailed(ApplicationError):
    """A change that invoices at once was not paid: it was not applied (the user
    keeps the plan they paid for). ``payment_url`` is where to pay for it."""

    code = "payment_failed"
    default_message = (
        "the payment for this change failed, so your plan did not change: pay the "
        "invoice to apply it"
    )

    def __init__(self, payment_url: str | None) -> None:
        super().__init__()
        self.payment_url = payment_url


class InvalidProrationToken(ApplicationError):
    """A proration token that is forged, altered, expired, or was issued for
    another user, subscription or price."""

    code = "invalid_proration_token"
    default_message = (
        "the proration token is invalid or expired: preview the change again"
    )


class PaymentProviderUnavailable(DependencyUnavailable):
    code = "payment_provider_unavailable"
    default_message = "the payment provider is unavailable; try again"


class PaymentProviderRejected(ApplicationError):
    """Stripe refused a request (for example, resuming a canceled subscription)."""

    code = "payment_provider_rejected"
    default_message = "the payment provider refused the request"


class CustomerMissing(PaymentProviderRejected):
    """Stripe no longer has the customer named (deleted in the dashboard, say)."""

    code = "customer_missing"
    default_message = "the payment provider has no such customer"


class InvalidSignature(ApplicationError):
    code = "invalid_signature"
    default_message = "the webhook signature is missing, wrong or too old"


class DuplicateEvent(ApplicationError):
    """A webhook event already processed: a no-op, not a failure."""

    code = "duplicate_event"
    default_message = "this event was processed before"
