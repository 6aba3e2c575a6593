"""``OrganizationStore``, ``InvitationStore`` and ``AuditLog`` on DynamoDB, in the
organizations table (``org_models``).

Every change is one TransactWriteItems with its audit entry; the limits (a free
seat, another owner, a token used once) are conditions of that write, never a read
followed by a write. Listings are Queries of one partition or index.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from core.adapters.dynamodb.billing_attributes import read_billing, write_billing
from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import table_connection
from core.adapters.dynamodb.org_models import (
    INVITE_PREFIX,
    MEMBER_PREFIX,
    ORG_SK,
    AuditItem,
    InvitationItem,
    MembershipItem,
    OrgItem,
    audit_pk,
    audit_sk,
    invitation_sk,
    member_sk,
    org_pk,
)
from core.application.errors import ConcurrentUpdate, InvalidCursor
from core.application.org_ports import (
    AuditPage,
    InvitationPage,
    MembershipPage,
    MyOrganization,
    MyOrganizationPage,
)
from core.application.ports import Position
from core.domain.organization import (
    AlreadyMember,
    AuditAction,
    AuditEntry,
    Invitation,
    InvitationInvalid,
    InvitationStatus,
    LastOwner,
    MemberNotFound,
    Membership,
    Organization,
    OrganizationNotFound,
    OrgName,
    OrgRole,
)
from core.domain.seats import SeatsExhausted
from core.domain.user import Email

CONDITIONAL_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """As for ``OneTimeTokens``: 256 random bits need no salt or slow hash."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# -- items <-> domain ----------------------------------------------------------------


def _organization(item: OrgItem) -> Organization:
    # Set on every organization item (only the table's other items lack them).
    assert item.name is not None
    assert item.created_at is not None
    return Organization(
        id=item.pk.removeprefix("ORG#"),
        name=OrgName(item.name),
        created_at=item.created_at,
        created_by=item.created_by or "",
        plan_key=item.plan_key or "",
        seat_limit=None if item.seat_limit is None else int(item.seat_limit),
        seats_used=int(item.seats_used or 0),
        owners_count=int(item.owners_count or 0),
        billing=read_billing(item, item.created_at, int(item.sub_quantity or 1)),
        version=int(item.version or 0),
    )


def _org_item(org: Organization) -> OrgItem:
    item = OrgItem(
        pk=org_pk(org.id),
        sk=ORG_SK,
        name=org.name.value,
        created_at=org.created_at,
        created_by=org.created_by,
        plan_key=org.plan_key,
        seat_limit=org.seat_limit,
        seats_used=org.seats_used,
        owners_count=org.owners_count,
        version=org.version,
    )
    write_billing(item, org.billing)
    subscription = org.billing.subscription
    item.sub_quantity = None if subscription is None else subscription.quantity
    return item


def _membership(item: MembershipItem) -> Membership:
    return Membership(
        org_id=item.member_org_id,
        user_id=item.member_user_id,
        role=OrgRole(item.role),
        joined_at=item.joined_at,
    )


def _membership_item(membership: Membership) -> MembershipItem:
    return MembershipItem(
        pk=org_pk(membership.org_id),
        sk=member_sk(membership.user_id),
        member_user_id=membership.user_id,
        member_org_id=membership.org_id,
        role=membership.role.value,
        joined_at=membership.joined_at,
    )


def _invitation(item: InvitationItem) -> Invitation:
    return Invitation(
        id=item.invitation_id,
        org_id=item.org_id,
        email=Email(item.email),
        role=OrgRole(item.role),
        invited_by=item.invited_by,
        created_at=item.created_at,
        expires_at=item.expires_at,
        token_hash=item.token_hash,
        status=InvitationStatus(item.status),
        accepted_by=item.accepted_by,
    )


def _invitation_item(invitation: Invitation) -> InvitationItem:
    return InvitationItem(
        pk=org_pk(invitation.org_id),
        sk=invitation_sk(invitation.email.key),
        invitation_id=invitation.id,
        org_id=invitation.org_id,
        email=invitation.email.value,
        role=invitation.role.value,
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        token_hash=invitation.token_hash,
        status=invitation.status.value,
        accepted_by=invitation.accepted_by,
    )


