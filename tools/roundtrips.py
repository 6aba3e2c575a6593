"""The round-trip budget: how many DynamoDB calls each endpoint makes per request.

``measure`` walks every catalog endpoint once through its Lambda handler, with an API
Gateway HTTP API v2 event and realistic preconditions (a logged-in super admin for the
admin routes, a real target user with open sessions; an endpoint that needs none but
a session gets its declared sample event), and counts the DynamoDB calls of
each request through botocore's event hooks on the models' clients. The caller brings
a running DynamoDB (moto), bound tables and an installed container.

The billing endpoints and Stripe's webhook are walked against a local Stripe
emulator that ``measure_walk`` starts for the walk (the container's Stripe client is
pointed at it meanwhile): a real Checkout, paid on the emulator's page, whose events
are then delivered to the webhook handler signed as Stripe signs them. Its webhooks
are not sent on their own, so no delivery runs beside a measured request. The Stripe
API requests each request makes are counted as the emulator receives them.

``python -m tools.roundtrips`` does all of that on its own, against a throwaway moto
server on loopback, and prints the budget as a markdown table.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from functions.catalog import BY_NAME, ENDPOINTS, Endpoint
from functions.sample_events import sample_event
from local.harness import FakeLambdaContext, Reply, free_port, http_api_event
from local.stack import provision

# Throwaway accounts in a throwaway moto server.
PASSWORD = "round trip password"  # noqa: S105
NEW_PASSWORD = "another round trip password"  # noqa: S105
RESET_PASSWORD = "a round trip password after a reset"  # noqa: S105
COOKIE = "access_token"


@dataclass
class RequestCalls:
    """The DynamoDB calls of one request: by operation, and by (operation, table);
    and its Stripe API requests, by method and path (ids as ``{id}``)."""

    operations: Counter[str] = field(default_factory=Counter)
    tables: Counter[tuple[str, str]] = field(default_factory=Counter)
    stripe: Counter[str] = field(default_factory=Counter)
    # Queries of a secondary index, by (table, index): what its IAM grant must allow.
    indexes: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    @property
    def stripe_total(self) -> int:
        return sum(self.stripe.values())


class _CallHook:
    """A ``before-call.dynamodb`` hook that records into ``current`` while set."""

    def __init__(self) -> None:
        self.current: RequestCalls | None = None

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if self.current is None:
            return
        operation = str(model.name)
        self.current.operations[operation] += 1
        body = _json_body(params.get("body"))
        for table in _tables_of(body):
            self.current.tables[(operation, table)] += 1
        if "IndexName" in body:
            index = (str(body["TableName"]), str(body["IndexName"]))
            self.current.indexes[index] += 1


def _json_body(body: Any) -> dict[str, Any]:
    """A request's JSON body, or an empty one."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or "{}")
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


def _tables_of(body: dict[str, Any]) -> list[str]:
    if "TableName" in body:
        return [str(body["TableName"])]
    if "RequestItems" in body:
        return [str(name) for name in body["RequestItems"]]
    if "TransactItems" in body:
        return sorted(
            {
                str(action["TableName"])
                for item in body["TransactItems"]
                for action in item.values()
            }
        )
    return []


@contextmanager
def _hooked() -> Iterator[_CallHook]:
    """A hook on the client of every model, removed again on the way out."""
    from core.adapters.dynamodb.models import dynamodb_clients

    hook = _CallHook()
    clients = {id(client): client for client in dynamodb_clients()}
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", hook)
    try:
        yield hook
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", hook)


# -- events ----------------------------------------------------------------------------


