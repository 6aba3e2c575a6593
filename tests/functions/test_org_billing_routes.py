"""An organization's billing routes beyond checkout and the subscription, through
their Lambda handlers on moto and the local Stripe emulator: the portal, cancel
and resume, the invoices, the plan change and its preview. Admins and owners
only: a member is refused (403), and a stranger, an admin of another
organization and anyone after the organization is deleted find none (404)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functions.conftest import Api, assert_problem
from tests.functions.test_org_billing import add_member, org_of
from tests.stripe_local import StripeControl

pytestmark = pytest.mark.usefixtures("stripe")

BILLING = "/api/v1/orgs/{}/billing"


def call(api: Api, route: str, org_id: str, cookie: str, **kwargs: Any) -> Any:
    """``route``: the endpoint's name and the path after ``.../billing``."""
    name, tail = ROUTES[route]
    return api.call(name, BILLING.format(org_id) + tail, cookies=[cookie], **kwargs)


ROUTES = {
    "portal": ("org_billing_portal", "/portal"),
    "cancel": ("org_billing_cancel", "/subscription/cancel"),
    "resume": ("org_billing_resume", "/subscription/resume"),
    "invoices": ("org_billing_invoices", "/invoices"),
    "change": ("org_billing_change", "/subscription/change"),
    "preview": ("org_billing_change", "/subscription/change"),
}
BODIES: dict[str, dict[str, Any]] = {
    "change": {"json_body": {"plan": "pro"}},
    "preview": {"json_body": {"plan": "pro"}, "query": {"preview": "true"}},
}


def subscribe(api: Api, stripe: StripeControl, org_id: str, cookie: str) -> str:
    """The organization subscribes to Team (per seat), paid; its subscription."""
    reply = api.call(
        "org_billing_checkout",
        BILLING.format(org_id) + "/checkout",
        json_body={"plan": "team"},
        cookies=[cookie],
    )
    assert reply.status == 200, reply.text
    stripe.pay(reply.json()["url"])
    stripe.flush()
    shown = api.call(
        "org_billing_subscription",
        BILLING.format(org_id) + "/subscription",
        cookies=[cookie],
    )
    assert shown.status == 200, shown.text
    return str(shown.json()["id"])


def test_the_portal_is_409_before_the_first_checkout_and_a_url_after(
    api: Api, stripe: StripeControl
) -> None:
    owner = api.as_("owner101")
    org_id = org_of(api, "owner101")

    assert_problem(call(api, "portal", org_id, owner), 409, "no_billing_account")
    subscribe(api, stripe, org_id, owner)
    opened = call(api, "portal", org_id, owner)

    assert opened.status == 200, opened.text
    assert opened.json()["url"].startswith(stripe.url)


def test_an_admin_cancels_then_resumes_the_orgs_subscription(
    api: Api, stripe: StripeControl
) -> None:
    owner = api.as_("owner102")
    org_id = org_of(api, "owner102")
    assert_problem(call(api, "cancel", org_id, owner), 409, "no_subscription")
    sub_id = subscribe(api, stripe, org_id, owner)

    canceled = call(api, "cancel", org_id, owner)
    assert canceled.status == 200, canceled.text
    assert canceled.json()["cancel_at_period_end"] is True
    assert (canceled.json()["plan"], canceled.json()["seat_limit"]) == ("team", 20)
    assert stripe.subscription(sub_id)["cancel_at_period_end"] is True

    resumed = call(api, "resume", org_id, owner)
    assert resumed.status == 200, resumed.text
    assert resumed.json()["cancel_at_period_end"] is False
    assert stripe.subscription(sub_id)["cancel_at_period_end"] is False

    # The audit log says who did it, in which request.
    log = api.call(
        "read_audit_log", f"/api/v1/orgs/{org_id}/audit-log", cookies=[owner]
    )
    assert log.status == 200, log.text
    mine = [e for e in log.json()["items"] if e["actor"] != "stripe"]
    owner_id = api.container.users.get_by_username("owner102").id
    assert [(e["action"], e["actor"], e["target"]) for e in mine[:3]] == [
        ("billing.resumed", owner_id, sub_id),
        ("billing.canceled", owner_id, sub_id),
        ("billing.checkout_started", owner_id, org_id),
    ]
    assert resumed.headers["x-correlation-id"] == mine[0]["request_id"]