def _audit(item: AuditItem) -> AuditEntry:
    return AuditEntry(
        id=item.entry_id,
        log=item.log,
        actor=item.actor,
        action=AuditAction(item.action),
        target=item.target,
        at=item.at,
        expires_at=item.expires_at,
        request_id=item.request_id,
        details=json.loads(item.details) if item.details else {},
    )


def audit_item(entry: AuditEntry) -> AuditItem:
    return AuditItem(
        pk=audit_pk(entry.log),
        sk=audit_sk(entry.at, entry.id),
        entry_id=entry.id,
        log=entry.log,
        actor=entry.actor,
        action=entry.action.value,
        target=entry.target,
        at=entry.at,
        expires_at=entry.expires_at,
        request_id=entry.request_id,
        details=json.dumps(dict(entry.details), sort_keys=True)
        if entry.details
        else None,
    )


# -- transactions and pages ------------------------------------------------------------


class _Transaction:
    """A ``TransactWrite`` whose operations carry names, so that a cancellation's
    reasons can be read back by name: pynamodb sends condition checks, deletes,
    puts and updates in that order, not in the order they were added."""

    _KINDS = ("check", "delete", "put", "update")

    def __init__(self) -> None:
        self._write = TransactWrite(connection=table_connection(OrgItem).connection)
        self._names: dict[str, list[str]] = {kind: [] for kind in self._KINDS}

    def __enter__(self) -> _Transaction:
        self._write.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._write.__exit__(*exc_info)  # type: ignore[no-untyped-call]

    def save(self, name: str, item: Any, condition: Condition | None = None) -> None:
        self._names["put"].append(name)
        self._write.save(item, condition=condition)

    def update(
        self, name: str, item: Any, actions: list[Any], condition: Condition
    ) -> None:
        self._names["update"].append(name)
        self._write.update(item, actions=actions, condition=condition)

    def delete(self, name: str, item: Any, condition: Condition) -> None:
        self._names["delete"].append(name)
        self._write.delete(item, condition=condition)

    def record(self, entry: AuditEntry) -> None:
        self.save("audit", audit_item(entry), AuditItem.pk.does_not_exist())

    def failed(self, exc: TransactWriteError) -> set[str]:
        """The names of the operations whose condition failed."""
        order = [name for kind in self._KINDS for name in self._names[kind]]
        return {
            name
            for name, code in zip(order, _codes(exc), strict=False)
            if code == CONDITIONAL_FAILED
        }


def _codes(exc: TransactWriteError) -> list[str | None]:
    reasons = exc.cancellation_reasons or []
    return [reason.code if reason else None for reason in reasons]


def _raise_unexplained(codes: list[str | None], exc: TransactWriteError) -> None:
    """A conflict with another transaction in flight is a lost race (409), like a
    condition that failed for a reason the caller did not name; anything else is
    storage trouble."""
    if TRANSACTION_CONFLICT in codes or CONDITIONAL_FAILED in codes:
        raise ConcurrentUpdate() from None
    raise exc


def _decode_start(
    start: Position | None, names: tuple[str, ...], fixed: Mapping[str, str]
) -> dict[str, dict[str, str]] | None:
    """The ExclusiveStartKey of a signed position, after checking its shape and
    that it belongs to this listing (``fixed``: its partition's key values)."""
    if start is None:
        return None
    if set(start) != set(names) or not all(isinstance(v, str) for v in start.values()):
        raise InvalidCursor()
    if any(start[name] != value for name, value in fixed.items()):
        raise InvalidCursor()
    return {name: {"S": start[name]} for name in names}


