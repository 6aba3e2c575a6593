"""Response bodies shared by several endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from core.application.ports import UserSummary
from core.domain.billing import Entitlements
from core.domain.user import User

if TYPE_CHECKING:
    from core.application.billing import SubscriptionView
    from core.application.org_billing import OrgSubscriptionView
    from core.application.org_ports import MyOrganization
    from core.application.queries.get_account import AccountView
    from core.domain.organization import AuditEntry, Membership


class Body(BaseModel):
    """A request body: a field it does not know is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class FromAttributes(BaseModel):
    """A response body that can be read from an object's attributes
    (``model_validate(obj, from_attributes=True)``, or as a field of one)."""

    model_config = ConfigDict(from_attributes=True)


# A time written as ``datetime.isoformat()`` writes it (read from a datetime).
IsoTime = Annotated[str, BeforeValidator(datetime.isoformat)]


class UserOut(BaseModel):
    id: str
    username: str
    email: str


class UserDetail(BaseModel):
    id: str
    username: str
    email: str
    role: str
    is_active: bool
    created_at: str
    email_verified: bool

    @classmethod
    def of(cls, user: User | UserSummary) -> UserDetail:
        return cls(
            id=user.id,
            username=user.username.value,
            email=user.email.value,
            role=user.role.value,
            is_active=user.is_active,
            created_at=user.created_at.isoformat(),
            email_verified=user.email_verified,
        )


# -- billing -----------------------------------------------------------------------

# What a request may ask to be billed by (``core.domain.billing.Interval``'s values).
BillingInterval = Literal["month", "year"]


class EntitlementsOut(BaseModel):
    features: list[str]
    limits: dict[str, int]
    # Set while a failed payment's grace period runs: paid features last until then.
    grace_until: datetime | None = None

    @classmethod
    def of(cls, rights: Entitlements) -> EntitlementsOut:
        return cls(
            features=sorted(rights.features),
            limits=dict(rights.limits),
            grace_until=rights.grace_until,
        )


class AccountDetail(UserDetail):
    """The user's own account: ``UserDetail`` plus the plan in force."""

    plan: str
    subscription_status: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    entitlements: EntitlementsOut

    @classmethod
    def of_account(cls, account: AccountView) -> AccountDetail:
        # The view has every field under the same name; only entitlements change shape.
        same = {name: getattr(account, name) for name in cls.model_fields}
        same["entitlements"] = EntitlementsOut.of(account.entitlements)
        return cls(**same)


class SubscriptionOut(BaseModel):
    # Stripe's subscription id (what support and the Stripe dashboard know it by).
    id: str | None
    plan: str
    # The plan the subscription is for; ``plan`` above is the one in force now.
    subscribed_plan: str | None
    status: str | None
    interval: str | None
    currency: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    entitlements: EntitlementsOut

    @classmethod
    def of(cls, view: SubscriptionView) -> SubscriptionOut:
        subscription, rights = view.subscription, view.entitlements
        return cls(
            id=subscription.id if subscription else None,
            plan=rights.plan.key,
            subscribed_plan=subscription.plan_key if subscription else None,
            status=subscription.shown_status.value if subscription else None,
            interval=subscription.interval.value if subscription else None,
            currency=subscription.currency if subscription else None,
            current_period_end=subscription.current_period_end
            if subscription
            else None,
            cancel_at_period_end=(
                subscription.cancel_at_period_end if subscription else False
            ),
            trial_end=subscription.trial_end if subscription else None,
            entitlements=EntitlementsOut.of(rights),
        )


class RedirectUrl(BaseModel):
    """Where to send the user's browser next (Stripe Checkout, the portal, an
    invoice page)."""

    url: str


class OrgSubscriptionOut(SubscriptionOut):
    # Members now, and the most the plan allows (null: no limit).
    seats_used: int
    seat_limit: int | None

    @classmethod
    def of_org(cls, view: OrgSubscriptionView) -> OrgSubscriptionOut:
        # Imported here: only the organization billing endpoints pay for it.
        from core.application.billing import SubscriptionView

        base = SubscriptionOut.of(
            SubscriptionView(view.subscription, view.entitlements)
        )
        return cls(
            **base.model_dump(), seats_used=view.seats_used, seat_limit=view.seat_limit
        )


class InvoiceOut(FromAttributes):
    id: str
    number: str | None
    status: str
    # In the currency's smallest unit (cents).
    amount_due: int
    amount_paid: int
    currency: str
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    created: datetime


class InvoiceList(BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None


class PlanChoice(Body):
    # What a personal or an organization's checkout buys.
    plan: str = Field(min_length=1, max_length=32)
    interval: BillingInterval = "month"
    # Lowercase ISO 4217, as Stripe writes it.
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")


class ChangeRequest(Body):
    plan: str = Field(min_length=1, max_length=32)
    interval: BillingInterval = "month"
    # From a preview (signed by the server, good for a few minutes): the change
    # then charges exactly what the preview showed. Without it: prorated now.
    proration_token: str | None = Field(default=None, min_length=1, max_length=2048)


class ChangePreview(BaseModel):
    # What the change would invoice now, in the currency's smallest unit.
    amount_due: int
    currency: str
    # Send it back with the change to be charged exactly ``amount_due``.
    proration_token: str


# -- organizations -------------------------------------------------------------------


class OrgOut(BaseModel):
    """An organization the caller belongs to, with their role in it."""

    id: str
    name: str
    role: str

    @classmethod
    def of(cls, mine: MyOrganization) -> OrgOut:
        org = mine.organization
        return cls(id=org.id, name=org.name.value, role=mine.membership.role.value)


class OrgDetail(OrgOut):
    """``OrgOut`` plus the plan, the subscription and the seats."""

    plan: str
    subscription_status: str | None
    seats_used: int
    # The plan's seats; null where the plan sets no limit.
    seat_limit: int | None
    # The seats the subscription bills (Stripe's quantity, as its webhook last
    # reported it); null without a live subscription.
    seats_paid: int | None

    @classmethod
    def of_detail(cls, mine: MyOrganization) -> OrgDetail:
        org = mine.organization
        subscription = org.billing.subscription
        return cls(
            **OrgOut.of(mine).model_dump(),
            plan=org.plan_key,
            subscription_status=subscription.shown_status.value
            if subscription
            else None,
            seats_used=org.seats_used,
            seat_limit=org.seat_limit,
            seats_paid=subscription.quantity
            if subscription and not subscription.is_terminal
            else None,
        )


class MemberOut(BaseModel):
    user_id: str
    role: str
    joined_at: datetime

    @classmethod
    def of(cls, membership: Membership) -> MemberOut:
        role = membership.role.value
        return cls(
            user_id=membership.user_id, role=role, joined_at=membership.joined_at
        )


class AuditEntryOut(BaseModel):
    id: str
    # The user who acted.
    actor: str
    action: str
    target: str
    at: datetime
    request_id: str | None
    details: dict[str, str]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            actor=entry.actor,
            action=entry.action.value,
            target=entry.target,
            at=entry.at,
            request_id=entry.request_id,
            details=dict(entry.details),
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
