"""The organizations table: organizations, memberships, invitations and audit
entries, as pynamodb models (the one source of the table's shape; ``models`` lists
them with the other tables).

One table, primary key ``pk`` + ``sk``:

- an organization: ``ORG#<id>`` / ``ORG``, with its counters ``seats_used`` and
  ``owners_count`` (kept by the same transactions as the memberships);
- a membership: ``ORG#<id>`` / ``MEMBER#<user id>``: an organization's members are a
  Query of its partition; a user's organizations a Query of ``orgs_by_member``;
- an invitation: ``ORG#<id>`` / ``INVITE#<email key>`` (one per address, so
  inviting again replaces it); found by its link token's hash in
  ``invitations_by_token``;
- a Stripe customer's claim: ``CUSTOMER#<customer id>`` / ``CUSTOMER``, naming the
  organization it was made for (webhooks that name only the customer find it);
- an audit entry: ``AUDIT#<log>`` / ``<ISO time>#<entry id>``, read newest first
  with a descending Query. A log (an organization's id, or ``platform``) outlives
  its organization: entries leave only by TTL (``expires_at``, the retention).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from core.adapters.dynamodb.billing_attributes import BillingAttributes

ORGS_TABLE = "strata-orgs"
ORG_SK = "ORG"
MEMBER_PREFIX = "MEMBER#"
INVITE_PREFIX = "INVITE#"
CUSTOMER_SK = "CUSTOMER"
# The one partition of ``seated_orgs``: the organizations whose subscription has
# not ended (a few thousand at most; the daily job reads them all, in pages).
SEATED = "SEATED"


def org_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def member_sk(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def invitation_sk(email_key: str) -> str:
    return f"{INVITE_PREFIX}{email_key}"


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def audit_pk(log: str) -> str:
    return f"AUDIT#{log}"


def audit_sk(at: datetime, entry_id: str) -> str:
    # Fixed-width UTC text, so that string order is time order.
    text: str = UTCDateTimeAttribute().serialize(at)  # type: ignore[no-untyped-call]
    return f"{text}#{entry_id}"


class OrgsByMember(GlobalSecondaryIndex["OrgItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only membership items carry ``member_user_id``. It projects what a
    membership is (its role and when it began), nothing else (no index carries
    more than its listing shows)."""

    class Meta:
        index_name = "orgs_by_member"
        projection = IncludeProjection(["role", "joined_at"])

    member_user_id = UnicodeAttribute(hash_key=True)
    member_org_id = UnicodeAttribute(range_key=True)


class InvitationsByToken(GlobalSecondaryIndex["OrgItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only invitations whose email went out carry ``token_hash``. Keys
    only: the invitation is then read consistently by its key."""

    class Meta:
        index_name = "invitations_by_token"
        projection = KeysOnlyProjection()

    token_hash = UnicodeAttribute(hash_key=True)


class SeatedOrgs(GlobalSecondaryIndex["OrgItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only organizations whose stored subscription has not ended carry
    ``seated`` (always ``SEATED``); the daily reconciliation Queries it. It
    projects what that job reads: the subscription and the member count."""

    class Meta:
        index_name = "seated_orgs"
        projection = IncludeProjection(["sub_id", "seats_used"])

    seated = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class OrgItem(BillingAttributes, Model):
    """An organization. It owns the table, so it declares the indexes (and their
    key attributes, which only the other items of the table carry) and the TTL
    attribute (which only invitations and audit entries carry). Its billing is a
    person's (``BillingAttributes``) plus ``sub_quantity``."""

    class Meta:
        table_name = ORGS_TABLE
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    plan_key = UnicodeAttribute(null=True)
    # Absent: no limit.
    seat_limit = NumberAttribute(null=True)
    seats_used = NumberAttribute(default=0)
    # A plan change's seat hold (``OrgBillingStore.hold_seats``): while
    # ``seat_hold_until`` is ahead, joins check ``seat_hold`` (the seats of the
    # plan ``seat_hold_plan``) too. Apart from ``seat_limit`` so that the billing
    # writes (webhooks') never move it.
    seat_hold = NumberAttribute(null=True)
    seat_hold_plan = UnicodeAttribute(null=True)
    seat_hold_until = UTCDateTimeAttribute(null=True)
    owners_count = NumberAttribute(default=0)
    # Moved on by every write of the organization item (written by hand, not a
    # pynamodb VersionAttribute: the seat counters change under their own
    # conditions, without a version check that would make every join collide).
    version = NumberAttribute(default=0)
    # The subscription item's quantity: the seats Stripe bills.
    sub_quantity = NumberAttribute(null=True)
    # ``SEATED`` while the subscription has not ended: puts it in ``seated_orgs``.
    seated = UnicodeAttribute(null=True)
    # The index keys of the other items (never set on an organization).
    member_user_id = UnicodeAttribute(null=True)
    member_org_id = UnicodeAttribute(null=True)
    token_hash = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    by_member = OrgsByMember()
    by_token = InvitationsByToken()
    seated_orgs = SeatedOrgs()


class MembershipItem(Model):
    """A member of an organization; ``member_*`` put it in ``orgs_by_member``."""

    class Meta:
        table_name = ORGS_TABLE
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    member_user_id = UnicodeAttribute()
    member_org_id = UnicodeAttribute()
    role = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute()


class InvitationItem(Model):
    """An invitation; ``token_hash`` (the SHA-256 of its link token, never the
    token) is set when its email is sent. ``expires_at`` is the table's TTL: an
    accepted invitation stays until then, so a second use is told "used"."""

    class Meta:
        table_name = ORGS_TABLE
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    invitation_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    token_hash = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    accepted_by = UnicodeAttribute(null=True)


class CustomerClaimItem(Model):
    """A Stripe customer made for an organization: written with the customer's id
    on the organization, in one transaction, and only by that organization."""

    class Meta:
        table_name = ORGS_TABLE
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()


class AuditItem(Model):
    """An audit entry, written once with ``attribute_not_exists``; ``details`` is
    JSON text; ``expires_at`` (the TTL) ends its retention."""

    class Meta:
        table_name = ORGS_TABLE
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entry_id = UnicodeAttribute()
    log = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    request_id = UnicodeAttribute(null=True)
    details = UnicodeAttribute(null=True)


ORG_MODELS: tuple[type[Model], ...] = (
    OrgItem,
    MembershipItem,
    InvitationItem,
    CustomerClaimItem,
    AuditItem,
)