def _query(
    hash_key: str,
    limit: int,
    start_key: dict[str, dict[str, str]] | None,
    *,
    range_key_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    index_name: str | None = None,
    descending: bool = False,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` raw items of one partition (of the table or an index) from
    ``start_key`` on, and whether more follow. Reads ``limit + 1`` per round (a
    filter may leave fewer; then it reads on), so a last page never points at an
    empty one."""
    connection = table_connection(OrgItem)
    found: list[dict[str, Any]] = []
    while True:
        response = connection.query(
            hash_key,
            range_key_condition=range_key_condition,
            filter_condition=filter_condition,
            index_name=index_name,
            exclusive_start_key=start_key,
            limit=limit + 1 - len(found),
            scan_index_forward=not descending,
            consistent_read=index_name is None,
        )
        found.extend(response.get("Items", []))
        start_key = response.get("LastEvaluatedKey")
        if len(found) > limit or not start_key:
            break
    return found[:limit], len(found) > limit


def _position(item: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(item[name]["S"]) for name in names}


def _classify_invitation(
    stored: InvitationItem | None, invitation: Invitation, now: datetime
) -> None:
    """Raise why ``invitation`` could not be used, from what is stored now."""
    if (
        stored is None
        or stored.invitation_id != invitation.id
        or stored.token_hash != invitation.token_hash
    ):
        raise InvitationInvalid()
    _invitation(stored).check_usable(now)


def _get_invitation_item(org_id: str, email_key: str) -> InvitationItem | None:
    try:
        return InvitationItem.get(
            org_pk(org_id), invitation_sk(email_key), consistent_read=True
        )
    except DoesNotExist:
        return None


def _get_org_item(org_id: str) -> OrgItem | None:
    try:
        return OrgItem.get(org_pk(org_id), ORG_SK, consistent_read=True)
    except DoesNotExist:
        return None


def _within_hold(now: datetime) -> Condition:
    """A join's condition on the seat hold (``OrgItem.seat_hold``): none, one
    past its time, or a seat left under it."""
    condition: Condition = (
        OrgItem.seat_hold.does_not_exist()
        | (OrgItem.seat_hold_until < now)
        | (OrgItem.seats_used < OrgItem.seat_hold)
    )
    return condition


def _seats_exhausted(item: OrgItem, now: datetime) -> SeatsExhausted:
    """Why a join was refused a seat, read from the organization as it is now:
    a hold not past its time when it is full (named first: it is never above
    the limit when taken), else the limit."""
    org = _organization(item)
    wanted = org.seats_used + 1
    if (
        item.seat_hold is not None
        and item.seat_hold_until is not None
        and item.seat_hold_until >= now
        and org.seats_used >= int(item.seat_hold)
    ):
        return SeatsExhausted(
            item.seat_hold_plan or org.plan_key, int(item.seat_hold), wanted
        )
    return SeatsExhausted(org.plan_key, org.seat_limit or 0, wanted)


def _member_item(membership: Membership) -> MembershipItem:
    return MembershipItem(
        pk=org_pk(membership.org_id), sk=member_sk(membership.user_id)
    )


def _org_key(org_id: str) -> OrgItem:
    return OrgItem(pk=org_pk(org_id), sk=ORG_SK)


# -- the stores ------------------------------------------------------------------------

_MEMBER_KEYS = ("pk", "sk")
_BY_MEMBER_KEYS = ("member_user_id", "member_org_id", "pk", "sk")
_AUDIT_KEYS = ("pk", "sk")


class DynamoOrganizationStore:
    """See ``OrganizationStore``."""

    def create(
        self, organization: Organization, owner: Membership, audit: AuditEntry
    ) -> Organization:
        stored = replace(organization, seats_used=1, owners_count=1, version=1)
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.save(
                        "org", _org_item(stored), OrgItem.pk.does_not_exist()
                    )
                    transaction.save(
                        "member",
                        _membership_item(owner),
                        condition=MembershipItem.pk.does_not_exist(),
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                _raise_unexplained(_codes(exc), exc)
        return stored

    def get(self, org_id: str) -> Organization | None:
        with storage_errors():
            item = _get_org_item(org_id)
        return None if item is None else _organization(item)

    def get_with_membership(
        self, org_id: str, user_id: str
    ) -> tuple[Organization | None, Membership | None]:
        table = OrgItem.Meta.table_name
        keys = [
            {"pk": {"S": org_pk(org_id)}, "sk": {"S": ORG_SK}},
            {"pk": {"S": org_pk(org_id)}, "sk": {"S": member_sk(user_id)}},
        ]
        items: list[dict[str, Any]] = []
        with storage_errors():
            client = table_connection(OrgItem).connection.client
            request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
            # Two keys fit one request; a throttled key comes back unprocessed.
            for _ in range(5):
                response = client.batch_get_item(RequestItems=request)
                items.extend(response.get("Responses", {}).get(table, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        org, membership = None, None
        for raw in items:
            if raw["sk"]["S"] == ORG_SK:
                org = _organization(OrgItem.from_raw_data(raw))
            else:
                membership = _membership(MembershipItem.from_raw_data(raw))
        return org, membership

    def list_for_user(
        self, user_id: str, limit: int, start: Position | None
    ) -> MyOrganizationPage:
        start_key = _decode_start(start, _BY_MEMBER_KEYS, {"member_user_id": user_id})
        with storage_errors():
            raw, more = _query(
                user_id,
                limit,
                start_key,
                index_name=OrgItem.by_member.Meta.index_name,
            )
            memberships = [_membership(MembershipItem.from_raw_data(r)) for r in raw]
            orgs = self._batch_get_orgs([m.org_id for m in memberships])
        # A membership whose organization was just deleted (its cleanup under way)
        # is left out.
        items = [
            MyOrganization(orgs[m.org_id], m) for m in memberships if m.org_id in orgs
        ]
        return MyOrganizationPage(
            items=items,
            next_position=_position(raw[-1], _BY_MEMBER_KEYS) if more else None,
        )

    @staticmethod
    def _batch_get_orgs(org_ids: list[str]) -> dict[str, Organization]:
        if not org_ids:
            return {}
        table = OrgItem.Meta.table_name
        client = table_connection(OrgItem).connection.client
        found: dict[str, Organization] = {}
        # At most 100 keys per BatchGetItem; a page is at most 100 long.
        request: dict[str, Any] = {
            table: {
                "Keys": [
                    {"pk": {"S": org_pk(i)}, "sk": {"S": ORG_SK}} for i in org_ids
                ],
                "ConsistentRead": True,
            }
        }
        for _ in range(5):
            response = client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(table, []):
                org = _organization(OrgItem.from_raw_data(raw))
                found[org.id] = org
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        return found

    def list_members(
        self, org_id: str, limit: int, start: Position | None
    ) -> MembershipPage:
        start_key = _decode_start(start, _MEMBER_KEYS, {"pk": org_pk(org_id)})
        with storage_errors():
            raw, more = _query(
                org_pk(org_id),
                limit,
                start_key,
                range_key_condition=MembershipItem.sk.startswith(MEMBER_PREFIX),
            )
        return MembershipPage(
            items=[_membership(MembershipItem.from_raw_data(r)) for r in raw],
            next_position=_position(raw[-1], _MEMBER_KEYS) if more else None,
        )

    def join(
        self,
        invitation: Invitation,
        membership: Membership,
        audit: AuditEntry,
        now: datetime,
    ) -> Organization:
        owner = 1 if membership.role is OrgRole.OWNER else 0
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.update(
                        "invitation",
                        InvitationItem(
                            pk=org_pk(invitation.org_id),
                            sk=invitation_sk(invitation.email.key),
                        ),
                        actions=[
                            InvitationItem.status.set(InvitationStatus.ACCEPTED.value),
                            InvitationItem.accepted_by.set(membership.user_id),
                        ],
                        condition=(
                            (InvitationItem.invitation_id == invitation.id)
                            & (InvitationItem.token_hash == invitation.token_hash)
                            & (InvitationItem.status == InvitationStatus.PENDING.value)
                            & (InvitationItem.expires_at > now)
                        ),
                    )
                    transaction.save(
                        "member",
                        _membership_item(membership),
                        MembershipItem.pk.does_not_exist(),
                    )
                    transaction.update(
                        "org",
                        _org_key(membership.org_id),
                        actions=[
                            OrgItem.seats_used.add(1),
                            OrgItem.owners_count.add(owner),
                            OrgItem.version.add(1),
                        ],
                        condition=OrgItem.pk.exists()
                        & (
                            OrgItem.seat_limit.does_not_exist()
                            | (OrgItem.seats_used < OrgItem.seat_limit)
                        )
                        & _within_hold(now),
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                failed = transaction.failed(exc)
                if "invitation" in failed:
                    _classify_invitation(
                        _get_invitation_item(invitation.org_id, invitation.email.key),
                        invitation,
                        now,
                    )
                if "member" in failed:
                    raise AlreadyMember() from None
                if "org" in failed:
                    full = _get_org_item(membership.org_id)
                    if full is None:
                        raise OrganizationNotFound() from None
                    raise _seats_exhausted(full, now) from None
                _raise_unexplained(_codes(exc), exc)
            item = _get_org_item(membership.org_id)
        if item is None:
            raise OrganizationNotFound()
        return _organization(item)

    def change_role(
        self, membership: Membership, role: OrgRole, audit: AuditEntry
    ) -> Membership:
        delta = int(role is OrgRole.OWNER) - int(membership.role is OrgRole.OWNER)
        org_condition = OrgItem.pk.exists()
        if delta < 0:
            org_condition &= OrgItem.owners_count > 1
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.update(
                        "member",
                        _member_item(membership),
                        actions=[MembershipItem.role.set(role.value)],
                        condition=MembershipItem.role == membership.role.value,
                    )
                    transaction.update(
                        "org",
                        _org_key(membership.org_id),
                        actions=[
                            OrgItem.owners_count.add(delta),
                            OrgItem.version.add(1),
                        ],
                        condition=org_condition,
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                failed = transaction.failed(exc)
                if "member" in failed:
                    self._member_gone_or_changed(membership)
                if "org" in failed:
                    raise LastOwner() if delta < 0 else OrganizationNotFound() from None
                _raise_unexplained(_codes(exc), exc)
        return membership.with_role(role)

    @staticmethod
    def _member_gone_or_changed(membership: Membership) -> None:
        try:
            MembershipItem.get(
                org_pk(membership.org_id),
                member_sk(membership.user_id),
                consistent_read=True,
            )
        except DoesNotExist:
            raise MemberNotFound() from None
        raise ConcurrentUpdate()

    def remove(self, membership: Membership, audit: AuditEntry) -> None:
        owner = membership.role is OrgRole.OWNER
        org_condition = OrgItem.pk.exists()
        if owner:
            org_condition &= OrgItem.owners_count > 1
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.delete(
                        "member",
                        _member_item(membership),
                        condition=MembershipItem.role == membership.role.value,
                    )
                    transaction.update(
                        "org",
                        _org_key(membership.org_id),
                        actions=[
                            OrgItem.seats_used.add(-1),
                            OrgItem.owners_count.add(-int(owner)),
                            OrgItem.version.add(1),
                        ],
                        condition=org_condition,
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                failed = transaction.failed(exc)
                if "member" in failed:
                    self._member_gone_or_changed(membership)
                if "org" in failed:
                    raise LastOwner() if owner else OrganizationNotFound() from None
                _raise_unexplained(_codes(exc), exc)

    def transfer_ownership(
        self, current: Membership, new_owner: Membership, audit: AuditEntry
    ) -> None:
        gained = int(new_owner.role is not OrgRole.OWNER)
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.update(
                        "new_owner",
                        _member_item(new_owner),
                        actions=[MembershipItem.role.set(OrgRole.OWNER.value)],
                        condition=MembershipItem.role == new_owner.role.value,
                    )
                    transaction.update(
                        "current",
                        _member_item(current),
                        actions=[MembershipItem.role.set(OrgRole.ADMIN.value)],
                        condition=MembershipItem.role == OrgRole.OWNER.value,
                    )
                    transaction.update(
                        "org",
                        _org_key(current.org_id),
                        actions=[
                            OrgItem.owners_count.add(gained - 1),
                            OrgItem.version.add(1),
                        ],
                        condition=OrgItem.pk.exists(),
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                failed = transaction.failed(exc)
                if "new_owner" in failed:
                    self._member_gone_or_changed(new_owner)
                if "current" in failed:
                    self._member_gone_or_changed(current)
                if "org" in failed:
                    raise OrganizationNotFound() from None
                _raise_unexplained(_codes(exc), exc)

    def rename(self, organization: Organization, audit: AuditEntry) -> Organization:
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.update(
                        "org",
                        _org_key(organization.id),
                        actions=[
                            OrgItem.name.set(organization.name.value),
                            OrgItem.version.add(1),
                        ],
                        condition=OrgItem.version == organization.version,
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                _raise_unexplained(_codes(exc), exc)
        return replace(organization, version=organization.version + 1)

    def delete(self, organization: Organization, audit: AuditEntry) -> None:
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    # Not conditional on the version: joins move it on, and
                    # the owner's decision holds whoever joined meanwhile.
                    transaction.delete(
                        "org", _org_key(organization.id), OrgItem.pk.exists()
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                if "org" in transaction.failed(exc):
                    raise OrganizationNotFound() from None
                _raise_unexplained(_codes(exc), exc)
            # The organization is gone: nothing below is reachable any more, and
            # a retry after a failure here finds nothing to delete first.
            with OrgItem.batch_write() as batch:
                for sk in self._sort_keys(organization.id):
                    batch.delete(OrgItem(pk=org_pk(organization.id), sk=sk))

    @staticmethod
    def _sort_keys(org_id: str) -> Iterator[str]:
        for prefix in (MEMBER_PREFIX, INVITE_PREFIX):
            for item in MembershipItem.query(
                org_pk(org_id),
                MembershipItem.sk.startswith(prefix),
                consistent_read=True,
                attributes_to_get=["pk", "sk"],
            ):
                yield item.sk


class DynamoInvitationStore:
    """See ``InvitationStore``."""

    def put(self, invitation: Invitation, audit: AuditEntry) -> None:
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    # Unconditional: the address's earlier invitation is replaced,
                    # and with it the hash its link matched.
                    transaction.save("invitation", _invitation_item(invitation))
                    transaction.record(audit)
            except TransactWriteError as exc:
                _raise_unexplained(_codes(exc), exc)

    def issue_token(self, invitation: Invitation) -> str | None:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with storage_errors():
            try:
                InvitationItem(
                    pk=org_pk(invitation.org_id),
                    sk=invitation_sk(invitation.email.key),
                ).update(
                    actions=[InvitationItem.token_hash.set(token_hash(token))],
                    condition=(InvitationItem.invitation_id == invitation.id)
                    & (InvitationItem.status == InvitationStatus.PENDING.value),
                )
            except UpdateError as exc:
                if exc.cause_response_code == CONDITION_FAILED:
                    return None
                raise
        return token

    def get(self, org_id: str, email_key: str) -> Invitation | None:
        with storage_errors():
            item = _get_invitation_item(org_id, email_key)
        return None if item is None else _invitation(item)

    def find(self, token: str) -> Invitation | None:
        wanted = token_hash(token)
        with storage_errors():
            keys = list(
                OrgItem.by_token.query(wanted, limit=2, attributes_to_get=["pk", "sk"])
            )
            for key in keys:
                try:
                    item = InvitationItem.get(key.pk, key.sk, consistent_read=True)
                except DoesNotExist:
                    continue
                # The index lags: the stored invitation must still carry the hash.
                if item.token_hash == wanted:
                    return _invitation(item)
        return None

    def list_pending(
        self, org_id: str, now: datetime, limit: int, start: Position | None
    ) -> InvitationPage:
        start_key = _decode_start(start, _MEMBER_KEYS, {"pk": org_pk(org_id)})
        with storage_errors():
            raw, more = _query(
                org_pk(org_id),
                limit,
                start_key,
                range_key_condition=InvitationItem.sk.startswith(INVITE_PREFIX),
                filter_condition=(
                    InvitationItem.status == InvitationStatus.PENDING.value
                )
                & (InvitationItem.expires_at > now),
            )
        return InvitationPage(
            items=[_invitation(InvitationItem.from_raw_data(r)) for r in raw],
            next_position=_position(raw[-1], _MEMBER_KEYS) if more else None,
        )

    def revoke(self, invitation: Invitation, audit: AuditEntry) -> None:
        with storage_errors():
            transaction = _Transaction()
            try:
                with transaction:
                    transaction.delete(
                        "invitation",
                        InvitationItem(
                            pk=org_pk(invitation.org_id),
                            sk=invitation_sk(invitation.email.key),
                        ),
                        condition=(InvitationItem.invitation_id == invitation.id)
                        & (InvitationItem.status == InvitationStatus.PENDING.value),
                    )
                    transaction.record(audit)
            except TransactWriteError as exc:
                if "invitation" in transaction.failed(exc):
                    raise InvitationInvalid() from None
                _raise_unexplained(_codes(exc), exc)


class DynamoAuditLog:
    """See ``AuditLog``."""

    def append(self, entry: AuditEntry) -> None:
        with storage_errors():
            try:
                audit_item(entry).save(condition=AuditItem.pk.does_not_exist())
            except Exception as exc:
                if getattr(exc, "cause_response_code", None) == CONDITION_FAILED:
                    raise ConcurrentUpdate() from None
                raise

    def list(
        self, log: str, now: datetime, limit: int, start: Position | None
    ) -> AuditPage:
        start_key = _decode_start(start, _AUDIT_KEYS, {"pk": audit_pk(log)})
        with storage_errors():
            raw, more = _query(
                audit_pk(log),
                limit,
                start_key,
                filter_condition=AuditItem.expires_at > now,
                descending=True,
            )
        return AuditPage(
            items=[_audit(AuditItem.from_raw_data(r)) for r in raw],
            next_position=_position(raw[-1], _AUDIT_KEYS) if more else None,
        )