def test_a_per_seat_org_moves_to_a_flat_plan_at_the_previewed_price_and_back(
    api: Api, stripe: StripeControl
) -> None:
    owner = api.as_("owner103")
    org_id = org_of(api, "owner103")
    api.as_("member03")
    add_member(api, org_id, "member03")
    sub_id = subscribe(api, stripe, org_id, owner)
    assert stripe.subscription(sub_id)["items"]["data"][0]["quantity"] == 2

    preview = call(api, "preview", org_id, owner, **BODIES["preview"])
    assert preview.status == 200, preview.text
    quote = preview.json()
    changed = call(
        api,
        "change",
        org_id,
        owner,
        json_body={"plan": "pro", "proration_token": quote["proration_token"]},
    )

    assert changed.status == 200, changed.text
    body = changed.json()
    # A flat plan bills one unit, and its seats are the organization's limit.
    assert (body["plan"], body["seats_used"], body["seat_limit"]) == ("pro", 2, 5)
    item = stripe.subscription(sub_id)["items"]["data"][0]
    assert (item["price"]["id"], item["quantity"]) == ("price_pro_month_usd", 1)
    invoices = stripe.api("/v1/invoices", subscription=sub_id)["data"]
    assert invoices[0]["amount_due"] == quote["amount_due"]

    back = call(api, "change", org_id, owner, json_body={"plan": "team"})
    assert back.status == 200, back.text
    assert (back.json()["plan"], back.json()["seat_limit"]) == ("team", 20)
    item = stripe.subscription(sub_id)["items"]["data"][0]
    assert (item["price"]["id"], item["quantity"]) == ("price_team_seat_month_usd", 2)


def test_the_orgs_invoices_come_a_page_at_a_time_with_a_cursor_of_its_own(
    api: Api, stripe: StripeControl
) -> None:
    owner = api.as_("owner104")
    org_id = org_of(api, "owner104")
    other = org_of(api, "owner104")
    empty = call(api, "invoices", org_id, owner)
    assert empty.status == 200, empty.text
    assert empty.json() == {"items": [], "next_cursor": None}
    subscribe(api, stripe, org_id, owner)
    assert call(api, "change", org_id, owner, json_body={"plan": "pro"}).status == 200

    first = call(api, "invoices", org_id, owner, query={"limit": "1"})
    assert first.status == 200, first.text
    cursor = first.json()["next_cursor"]
    assert cursor
    second = call(
        api, "invoices", org_id, owner, query={"limit": "1", "cursor": cursor}
    )
    assert second.status == 200, second.text

    ids = [first.json()["items"][0]["id"], second.json()["items"][0]["id"]]
    assert len(set(ids)) == 2
    # A cursor is signed for its organization: another one's is refused.
    foreign = call(api, "invoices", other, owner, query={"cursor": cursor})
    assert_problem(foreign, 422, "invalid_cursor")


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_members_are_refused_and_outsiders_find_no_org(api: Api, route: str) -> None:
    owner = api.as_("owner105")
    org_id = org_of(api, "owner105")
    member = api.as_("member05")
    add_member(api, org_id, "member05")
    stranger = api.as_("strange5")
    # An owner of another organization, with that organization's rights.
    api.as_("owner106")
    org_of(api, "owner106")
    neighbour = api.log_in("owner106")
    body = BODIES.get(route, {})

    assert_problem(call(api, route, org_id, member, **body), 403, "forbidden")
    for outsider in (stranger, neighbour):
        refused = call(api, route, org_id, outsider, **body)
        assert_problem(refused, 404, "organization_not_found")
    deleted = api.call("delete_organization", f"/api/v1/orgs/{org_id}", cookies=[owner])
    assert deleted.status == 204, deleted.text
    gone = call(api, route, org_id, owner, **body)
    assert_problem(gone, 404, "organization_not_found")
