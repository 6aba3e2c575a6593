"""The one source of the DynamoDB table shapes: pynamodb models.

The local stack creates its tables from these models, and the CDK app builds (or is
checked against) the same key schemas, indexes and TTL attributes.

Table names are not known at import: ``bind_tables`` sets them once per cold start.
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import (
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.billing_attributes import BillingAttributes
from core.adapters.dynamodb.org_models import ORG_MODELS, OrgItem

# Every user item carries ``list_pk``, its shard of the listing partitions
# (``shards``: ``USER.0`` ...), so the listing indexes Query a few partitions in order
# instead of scanning the table. Marker items lack it, which keeps them out of those
# (sparse) indexes. Before sharding every user had this one constant; migration 0003
# moves them (``shards``).
LEGACY_USER_PARTITION = "USER"


def user_key(user_id: str) -> str:
    return f"USER#{user_id}"


def username_marker_key(username_key: str) -> str:
    return f"USERNAME#{username_key}"


def email_marker_key(email_key: str) -> str:
    return f"EMAIL#{email_key}"


def customer_marker_key(customer_id: str) -> str:
    return f"STRIPE_CUSTOMER#{customer_id}"


def stripe_event_key(event_id: str) -> str:
    return f"STRIPE_EVENT#{event_id}"


# ``billing_pk`` is set (to the user's ``SUBSCRIBED.<shard>``) only while a user's
# subscription can still change: the sparse index of those users is what the daily
# reconciliation Queries. ``unverified_pk`` (``UNVERIFIED.<shard>``) only while the
# email is unverified: the purge of unverified accounts Queries that index. Before
# sharding both held these constants.
LEGACY_SUBSCRIBED_PARTITION = "SUBSCRIBED"
LEGACY_UNVERIFIED_PARTITION = "UNVERIFIED"


# What a listing shows of a user (the admin's list, the export): the index carries
# these and nothing else, so no index holds a password hash, and a page is read from
# the index alone. The jobs that write users back (the purge, the reconciliation)
# read their index's keys only, then the whole items by key (``BatchGetItem``).
LISTED_ATTRIBUTES = ("id", "username", "email", "role", "is_active", "email_verified")


class UsersByCreatedAt(GlobalSecondaryIndex["UserItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "users_by_created_at_v2"
        projection = IncludeProjection(list(LISTED_ATTRIBUTES))

    list_pk = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class UsersByUsername(GlobalSecondaryIndex["UserItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "users_by_username_v2"
        projection = IncludeProjection([*LISTED_ATTRIBUTES, "created_at"])

    list_pk = UnicodeAttribute(hash_key=True)
    username_lower = UnicodeAttribute(range_key=True)


class UnverifiedUsers(GlobalSecondaryIndex["UserItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only users whose email is unverified carry ``unverified_pk``."""

    class Meta:
        index_name = "unverified_users_v2"
        projection = KeysOnlyProjection()

    unverified_pk = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class SubscribedUsers(GlobalSecondaryIndex["UserItem"]):  # type: ignore[no-untyped-call]
    """Sparse: only users with a subscription in a non-terminal state carry
    ``billing_pk``."""

    class Meta:
        index_name = "subscribed_users_v2"
        projection = KeysOnlyProjection()

    billing_pk = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


# Each users index by the name it had while it projected the whole item (password
# hash included). DynamoDB cannot change an index's projection, so the narrow one is
# a new index beside it; CloudFormation creates or deletes only one index per table
# update, so a stage that has the old ones moves over in steps (the README's "Index
# projections"): while it does, ``use_previous_indexes`` points the code at them.
PREVIOUS_INDEX_NAMES = {
    "users_by_created_at_v2": "users_by_created_at",
    "users_by_username_v2": "users_by_username",
    "unverified_users_v2": "unverified_users",
    "subscribed_users_v2": "subscribed_users",
}