def _invoke(event: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    handler = import_module(endpoint.module).handler
    reply: dict[str, Any] = handler(event, FakeLambdaContext("strata-roundtrips"))
    return reply


def _body_text(reply: dict[str, Any]) -> str:
    return Reply(reply).text


def _session_cookie(reply: dict[str, Any]) -> str:
    for cookie in reply.get("cookies") or []:
        pair = str(cookie).split(";", 1)[0]
        if pair.startswith(f"{COOKIE}=") and len(pair) > len(COOKIE) + 1:
            return pair
    raise RuntimeError("the response set no session cookie")


# -- the walk --------------------------------------------------------------------------


class _Walk:
    """Calls endpoints by name; records the calls of the measured ones.

    ``stripe`` is the emulator the container's Stripe client talks to during the
    walk: its log of API requests gives each request's Stripe calls.
    """

    def __init__(self, hook: _CallHook, stripe: Any = None) -> None:
        self.hook = hook
        self.stripe = stripe
        self.results: dict[str, RequestCalls] = {}
        # Requests measured beside their endpoint's own: a preview, each webhook
        # event type. Keyed "<endpoint> <what>".
        self.variants: dict[str, RequestCalls] = {}

    def call(
        self,
        name: str,
        expected: int,
        path: str | None = None,
        *,
        measured: bool = True,
        variant: str | None = None,
        body: Any = None,
        cookie: str | None = None,
        event: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``body`` is sent as JSON, ``cookie`` (``name=value``) as the request's
        one cookie; other keywords go to ``http_api_event``."""
        endpoint = BY_NAME[name]
        event = event or http_api_event(
            endpoint,
            path,
            json_body=body,
            cookies=[cookie] if cookie else None,
            **kwargs,
        )
        calls = RequestCalls()
        if self.stripe is not None:
            self.stripe.requests.clear()
        self.hook.current = calls if measured else None
        try:
            reply = _invoke(event, endpoint)
        finally:
            self.hook.current = None
        if reply["statusCode"] != expected:
            raise RuntimeError(
                f"{name}: expected {expected}, got {reply['statusCode']}: "
                f"{_body_text(reply)}"
            )
        if measured:
            if self.stripe is not None:
                calls.stripe.update(_stripe_call(r) for r in self.stripe.requests)
            if variant is None:
                self.results[name] = calls
            else:
                self.variants[f"{name} {variant}"] = calls
        return reply

    def log_in(self, username: str, password: str, *, measured: bool = False) -> str:
        reply = self.call(
            "login",
            204,
            body={"username": username, "password": password},
            measured=measured,
        )
        return _session_cookie(reply)


# A Stripe id: a lower-case prefix, then random letters and digits (a path word
# such as ``billing_portal`` or ``create_preview`` has no digit or capital).
_STRIPE_ID = re.compile(r"^[a-z]+_(?=[A-Za-z0-9_]*[A-Z0-9])[A-Za-z0-9_]+$")


def _stripe_call(request: dict[str, Any]) -> str:
    """``POST /v1/subscriptions/{id}`` for a request the emulator logged."""
    parts = [
        "{id}" if _STRIPE_ID.match(part) else part
        for part in str(request["path"]).split("/")
    ]
    return f"{request['method']} {'/'.join(parts)}"


@dataclass
class Walked:
    """Every catalog endpoint's calls for one successful request, in catalog order,
    and the variants measured beside them."""

    endpoints: dict[str, RequestCalls]
    variants: dict[str, RequestCalls]


def measure_detailed() -> dict[str, RequestCalls]:
    """Every catalog endpoint's calls for one successful request, in catalog order.

    Needs a reachable DynamoDB with the tables bound, and the container installed
    (``functions.runtime.container.use_container``); adds a few users to the tables.
    """
    return measure_walk().endpoints


def measure_walk() -> Walked:
    """``measure_detailed``, with the variants (see ``Walked``)."""
    from functions.runtime.container import get_container

    container = get_container()
    suffix = secrets.token_hex(3)
    root, target, made = f"root{suffix}", f"user{suffix}", f"made{suffix}"
    # The one role the API cannot make: created as the management command does.
    root_user = container.create_super_admin().execute(
        root, f"{root}@example.com", PASSWORD
    )
    # The super admin buys a plan later: buying needs a verified email.
    stored_root = container.users.get(root_user.id)
    assert stored_root is not None
    container.users.save(stored_root.with_email_verified())

    with _stripe_emulator(container) as stripe, _hooked() as hook:
        walk = _Walk(hook, stripe)
        walk.call(
            "signup",
            201,
            body={
                "username": target,
                "email": f"{target}@example.com",
                "password": PASSWORD,
            },
        )
        admin = walk.log_in(root, PASSWORD, measured=True)
        walk.call(
            "create_user",
            201,
            cookie=admin,
            body={
                "username": made,
                "email": f"{made}@example.com",
                "password": PASSWORD,
            },
        )
        walk.call("list_users", 200, cookie=admin, query={"limit": "2"})
        # The target is logged in on two devices and changes the password on one,
        # which ends the session on the other.
        here = walk.log_in(target, PASSWORD)
        walk.log_in(target, PASSWORD)
        walk.call(
            "change_password",
            204,
            f"/api/v1/users/{target}/password",
            cookie=here,
            body={"password": NEW_PASSWORD, "current_password": PASSWORD},
        )
        users = f"/api/v1/users/{target}"
        walk.call("grant_admin", 204, f"{users}/grant-admin", cookie=admin)
        walk.call("revoke_admin", 204, f"{users}/revoke-admin", cookie=admin)
        # Deactivation ends the session the target still has open.
        walk.call("deactivate_user", 204, f"{users}/deactivate", cookie=admin)
        walk.call("activate_user", 204, f"{users}/activate", cookie=admin)
        _walk_billing(walk, container, f"pay{suffix}")
        # The export needs a paid plan: the super admin buys one first.
        _subscribe(walk, container, admin)
        exported = walk.call("export_users", 202, cookie=admin)
        task_id = json.loads(_body_text(exported))["task_id"]
        walk.call("get_task", 200, f"/api/v1/tasks/{task_id}", cookie=admin)
        _walk_email_flows(walk, container, target)
        _walk_orgs(walk, container, suffix)
        walk.call("read_platform_audit_log", 200, cookie=admin, query={"limit": "5"})
        walk.call("logout", 204, cookie=admin)
        _walk_org_billing(walk, container, f"seat{suffix}")
        _walk_the_rest(walk, container, f"any{suffix}")

    return Walked({e.name: walk.results[e.name] for e in ENDPOINTS}, walk.variants)


def _verified(container: Any, username: str) -> None:
    from core.domain.user import Role

    made = container.registrar().register(
        username, f"{username}@example.com", PASSWORD, Role.USER
    )
    container.users.save(container.users.get(made.id).with_email_verified())


def _walk_orgs(walk: _Walk, container: Any, suffix: str) -> None:
    """An owner creates an organization, lists, reads and renames it, invites a
    colleague who accepts (the link's token issued as the invitation job issues
    it), reads the members and the invitations, promotes the colleague and hands
    them the ownership, then leaves; the new owner invites and revokes an address,
    reads the audit log and deletes the organization, whose subscription (a real
    one on the emulator, bought as a person's and moved onto the organization:
    what the organization's own checkout leaves, with the plan's seats) ends at
    Stripe."""
    from dataclasses import replace

    from core.adapters.dynamodb.orgs import _org_item

    owner, colleague = f"org{suffix}", f"mem{suffix}"
    _verified(container, owner)
    _verified(container, colleague)
    first = walk.log_in(owner, PASSWORD)
    second = walk.log_in(colleague, PASSWORD)
    made = walk.call("create_organization", 201, cookie=first, body={"name": "Acme"})
    org_id = json.loads(_body_text(made))["id"]
    org = f"/api/v1/orgs/{org_id}"
    walk.call("list_organizations", 200, cookie=first, query={"limit": "10"})
    walk.call("get_organization", 200, org, cookie=first)
    walk.call("rename_organization", 200, org, cookie=first, body={"name": "Acme 2"})
    # The free plan's one seat is the owner's: the colleague joins a paid plan,
    # Business, whose features include the audit log read below.
    _subscribe(walk, container, first, "business")
    payer = container.users.get_by_username(owner)
    stored = container.orgs.get(org_id)
    paid = replace(stored, billing=payer.billing, plan_key="business", seat_limit=50)
    _org_item(paid).save()
    invited = {"email": f"{colleague}@example.com", "role": "member"}
    walk.call("invite_member", 202, f"{org}/invitations", cookie=first, body=invited)
    walk.call("list_invitations", 200, f"{org}/invitations", cookie=first)
    invitation = container.invitations.get(org_id, invited["email"])
    token = container.invitations.issue_token(invitation)
    walk.call("accept_invitation", 200, cookie=second, body={"token": token})
    walk.call("list_members", 200, f"{org}/members", cookie=first)
    colleague_id = container.users.get_by_username(colleague).id
    owner_id = container.users.get_by_username(owner).id
    walk.call(
        "change_member_role",
        200,
        f"{org}/members/{colleague_id}",
        cookie=first,
        body={"role": "admin"},
    )
    walk.call(
        "transfer_ownership",
        204,
        f"{org}/transfer-ownership",
        cookie=first,
        body={"user_id": colleague_id},
    )
    walk.call("remove_member", 204, f"{org}/members/{owner_id}", cookie=first)
    other = {"email": f"inv{suffix}@example.com", "role": "member"}
    walk.call(
        "invite_member",
        202,
        f"{org}/invitations",
        cookie=second,
        body=other,
        measured=False,
    )
    revoke = f"{org}/invitations/{other['email']}"
    walk.call("revoke_invitation", 204, revoke, cookie=second)
    walk.call("read_audit_log", 200, f"{org}/audit-log", cookie=second)
    walk.call("delete_organization", 204, org, cookie=second)


def _walk_the_rest(walk: _Walk, container: Any, username: str) -> None:
    """Every endpoint without a step above needs no state but a session: a new
    user logs in, and each gets its declared sample event (with that session where
    its route requires one)."""
    from core.domain.user import Role

    container.registrar().register(
        username, f"{username}@example.com", PASSWORD, Role.USER
    )
    cookie = walk.log_in(username, PASSWORD)
    for endpoint in ENDPOINTS:
        if endpoint.name not in walk.results:
            session = cookie if endpoint.requires_session else None
            event = sample_event(endpoint, session)
            walk.call(endpoint.name, endpoint.status, event=event)


@contextmanager
def _stripe_emulator(container: Any) -> Iterator[Any]:
    """A Stripe emulator for the walk, with the container's Stripe client pointed
    at it meanwhile. It sends no webhooks: the walk delivers the events itself."""
    from functions.runtime.container import _payments
    from local.stripe_plans import plan_prices, start

    emulator = start(0, None, prices=plan_prices(container.settings))
    settings = container.settings.model_copy(update={"stripe_api_base": emulator.url})
    saved = container.payments
    container.payments = _payments(settings, container.clock)
    try:
        yield emulator
    finally:
        container.payments = saved
        emulator.stop()


def pay_checkout(url: str) -> None:
    """Open a Checkout page as the buyer's browser does: that pays. The redirect
    back to the front end is not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    try:
        opener.open(url, timeout=30).close()
    except urllib.error.HTTPError as exc:  # the 303 to the success URL
        if exc.code != 303:
            raise


def _deliver(
    walk: _Walk, container: Any, event_ids: list[str], *, measured: bool
) -> None:
    """Deliver the emulator's events ``event_ids`` to the webhook handler, signed as
    Stripe signs them; each measured one is a variant of ``stripe_webhook``, the
    dearest of them its figure."""
    from stripe_emulator import signature_header
    from stripe_emulator.state import event_body

    secret = container.settings.stripe_webhook_secret_value()
    for event_id in event_ids:
        event = walk.stripe.state.events[event_id]
        body = event_body(event)
        walk.call(
            "stripe_webhook",
            200,
            raw_body=body.decode(),
            headers={"stripe-signature": signature_header(secret, body)},
            measured=measured,
            variant=event["type"] if measured else None,
        )
    if measured:
        dearest = max(
            (c for n, c in walk.variants.items() if n.startswith("stripe_webhook ")),
            key=lambda c: (c.total, c.stripe_total),
        )
        walk.results["stripe_webhook"] = dearest


def _new_events(walk: _Walk, since: int) -> list[str]:
    return list(walk.stripe.state.events)[since:]


def _subscribe(walk: _Walk, container: Any, cookie: str, plan: str = "pro") -> None:
    """``cookie``'s user buys ``plan``, unmeasured: checkout, pay, webhooks."""
    since = len(walk.stripe.state.events)
    reply = walk.call(
        "billing_checkout", 200, cookie=cookie, body={"plan": plan}, measured=False
    )
    pay_checkout(json.loads(_body_text(reply))["url"])
    _deliver(walk, container, _new_events(walk, since), measured=False)


def _walk_billing(walk: _Walk, container: Any, payer: str) -> None:
    """A user buys Pro by card (the purchase's webhooks are measured), opens the
    portal, reads the subscription, previews and makes a move to Business, cancels,
    resumes and lists the invoices."""
    from core.domain.user import Role

    made = container.registrar().register(
        payer, f"{payer}@example.com", PASSWORD, Role.USER
    )
    # Buying needs a verified email.
    container.users.save(container.users.get(made.id).with_email_verified())
    session = walk.log_in(payer, PASSWORD)
    since = len(walk.stripe.state.events)
    reply = walk.call("billing_checkout", 200, cookie=session, body={"plan": "pro"})
    pay_checkout(json.loads(_body_text(reply))["url"])
    _deliver(walk, container, _new_events(walk, since), measured=True)
    walk.call("billing_portal", 200, cookie=session)
    walk.call("billing_subscription", 200, cookie=session)
    change = {"plan": "business", "interval": "month"}
    preview = walk.call(
        "billing_change",
        200,
        cookie=session,
        body=change,
        query={"preview": "true"},
        variant="?preview=true",
    )
    proration_token = json.loads(_body_text(preview))["proration_token"]
    walk.call(
        "billing_change",
        200,
        cookie=session,
        body={**change, "proration_token": proration_token},
    )
    walk.call("billing_cancel", 200, cookie=session)
    walk.call("billing_resume", 200, cookie=session)
    walk.call("billing_invoices", 200, cookie=session, query={"limit": "10"})


def _walk_org_billing(walk: _Walk, container: Any, owner: str) -> None:
    """A verified user creates an organization (outside the walk: its endpoint is
    the organizations' own), subscribes it per seat (its webhooks delivered
    unmeasured: the persons' purchase measures them), reads its subscription,
    opens the portal, previews and makes a move to Pro, cancels, resumes and
    lists the invoices."""
    from core.domain.user import Role

    made = container.registrar().register(
        owner, f"{owner}@example.com", PASSWORD, Role.USER
    )
    user = container.users.save(container.users.get(made.id).with_email_verified())
    org_id = container.create_organization().execute(user, "Acme").organization.id
    session = walk.log_in(owner, PASSWORD)
    billing = f"/api/v1/orgs/{org_id}/billing"
    since = len(walk.stripe.state.events)
    reply = walk.call(
        "org_billing_checkout",
        200,
        f"{billing}/checkout",
        cookie=session,
        body={"plan": "team"},
    )
    pay_checkout(json.loads(_body_text(reply))["url"])
    _deliver(walk, container, _new_events(walk, since), measured=False)
    walk.call(
        "org_billing_subscription", 200, f"{billing}/subscription", cookie=session
    )
    walk.call("org_billing_portal", 200, f"{billing}/portal", cookie=session)
    change = {"plan": "pro", "interval": "month"}
    preview = walk.call(
        "org_billing_change",
        200,
        f"{billing}/subscription/change",
        cookie=session,
        body=change,
        query={"preview": "true"},
        variant="?preview=true",
    )
    proration_token = json.loads(_body_text(preview))["proration_token"]
    walk.call(
        "org_billing_change",
        200,
        f"{billing}/subscription/change",
        cookie=session,
        body={**change, "proration_token": proration_token},
    )
    for verb in ("cancel", "resume"):
        walk.call(
            f"org_billing_{verb}", 200, f"{billing}/subscription/{verb}", cookie=session
        )
    walk.call(
        "org_billing_invoices",
        200,
        f"{billing}/invoices",
        cookie=session,
        query={"limit": "10"},
    )


def _walk_email_flows(walk: _Walk, container: Any, target: str) -> None:
    """The target, still unverified, asks for a new verification email, verifies,
    forgets the password and sets a new one. The links' tokens are issued the way
    the worker issues them as it sends, outside the measured requests."""
    from datetime import timedelta

    user = container.users.get_by_username(target)
    session = walk.log_in(target, NEW_PASSWORD)
    walk.call("resend_verification", 202, cookie=session)
    now = container.clock.now()
    verify = container.link_tokens.issue(
        "verify_email", user.id, now, timedelta(hours=1), epoch=user.session_epoch
    )
    walk.call("verify_email", 204, body={"token": verify})
    walk.call("password_reset", 202, body={"email": f"{target}@example.com"})
    reset = container.link_tokens.issue(
        "password_reset", user.id, now, timedelta(hours=1), epoch=user.session_epoch
    )
    # The target's open session is one of those the reset ends.
    walk.call(
        "password_reset_confirm",
        204,
        body={"token": reset, "password": RESET_PASSWORD},
    )


def measure() -> dict[str, dict[str, int]]:
    """Endpoint name -> {DynamoDB operation: calls} for one successful request each."""
    return {
        name: dict(sorted(calls.operations.items()))
        for name, calls in measure_detailed().items()
    }


def render(budget: dict[str, dict[str, int]]) -> str:
    """The budget as a markdown table, in catalog order."""
    lines = [
        "| endpoint | method path | DynamoDB calls | by operation |",
        "|---|---|---:|---|",
    ]
    for name, operations in budget.items():
        endpoint = BY_NAME[name]
        by_operation = ", ".join(f"{op} {n}" for op, n in operations.items()) or "-"
        lines.append(
            f"| {name} | `{endpoint.method} {endpoint.path}` "
            f"| {sum(operations.values())} | {by_operation} |"
        )
    return "\n".join(lines)


def render_walk(walked: Walked) -> str:
    """Every endpoint and variant: DynamoDB calls and Stripe API calls, in catalog
    order, each variant under its endpoint."""
    lines = [
        "| endpoint | method path | DynamoDB calls | by operation "
        "| Stripe calls | Stripe requests |",
        "|---|---|---:|---|---:|---|",
    ]

    def row(label: str, where: str, calls: RequestCalls) -> str:
        operations = sorted(calls.operations.items())
        by_operation = ", ".join(f"{op} {n}" for op, n in operations) or "-"
        stripe = ", ".join(
            f"{call} x{n}" if n > 1 else call
            for call, n in sorted(calls.stripe.items())
        )
        return (
            f"| {label} | {where} | {calls.total} | {by_operation} "
            f"| {calls.stripe_total} | {stripe or '-'} |"
        )

    for name, calls in walked.endpoints.items():
        endpoint = BY_NAME[name]
        lines.append(row(name, f"`{endpoint.method} {endpoint.path}`", calls))
        for label, variant in walked.variants.items():
            if label.split(" ", 1)[0] == name:
                lines.append(row(f"&nbsp;&nbsp;{label}", "", variant))
    return "\n".join(lines)


# -- the command -----------------------------------------------------------------------


def main() -> None:
    """Start moto on loopback, create the tables, measure, print the table."""
    # Fake credentials and the local stage: this never talks to a real AWS account.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto takes any)
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        STRATA_STAGE="local",
        STRATA_BCRYPT_ROUNDS="4",
    )
    for name in ("AWS_PROFILE", "STRATA_JWT_SECRET", "STRATA_PASSWORD_PEPPER"):
        os.environ.pop(name, None)

    from moto.server import ThreadedMotoServer

    from functions.runtime.container import build_container, use_container

    # The moto server's access log would drown the table.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        # Tables, task queue and export bucket: some requests queue work.
        use_container(build_container(provision()))
        walked = measure_walk()
    finally:
        use_container(None)
        server.stop()
    print(render_walk(walked))
    print()
    print(
        "One successful request each. stripe_webhook is the dearest of the events "
        "a card purchase sends (each is listed under it); Stripe calls are the API "
        "requests the local Stripe emulator received during the request."
    )


if __name__ == "__main__":
    main()
