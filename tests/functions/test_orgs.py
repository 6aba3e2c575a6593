"""The organization Lambdas, invoked with HTTP API v2 events.

What each route answers when allowed, and the attacks a member, a stranger or an
invitee could try over HTTP. Every role x action x target is one table-driven test
of the rules (tests/unit/test_org_authorization.py); the concurrency of the seat
and owner conditions is tested on the adapters (tests/integration/test_dynamo_orgs.py).
"""

from __future__ import annotations

from typing import Any

from core.domain.user import Role
from local.harness import Reply
from tests.functions.conftest import Api, assert_problem
from tests.stripe_local import StripeControl


def user_id(api: Api, username: str) -> str:
    user = api.container.users.get_by_username(username)
    assert user is not None
    return str(user.id)


def create(api: Api, cookie: str, name: str = "Acme") -> str:
    reply = api.call("create_organization", json_body={"name": name}, cookies=[cookie])
    assert reply.status == 201, reply.text
    return str(reply.json()["id"])


def with_seats(api: Api, org_id: str, seats: int) -> None:
    """The organization with ``seats`` (what a paid plan's checkout would leave:
    the free plan's one seat is its owner's; on the in-memory store)."""
    api.container.orgs.set_seat_limit(org_id, seats)


def invite(
    api: Api, cookie: str, org_id: str, email: str, role: str = "member"
) -> Reply:
    return api.call(
        "invite_member",
        f"/api/v1/orgs/{org_id}/invitations",
        json_body={"email": email, "role": role},
        cookies=[cookie],
    )


def token_for(api: Api, org_id: str, email: str) -> str:
    """The link token, issued as the invitation job issues it when it sends."""
    invitation = api.container.invitations.get(org_id, email)
    assert invitation is not None
    token = api.container.invitations.issue_token(invitation)
    assert token
    return str(token)


def accept(api: Api, cookie: str, token: str) -> Reply:
    return api.call("accept_invitation", json_body={"token": token}, cookies=[cookie])


def join(api: Api, owner: str, org_id: str, username: str, role: str = "member") -> str:
    """``username`` (made, verified, logged in) joins ``org_id`` with ``role``."""
    cookie = api.as_(username)
    email = f"{username}@example.com"
    assert invite(api, owner, org_id, email, role).status == 202
    assert accept(api, cookie, token_for(api, org_id, email)).status == 200
    return cookie


def team(api: Api, seats: int = 5) -> tuple[str, str, str, str]:
    """An organization with an owner, an admin and a member: their cookies."""
    owner = api.as_("owner01")
    org_id = create(api, owner)
    with_seats(api, org_id, seats)
    admin = join(api, owner, org_id, "admin01", "admin")
    member = join(api, owner, org_id, "member01")
    return org_id, owner, admin, member


def call(api: Api, name: str, path: str, cookie: str, **kwargs: Any) -> Reply:
    return api.call(name, path, cookies=[cookie], **kwargs)


# -- create, list, read ----------------------------------------------------------------


def test_a_verified_user_creates_an_organization_and_is_its_owner(api: Api) -> None:
    cookie = api.as_("owner01")

    reply = api.call(
        "create_organization", json_body={"name": " Acme "}, cookies=[cookie]
    )

    assert reply.status == 201, reply.text
    body = reply.json()
    assert set(body) == {"id", "name", "role"}
    assert (body["name"], body["role"]) == ("Acme", "owner")


def test_an_unverified_user_cannot_create_an_organization(api: Api) -> None:
    api.user("newbie01")
    cookie = api.log_in("newbie01")

    reply = api.call(
        "create_organization", json_body={"name": "Acme"}, cookies=[cookie]
    )

    assert_problem(reply, 403, "email_not_verified")


def test_a_name_of_invisible_characters_is_refused(api: Api) -> None:
    cookie = api.as_("owner01")

    reply = api.call(
        "create_organization", json_body={"name": "\u200b"}, cookies=[cookie]
    )

    body = assert_problem(reply, 422, "invalid_org_name")
    assert body["errors"][0]["loc"] == ["body", "name"]


def test_my_organizations_come_a_page_at_a_time_with_my_role(api: Api) -> None:
    cookie = api.as_("owner01")
    made = {create(api, cookie, f"Team {n}") for n in range(3)}

    first = api.call("list_organizations", query={"limit": "2"}, cookies=[cookie])
    assert first.status == 200, first.text
    cursor = first.json()["next_cursor"]
    assert cursor
    second = api.call(
        "list_organizations", query={"limit": "2", "cursor": cursor}, cookies=[cookie]
    )

    items = first.json()["items"] + second.json()["items"]
    assert {item["id"] for item in items} == made
    assert {item["role"] for item in items} == {"owner"}
    assert second.json()["next_cursor"] is None