class UserItem(BillingAttributes, Model):
    """A user: ``pk`` is ``USER#<id>``. The billing attributes (``stripe_*`` and
    ``sub_*``, declared in ``BillingAttributes``) are absent until the user first
    checks out."""

    class Meta:
        table_name = "strata-users"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute()
    username = UnicodeAttribute()
    username_lower = UnicodeAttribute()
    email = UnicodeAttribute()
    email_lower = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    is_active = BooleanAttribute()
    created_at = UTCDateTimeAttribute()
    session_epoch = NumberAttribute(default=0)
    # Added after the first release; migration 0001 backfills it on older items.
    email_verified = BooleanAttribute(null=True)
    list_pk = UnicodeAttribute()
    # The user's ``UNVERIFIED.<shard>`` while the email is unverified, else absent;
    # migration 0002 sets it on users stored before it existed.
    unverified_pk = UnicodeAttribute(null=True)
    # The user's ``SUBSCRIBED.<shard>`` while the subscription is not terminal.
    billing_pk = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_created_at = UsersByCreatedAt()
    by_username = UsersByUsername()
    unverified = UnverifiedUsers()
    subscribed = SubscribedUsers()


class UniqueMarker(Model):
    """Claims a username, an email or a Stripe customer in the users table: ``pk``
    is ``USERNAME#<key>``, ``EMAIL#<key>`` or ``STRIPE_CUSTOMER#<id>``. Written only
    with ``attribute_not_exists``, in the same transaction as the user it points at."""

    class Meta:
        table_name = "strata-users"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class SessionsByUser(GlobalSecondaryIndex["SessionItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "sessions_by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)


class SessionItem(Model):
    """A login session. ``expires_at`` is the TTL attribute; reads still compare it
    with the clock, because TTL deletion can lag by hours."""

    class Meta:
        table_name = "strata-sessions"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    epoch = NumberAttribute(default=0)

    by_user = SessionsByUser()


def rate_counter_key(name: str, key: str, window_index: int) -> str:
    return f"RATE#{name}#{window_index}#{key}"


class RateCounterItem(Model):
    """One rate-limit counter in the sessions table: ``id`` is
    ``RATE#<limit name>#<window number>#<key>`` (a username's log-ins, a client's
    failures, an address's emails), ``hits`` the count in that fixed window,
    ``expires_at`` (the table's TTL attribute) the window's end. It has no
    ``user_id``, so it stays out of the sessions index."""

    class Meta:
        table_name = "strata-sessions"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


def one_time_token_key(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


class OneTimeTokenItem(Model):
    """A link token in the sessions table: ``id`` is ``TOKEN#<sha256 hex of the
    token>`` (the token itself is never stored), ``expires_at`` the table's TTL
    attribute. The user is in ``token_user_id``, not ``user_id``, so tokens stay out
    of the sessions index."""

    class Meta:
        table_name = "strata-sessions"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()
    token_user_id = UnicodeAttribute()
    # The user's epoch when issued: a password change or reset since ends it.
    epoch = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class MigrationRecord(Model):
    """A data migration's state in the users table: ``pk`` is ``MIGRATION#<id>``;
    ``checkpoint`` lets an interrupted run resume; ``applied_at`` marks it done.
    ``MIGRATION#LOCK`` is the lease that keeps two runs from overlapping."""

    class Meta:
        table_name = "strata-users"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    applied_at = UTCDateTimeAttribute(null=True)
    checkpoint = UnicodeAttribute(null=True)
    changed = NumberAttribute(default=0)
    owner = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)


class TaskItem(Model):
    """A background task, in its own table: ``payload`` and ``result`` are JSON
    text. ``expires_at`` is the TTL attribute; reads still compare it with the
    clock. ``lease_until`` is when the running attempt's hold on the task runs out,
    after which another delivery may take it over."""

    class Meta:
        table_name = "strata-tasks"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    owner_id = UnicodeAttribute(null=True)
    payload = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    result = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)


class StripeEventItem(Model):
    """A processed Stripe webhook event, in the tasks table: ``id`` is
    ``STRIPE_EVENT#<event id>``, written with ``attribute_not_exists`` in the same
    transaction as the state change it caused; ``expires_at`` is the TTL."""

    class Meta:
        table_name = "strata-tasks"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    processed_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


# Models that own a table: the ones to create, in table order.
TABLE_MODELS: tuple[type[Model], ...] = (UserItem, SessionItem, TaskItem, OrgItem)
ALL_MODELS: tuple[type[Model], ...] = (
    UserItem,
    UniqueMarker,
    SessionItem,
    RateCounterItem,
    OneTimeTokenItem,
    MigrationRecord,
    TaskItem,
    StripeEventItem,
    *ORG_MODELS,
)


