"""The billing attributes of an item that pays Stripe (a user, an organization):
one declaration of them and one mapping to and from ``Billing``.

They are top-level attributes of the item, not a nested map, under the names they
have always been stored with (``stripe_customer_id``, ``sub_*``): items written
before this module read back unchanged, and the sparse indexes and update
expressions keep naming them directly. A model takes them by inheriting
``BillingAttributes`` (pynamodb finds attributes on the bases of a model); an
organization adds ``sub_quantity`` of its own, the seats Stripe bills.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from core.domain.billing import Billing, Interval, Subscription, SubscriptionStatus


class BillingAttributes:
    """The Stripe customer and subscription, absent until the first checkout."""

    stripe_customer_id = UnicodeAttribute(null=True)
    sub_id = UnicodeAttribute(null=True)
    sub_status = UnicodeAttribute(null=True)
    sub_price_id = UnicodeAttribute(null=True)
    sub_plan = UnicodeAttribute(null=True)
    sub_interval = UnicodeAttribute(null=True)
    sub_currency = UnicodeAttribute(null=True)
    sub_item_id = UnicodeAttribute(null=True)
    sub_period_end = UTCDateTimeAttribute(null=True)
    sub_cancel_at_period_end = BooleanAttribute(null=True)
    sub_observed_at = UTCDateTimeAttribute(null=True)
    sub_trial_end = UTCDateTimeAttribute(null=True)
    sub_past_due_since = UTCDateTimeAttribute(null=True)
    # Set while a bank-transfer subscription's first invoice is unpaid.
    sub_awaiting_payment = BooleanAttribute(null=True)
    # Set while the subscription is paid by invoice (bank transfer).
    sub_by_invoice = BooleanAttribute(null=True)


_B = BillingAttributes
# The subscription's attributes (all but the customer's), as declared above.
_SUBSCRIPTION = tuple(
    attribute
    for name, attribute in vars(BillingAttributes).items()
    if name.startswith("sub_") and isinstance(attribute, Attribute)
)


def read_billing(
    item: BillingAttributes, created_at: datetime, quantity: int = 1
) -> Billing:
    """The ``Billing`` stored on ``item``. A subscription stored without the time
    it was observed counts as observed when the item was made (``created_at``);
    ``quantity`` is the item's seats billed, where it keeps them."""
    subscription = None
    if item.sub_id:
        subscription = Subscription(
            id=item.sub_id,
            status=SubscriptionStatus(item.sub_status),
            price_id=item.sub_price_id or "",
            plan_key=item.sub_plan or "",
            interval=Interval(item.sub_interval or Interval.MONTH),
            currency=item.sub_currency or "",
            item_id=item.sub_item_id or "",
            current_period_end=item.sub_period_end,
            cancel_at_period_end=bool(item.sub_cancel_at_period_end),
            observed_at=item.sub_observed_at or created_at,
            trial_end=item.sub_trial_end,
            past_due_since=item.sub_past_due_since,
            awaiting_first_payment=bool(item.sub_awaiting_payment),
            paid_by_invoice=bool(item.sub_by_invoice),
            quantity=quantity,
        )
    return Billing(customer_id=item.stripe_customer_id, subscription=subscription)


def billing_values(billing: Billing) -> list[tuple[Attribute[Any], Any]]:
    """Each billing attribute with the value that stores ``billing`` (``None``:
    absent, so no subscription leaves no ``sub_*`` behind): for a new item
    (``write_billing``) or an update expression (``attribute.set``/``remove``)."""
    subscription = billing.subscription
    customer: tuple[Attribute[Any], Any] = (_B.stripe_customer_id, billing.customer_id)
    if subscription is None:
        return [customer, *((attribute, None) for attribute in _SUBSCRIPTION)]
    return [
        customer,
        (_B.sub_id, subscription.id),
        (_B.sub_status, subscription.status.value),
        (_B.sub_price_id, subscription.price_id),
        (_B.sub_plan, subscription.plan_key),
        (_B.sub_interval, subscription.interval.value),
        (_B.sub_currency, subscription.currency),
        (_B.sub_item_id, subscription.item_id),
        (_B.sub_period_end, subscription.current_period_end),
        (_B.sub_cancel_at_period_end, subscription.cancel_at_period_end),
        (_B.sub_observed_at, subscription.observed_at),
        (_B.sub_trial_end, subscription.trial_end),
        (_B.sub_past_due_since, subscription.past_due_since),
        # Stored only when true: the absent attribute reads back as false.
        (_B.sub_awaiting_payment, subscription.awaiting_first_payment or None),
        (_B.sub_by_invoice, subscription.paid_by_invoice or None),
    ]


def write_billing(item: BillingAttributes, billing: Billing) -> None:
    """Set ``item``'s billing attributes to ``billing``'s."""
    for attribute, value in billing_values(billing):
        setattr(item, attribute.attr_name, value)