def test_another_users_cursor_of_my_organizations_is_refused(api: Api) -> None:
    mine = api.as_("owner01")
    for n in range(2):
        create(api, mine, f"Team {n}")
    cursor = api.call(
        "list_organizations", query={"limit": "1"}, cookies=[mine]
    ).json()["next_cursor"]
    theirs = api.as_("other01")

    reply = api.call(
        "list_organizations", query={"limit": "1", "cursor": cursor}, cookies=[theirs]
    )

    assert_problem(reply, 422, "invalid_cursor")


def test_a_member_reads_the_organization_with_plan_and_seats(api: Api) -> None:
    org_id, _, _, member = team(api)

    reply = call(api, "get_organization", f"/api/v1/orgs/{org_id}", member)

    assert reply.status == 200, reply.text
    assert reply.json() == {
        "id": org_id,
        "name": "Acme",
        "role": "member",
        "plan": "free",
        "subscription_status": None,
        "seats_used": 3,
        "seat_limit": 5,
        "seats_paid": None,
    }


def test_to_a_stranger_an_organization_and_a_missing_one_are_the_same_404(
    api: Api,
) -> None:
    org_id = create(api, api.as_("owner01"))
    stranger = api.as_("stranger1")

    theirs = call(api, "get_organization", f"/api/v1/orgs/{org_id}", stranger)
    missing = call(api, "get_organization", "/api/v1/orgs/" + "0" * 32, stranger)

    assert_problem(theirs, 404, "organization_not_found")
    assert_problem(missing, 404, "organization_not_found")
    assert theirs.json() == missing.json()


def test_a_platform_super_admin_is_nobody_in_an_organization(api: Api) -> None:
    org_id = create(api, api.as_("owner01"))
    root = api.as_("root01", Role.SUPER_ADMIN)

    reply = call(api, "list_members", f"/api/v1/orgs/{org_id}/members", root)

    assert_problem(reply, 404, "organization_not_found")


# -- rename, delete, transfer ----------------------------------------------------------


def test_an_admin_renames_the_organization_and_a_member_cannot(api: Api) -> None:
    org_id, _, admin, member = team(api)
    path = f"/api/v1/orgs/{org_id}"

    refused = call(api, "rename_organization", path, member, json_body={"name": "X"})
    renamed = call(
        api, "rename_organization", path, admin, json_body={"name": "Acme EU"}
    )

    assert_problem(refused, 403, "forbidden")
    assert renamed.status == 200, renamed.text
    assert renamed.json() == {"id": org_id, "name": "Acme EU"}


def test_only_an_owner_deletes_the_organization_and_then_it_is_gone(api: Api) -> None:
    org_id, owner, admin, _ = team(api)
    path = f"/api/v1/orgs/{org_id}"

    refused = call(api, "delete_organization", path, admin)
    deleted = call(api, "delete_organization", path, owner)

    assert_problem(refused, 403, "forbidden")
    assert deleted.status == 204, deleted.text
    assert_problem(
        call(api, "get_organization", path, owner), 404, "organization_not_found"
    )
    listed = api.call("list_organizations", cookies=[admin]).json()["items"]
    assert org_id not in {item["id"] for item in listed}


def test_an_owner_hands_the_ownership_to_a_member_and_becomes_an_admin(
    api: Api,
) -> None:
    org_id, owner, _, member = team(api)

    reply = call(
        api,
        "transfer_ownership",
        f"/api/v1/orgs/{org_id}/transfer-ownership",
        owner,
        json_body={"user_id": user_id(api, "member01")},
    )

    assert reply.status == 204, reply.text
    roles = {
        item["role"]
        for item in api.call("list_organizations", cookies=[member]).json()["items"]
    }
    assert roles == {"owner"}
    mine = call(api, "get_organization", f"/api/v1/orgs/{org_id}", owner).json()
    assert mine["role"] == "admin"


def test_an_admin_cannot_transfer_the_ownership(api: Api) -> None:
    org_id, _, admin, _ = team(api)

    reply = call(
        api,
        "transfer_ownership",
        f"/api/v1/orgs/{org_id}/transfer-ownership",
        admin,
        json_body={"user_id": user_id(api, "admin01")},
    )

    assert_problem(reply, 403, "forbidden")


# -- invitations -----------------------------------------------------------------------