def bind_tables(
    users_table: str,
    sessions_table: str,
    region: str,
    *,
    tasks_table: str,
    user_shards: int | None = None,
    previous_indexes: bool = False,
    orgs_table: str | None = None,
) -> None:
    """Point the models at the stage's tables (and, if given, set the stage's user
    index shard count). Call once per cold start, before use. ``previous_indexes``:
    Query the users indexes by their previous names (``PREVIOUS_INDEX_NAMES``), while
    a stage's rollout has not yet switched to the new ones.

    Endpoints come from the environment (``AWS_ENDPOINT_URL``), never from here, so
    the same code talks to moto locally and to DynamoDB in AWS. Without
    ``orgs_table`` the organization models keep the table they name (in
    ``region``).
    """
    if user_shards is not None:
        shards.configure(user_shards)
    changed = _name_indexes(previous_indexes)
    bindings: tuple[tuple[type[Model], str], ...] = (
        (UserItem, users_table),
        (UniqueMarker, users_table),
        (MigrationRecord, users_table),
        (SessionItem, sessions_table),
        (RateCounterItem, sessions_table),
        (OneTimeTokenItem, sessions_table),
        (TaskItem, tasks_table),
        (StripeEventItem, tasks_table),
        *((m, orgs_table or _table_of(m)) for m in ORG_MODELS),
    )
    for model, name in bindings:
        meta: Any = model.Meta
        if meta.table_name == name and getattr(meta, "region", None) == region:
            continue
        meta.table_name = name
        meta.region = region
        changed = True
    if changed:
        reconnect()
    else:
        _share_one_client()


def _table_of(model: type[Model]) -> str:
    meta: Any = model.Meta
    return str(meta.table_name)


# pynamodb has no public way to hand a model a connection or a client: each model
# class builds and caches its own on first use. The functions below are the one
# place that reaches into that cache (``Model._get_connection``, ``_connection``,
# ``Connection._client``); the rest of the code and the tests use them, and only
# pynamodb's public classes (``TableConnection``, ``Connection``) and botocore's
# client beyond them.


def _name_indexes(previous: bool) -> bool:
    """Give the users indexes their new names, or their previous ones; whether any
    name changed. pynamodb keys a model's indexes by name (``_indexes``) and builds
    its connection's table description from them, so a change rebuilds both."""
    by_new_name = {v: k for k, v in PREVIOUS_INDEX_NAMES.items()}
    changed = False
    for index in list(UserItem._indexes.values()):
        meta: Any = index.Meta
        new_name = by_new_name.get(meta.index_name, meta.index_name)
        wanted = PREVIOUS_INDEX_NAMES.get(new_name, new_name) if previous else new_name
        if meta.index_name != wanted:
            meta.index_name = wanted
            changed = True
    if changed:
        UserItem._indexes = {i.Meta.index_name: i for i in UserItem._indexes.values()}
    return changed


def reconnect() -> None:
    """Rebuild every model's connection from its ``Meta`` and the environment (the
    endpoint, timeouts and retries are read only when a connection is built), again
    sharing one client."""
    for model in ALL_MODELS:
        # The cached connection holds its table, region and client: dropping it
        # makes the next use build a new one.
        model._connection = None
    _share_one_client()


def table_connection(model: type[Model]) -> TableConnection:
    """The low-level connection ``model`` itself uses: its table, its client. For
    the calls pynamodb's ``Model`` does not offer, such as a conditional delete
    that returns the deleted item, or a transaction's ``connection``."""
    return model._get_connection()


def dynamodb_client() -> BaseClient:
    """The botocore DynamoDB client the models share, once ``bind_tables`` ran: for
    calls across tables (BatchGetItem) and for table settings pynamodb does not
    manage (TTL)."""
    return table_connection(UserItem).connection.client


def dynamodb_clients() -> tuple[BaseClient, ...]:
    """Every distinct botocore client the models use, in model order: a single
    one once ``bind_tables`` ran. What a hook that must see every DynamoDB call
    registers on."""
    unique: dict[int, BaseClient] = {}
    for model in ALL_MODELS:
        client = table_connection(model).connection.client
        unique.setdefault(id(client), client)
    return tuple(unique.values())


def _share_one_client() -> None:
    """Let every model's connection use one botocore DynamoDB client.

    pynamodb builds each model class's client on its own botocore session, and a
    client on a fresh session costs tens of milliseconds of CPU (the bench saw a
    log-in's first request build four). A DynamoDB client is not bound to a table
    and is thread-safe, so one serves them all; each connection keeps its own
    table metadata.
    """
    connections = [table_connection(model).connection for model in ALL_MODELS]
    client = connections[0].client
    for connection in connections[1:]:
        connection._client = client