def test_an_admin_invites_an_address_and_it_is_pending(api: Api) -> None:
    org_id, _, admin, _ = team(api)

    reply = invite(api, admin, org_id, "Sam@Example.com")

    assert reply.status == 202, reply.text
    assert reply.json()["email"] == "sam@example.com"
    pending = call(api, "list_invitations", f"/api/v1/orgs/{org_id}/invitations", admin)
    assert [i["email"] for i in pending.json()["items"]] == ["sam@example.com"]


def test_a_member_can_neither_invite_nor_read_the_invitations(api: Api) -> None:
    org_id, _, _, member = team(api)

    invited = invite(api, member, org_id, "sam@example.com")
    listed = call(api, "list_invitations", f"/api/v1/orgs/{org_id}/invitations", member)

    assert_problem(invited, 403, "forbidden")
    assert_problem(listed, 403, "forbidden")


def test_an_admin_cannot_invite_an_admin(api: Api) -> None:
    org_id, _, admin, _ = team(api)

    assert_problem(
        invite(api, admin, org_id, "sam@example.com", "admin"), 403, "forbidden"
    )


def test_inviting_a_member_answers_409_already_member(api: Api) -> None:
    org_id, owner, _, _ = team(api)

    reply = invite(api, owner, org_id, "member01@example.com")

    assert_problem(reply, 409, "already_member")


def test_an_invitee_accepts_and_joins_with_the_invited_role(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    sam = api.as_("sam.lee")
    invite(api, owner, org_id, "sam.lee@example.com", "admin")

    reply = accept(api, sam, token_for(api, org_id, "sam.lee@example.com"))

    assert reply.status == 200, reply.text
    assert reply.json() == {"id": org_id, "name": "Acme", "role": "admin"}


def test_someone_elses_invitation_is_refused_and_stays_usable(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    invite(api, owner, org_id, "sam.lee@example.com")
    token = token_for(api, org_id, "sam.lee@example.com")
    thief = api.as_("thief01")

    stolen = accept(api, thief, token)

    assert_problem(stolen, 403, "invitation_email_mismatch")
    assert accept(api, api.as_("sam.lee"), token).status == 200


def test_an_accepted_token_cannot_be_replayed(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    sam = api.as_("sam.lee")
    invite(api, owner, org_id, "sam.lee@example.com")
    token = token_for(api, org_id, "sam.lee@example.com")
    assert accept(api, sam, token).status == 200

    assert_problem(accept(api, sam, token), 410, "invitation_used")


def test_an_unknown_token_is_invalid(api: Api) -> None:
    cookie = api.as_("sam.lee")

    assert_problem(accept(api, cookie, "x" * 40), 400, "invitation_invalid")


def test_a_revoked_invitations_link_stops_working(api: Api) -> None:
    org_id, _, admin, _ = team(api)
    invite(api, admin, org_id, "sam.lee@example.com")
    token = token_for(api, org_id, "sam.lee@example.com")

    revoked = call(
        api,
        "revoke_invitation",
        f"/api/v1/orgs/{org_id}/invitations/sam.lee@example.com",
        admin,
    )

    assert revoked.status == 204, revoked.text
    assert_problem(accept(api, api.as_("sam.lee"), token), 400, "invitation_invalid")


def test_an_accept_beyond_the_seats_is_402_and_adds_nobody(api: Api) -> None:
    org_id, owner, _, _ = team(api, seats=3)
    sam = api.as_("sam.lee")
    invite(api, owner, org_id, "sam.lee@example.com")

    reply = accept(api, sam, token_for(api, org_id, "sam.lee@example.com"))

    assert_problem(reply, 402, "seats_exhausted")
    seats = call(api, "get_organization", f"/api/v1/orgs/{org_id}", owner).json()
    assert seats["seats_used"] == 3


# -- members ---------------------------------------------------------------------------


def test_a_member_reads_the_members_a_page_at_a_time(api: Api) -> None:
    org_id, _, _, member = team(api)
    path = f"/api/v1/orgs/{org_id}/members"

    first = call(api, "list_members", path, member, query={"limit": "2"})
    cursor = first.json()["next_cursor"]
    second = call(
        api, "list_members", path, member, query={"limit": "2", "cursor": cursor}
    )

    items = first.json()["items"] + second.json()["items"]
    roles = {item["user_id"]: item["role"] for item in items}
    assert roles == {
        user_id(api, "owner01"): "owner",
        user_id(api, "admin01"): "admin",
        user_id(api, "member01"): "member",
    }


def test_a_member_cannot_change_roles(api: Api) -> None:
    org_id, _, _, member = team(api)
    target = user_id(api, "member01")

    reply = call(
        api,
        "change_member_role",
        f"/api/v1/orgs/{org_id}/members/{target}",
        member,
        json_body={"role": "admin"},
    )

    assert_problem(reply, 403, "forbidden")


def test_an_owner_promotes_a_member_to_admin(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    target = user_id(api, "member01")

    reply = call(
        api,
        "change_member_role",
        f"/api/v1/orgs/{org_id}/members/{target}",
        owner,
        json_body={"role": "admin"},
    )

    assert reply.status == 200, reply.text
    assert (reply.json()["user_id"], reply.json()["role"]) == (target, "admin")


def test_the_last_owner_cannot_demote_themselves(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    me = user_id(api, "owner01")

    reply = call(
        api,
        "change_member_role",
        f"/api/v1/orgs/{org_id}/members/{me}",
        owner,
        json_body={"role": "member"},
    )

    assert_problem(reply, 409, "last_owner")


def test_an_admin_cannot_remove_an_owner(api: Api) -> None:
    org_id, _, admin, _ = team(api)
    owner_id = user_id(api, "owner01")

    reply = call(
        api, "remove_member", f"/api/v1/orgs/{org_id}/members/{owner_id}", admin
    )

    assert_problem(reply, 403, "forbidden")


def test_the_last_owner_cannot_leave(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    me = user_id(api, "owner01")

    reply = call(api, "remove_member", f"/api/v1/orgs/{org_id}/members/{me}", owner)

    assert_problem(reply, 409, "last_owner")


def test_a_member_leaves_and_the_organization_is_gone_to_them(api: Api) -> None:
    org_id, _, _, member = team(api)
    me = user_id(api, "member01")

    reply = call(api, "remove_member", f"/api/v1/orgs/{org_id}/members/{me}", member)

    assert reply.status == 204, reply.text
    gone = call(api, "get_organization", f"/api/v1/orgs/{org_id}", member)
    assert_problem(gone, 404, "organization_not_found")


def test_another_organizations_member_ids_are_a_404_not_a_change(api: Api) -> None:
    org_id, _, _, _ = team(api)
    intruder = api.as_("intruder1")
    own = create(api, intruder, "Intruders")
    victim = user_id(api, "member01")

    through_mine = call(
        api, "remove_member", f"/api/v1/orgs/{own}/members/{victim}", intruder
    )
    through_theirs = call(
        api, "remove_member", f"/api/v1/orgs/{org_id}/members/{victim}", intruder
    )

    assert_problem(through_mine, 404, "member_not_found")
    assert_problem(through_theirs, 404, "organization_not_found")
    members = api.container.orgs.list_members(org_id, 10, None).items
    assert victim in {m.user_id for m in members}


# -- audit logs ------------------------------------------------------------------------


def test_the_audit_log_lists_every_change_newest_first(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    api.subscribe_org(org_id, "team")
    path = f"/api/v1/orgs/{org_id}/audit-log"

    reply = call(api, "read_audit_log", path, owner, query={"limit": "100"})

    assert reply.status == 200, reply.text
    actions = [item["action"] for item in reply.json()["items"]]
    assert actions == [
        "invitation.accepted",
        "invitation.created",
        "invitation.accepted",
        "invitation.created",
        "org.created",
    ]
    assert all(item["request_id"] for item in reply.json()["items"])


def test_a_member_cannot_read_the_audit_log(api: Api) -> None:
    org_id, _, _, member = team(api)

    reply = call(api, "read_audit_log", f"/api/v1/orgs/{org_id}/audit-log", member)

    assert_problem(reply, 403, "forbidden")


def test_an_audit_cursor_of_another_organization_is_refused(api: Api) -> None:
    org_id, owner, _, _ = team(api)
    api.subscribe_org(org_id, "team")
    cursor = call(
        api,
        "read_audit_log",
        f"/api/v1/orgs/{org_id}/audit-log",
        owner,
        query={"limit": "1"},
    ).json()["next_cursor"]
    other = create(api, owner, "Other")
    api.subscribe_org(other, "team")

    reply = call(
        api,
        "read_audit_log",
        f"/api/v1/orgs/{other}/audit-log",
        owner,
        query={"limit": "1", "cursor": cursor},
    )

    assert_problem(reply, 422, "invalid_cursor")


def test_an_org_without_the_audit_log_feature_is_402_naming_the_plans_with_it(
    api: Api,
) -> None:
    org_id, owner, admin, _ = team(api)
    path = f"/api/v1/orgs/{org_id}/audit-log"

    for cookie in (owner, admin):
        body = assert_problem(
            call(api, "read_audit_log", path, cookie), 402, "plan_required"
        )
        assert body["plans"] == ["business", "team"]


def test_the_audit_log_checks_membership_then_role_then_the_orgs_plan(
    api: Api,
) -> None:
    org_id, owner, _, member = team(api)
    stranger = api.as_("stranger1", plan="business")
    path = f"/api/v1/orgs/{org_id}/audit-log"

    # The caller's own plan is not the organization's: a stranger on Business
    # and a member of a free organization learn nothing of its plan.
    assert_problem(
        call(api, "read_audit_log", path, stranger), 404, "organization_not_found"
    )
    assert_problem(call(api, "read_audit_log", path, member), 403, "forbidden")
    assert_problem(call(api, "read_audit_log", path, owner), 402, "plan_required")


def test_the_audit_log_of_a_free_org_is_recorded_and_shows_after_an_upgrade(
    api: Api,
) -> None:
    org_id, owner, _, _ = team(api)
    path = f"/api/v1/orgs/{org_id}/audit-log"
    assert call(api, "read_audit_log", path, owner).status == 402

    api.subscribe_org(org_id, "business")
    reply = call(api, "read_audit_log", path, owner, query={"limit": "100"})

    assert reply.status == 200, reply.text
    assert [item["action"] for item in reply.json()["items"]][-1] == "org.created"
    assert len(reply.json()["items"]) == 5


def test_an_org_that_buys_business_through_its_checkout_reads_its_audit_log(
    api: Api, stripe: StripeControl
) -> None:
    owner = api.as_("owner01")
    org_id = create(api, owner)
    path = f"/api/v1/orgs/{org_id}/audit-log"
    assert call(api, "read_audit_log", path, owner).status == 402

    checkout = call(
        api,
        "org_billing_checkout",
        f"/api/v1/orgs/{org_id}/billing/checkout",
        owner,
        json_body={"plan": "business"},
    )
    assert checkout.status == 200, checkout.text
    stripe.pay(checkout.json()["url"])
    stripe.flush()

    detail = call(api, "get_organization", f"/api/v1/orgs/{org_id}", owner).json()
    assert (detail["plan"], detail["subscription_status"]) == ("business", "trialing")
    reply = call(api, "read_audit_log", path, owner)
    assert reply.status == 200, reply.text


def test_only_a_super_admin_reads_the_platform_audit_log(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    root = api.as_("root01", Role.SUPER_ADMIN)

    refused = api.call("read_platform_audit_log", cookies=[admin])
    read = api.call("read_platform_audit_log", cookies=[root])

    assert_problem(refused, 403, "forbidden")
    assert read.status == 200, read.text
    assert set(read.json()) == {"items", "next_cursor"}


def test_a_super_admins_grant_and_revoke_of_admin_are_in_the_platform_audit_log(
    api: Api,
) -> None:
    root = api.as_("root01", Role.SUPER_ADMIN)
    api.as_("sam01")
    users = "/api/v1/users/sam01"

    granted = api.call("grant_admin", f"{users}/grant-admin", cookies=[root])
    revoked = api.call("revoke_admin", f"{users}/revoke-admin", cookies=[root])
    read = api.call("read_platform_audit_log", cookies=[root])

    assert (granted.status, revoked.status) == (204, 204)
    sam = api.container.users.get_by_username("sam01")
    entries = [(e["action"], e["target"]) for e in read.json()["items"]]
    # Newest first.
    assert entries == [("user.admin_revoked", sam.id), ("user.admin_granted", sam.id)]


def test_twenty_simultaneous_accepts_fill_exactly_the_seats_left(api: Api) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    owner = api.as_("owner01")
    org_id = create(api, owner)
    api.container.orgs.set_seat_limit(org_id, 5)
    invitees = []
    for n in range(20):
        name = f"invitee{n:02d}"
        cookie = api.as_(name)
        assert invite(api, owner, org_id, f"{name}@example.com").status == 202
        invitees.append((cookie, token_for(api, org_id, f"{name}@example.com")))

    def accept_in_a_thread(pair: tuple[str, str]) -> Reply:
        # Mangum runs the app on the thread's event loop: a worker thread has none.
        asyncio.set_event_loop(asyncio.new_event_loop())
        return accept(api, *pair)

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(accept_in_a_thread, invitees))

    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] * 4 + [402] * 16
    for reply in replies:
        if reply.status == 402:
            assert_problem(reply, 402, "seats_exhausted")
    seats = call(api, "get_organization", f"/api/v1/orgs/{org_id}", owner).json()
    assert (seats["seats_used"], seats["seat_limit"]) == (5, 5)
