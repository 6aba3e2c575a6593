"""One successful request per catalog endpoint, with the state it needs made first.

``Scenarios`` works against any ``Container``: the parent seeds the real one (on
moto) before each cold child, the warm child seeds one built from the in-memory
fakes before each invocation. Every call gets what a call consumes made afresh: a
new username for sign-up and create-user, a new session for log-out, a new target
user for the admin routes (granting admin rights twice, or activating an active
user, would change nothing), right passwords only (the log-in throttle counts
failures). The targets of a password change and of a deactivation have a second open
session, which the request ends; the user list has a full page to list.

The email flows get what their links carry: a fresh verification or reset token per
call, issued through the container's ``link_tokens`` as the worker issues them when
it sends (the target of a reset is logged in, a session the reset ends). Each task
worker gets an SQS event naming a fresh queued task of its family: the email
worker a new user's welcome email (the job every sign-up queues), the users worker
the purge of unverified accounts, the billing worker the reconciliation with
Stripe; the scheduler gets the purge's EventBridge input. A worker
call is checked by what it did (the task succeeded, a task was submitted), not by an
HTTP status.

The users export is a paid feature: the super admin buys the plan before the
first. Billing: a buyer is a fresh user who has started a checkout (so has a Stripe
customer); a subscriber has also paid it, through ``pay`` (the emulator's Checkout
page in the parent, the in-process emulator in the warm child), and holds the
subscription as the webhook would have stored it. Change moves Pro to Business,
resume takes back a cancellation made first. An organization's route gets a fresh
organization of a verified owner, with seats for a member (its invitee, joined
through the link token the invitation job would issue). Stripe's webhook gets a
``customer.subscription.created`` event in Stripe's shape for a fresh buyer,
signed with the webhook secret the moment the call is made: it is applied (the
subscription stored, its email queued), the dearest kind of delivery that asks
Stripe nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from core.adapters.sqs import task_message
from core.application.account_emails import (
    PASSWORD_RESET_PURPOSE,
    VERIFY_EMAIL_PURPOSE,
    WELCOME,
)
from core.application.tasks import (
    PURGE_UNVERIFIED,
    RECONCILE_SUBSCRIPTIONS,
    SEND_VERIFICATION_EMAIL,
)
from core.domain.billing import Interval, Subscription, SubscriptionStatus
from core.domain.task import Task, TaskStatus
from core.domain.user import Role, User
from functions.catalog import BY_NAME, ENDPOINTS, WORKERS
from functions.runtime.container import Container
from functions.sample_events import sample_event
from local.harness import http_api_event
from stripe_emulator.webhooks import signature_header
from tools.roundtrips import COOKIE

PASSWORD = "bench password one"  # noqa: S105 (throwaway accounts)
NEW_PASSWORD = "bench password two"  # noqa: S105
PAGE = 20  # users per listed page
LINK_TTL = timedelta(hours=1)  # of the link tokens issued here
PLAN, CHANGE_TO = "pro", "business"  # bought, then changed to
CURRENCY = "usd"
# An organization buys the per-seat plan.
SEAT_PLAN = "team"
# A plan whose features include the organization's audit log (not per seat: no
# seat sync is queued for it).
AUDIT_PLAN = "business"

# Completes the purchase a checkout URL leads to, at Stripe (or the fake); the id
# of the subscription it made.
Pay = Callable[[str], str]

# Every function the bench measures: the catalog's endpoints, then its workers.
MODULES: dict[str, str] = {
    **{endpoint.name: endpoint.module for endpoint in ENDPOINTS},
    **{worker.name: worker.module for worker in WORKERS},
}
PERMISSIONS: dict[str, tuple[str, ...]] = {
    **{endpoint.name: endpoint.permissions for endpoint in ENDPOINTS},
    **{worker.name: worker.permissions for worker in WORKERS},
}

Check = Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class Call:
    """One request to one endpoint and the status that means it succeeded; or, for
    a worker, its ``raw`` event and the ``check`` of its reply."""

    name: str
    expect: int | None
    path: str | None = None
    body: dict[str, Any] | None = None
    query: dict[str, str] | None = None
    cookie: str | None = None
    raw: dict[str, Any] | None = None
    check: Check | None = None
    # A body sent as it is (Stripe's webhook), with its headers.
    raw_body: str | None = None
    headers: dict[str, str] | None = None
    # The client's address (API Gateway's source IP): the bench's requests come
    # from many clients, as a service's do, so the per-client limits (log-ins,
    # emails) never answer 429 to a run of hundreds of requests.
    source_ip: str = "198.51.100.7"

    def failure(self, reply: Mapping[str, Any]) -> str | None:
        """Why ``reply`` is not this call's success; ``None`` when it is."""
        if self.check is not None:
            return self.check(reply)
        status = reply.get("statusCode")
        if status != self.expect:
            return f"expected {self.expect}, got {status}: {reply.get('body')}"
        return None

    def event(self) -> dict[str, Any]:
        """The raw event, or an API Gateway HTTP API v2 event for this call."""
        if self.raw is not None:
            return self.raw
        return http_api_event(
            BY_NAME[self.name],
            self.path,
            json_body=self.body,
            query=self.query,
            cookies=[self.cookie] if self.cookie else None,
            raw_body=self.raw_body,
            headers=self.headers,
            source_ip=self.source_ip,
        )


class Scenarios:
    """Makes, for an endpoint name, the state its request needs and the request."""

    def __init__(self, container: Container, tag: str, pay: Pay | None = None) -> None:
        self.container = container
        self.tag = tag
        self.pay = pay
        self._count = 0
        self._addresses = 0
        self._page_filled = False
        self.root_name = self.fresh_name()
        made: User = container.create_super_admin().execute(
            self.root_name, f"{self.root_name}@example.com", PASSWORD
        )
        # The super admin buys the plan for the export: buying needs a verified
        # email.
        stored_root = container.users.get(made.id)
        assert stored_root is not None
        self.root: User = container.users.save(stored_root.with_email_verified())
        self._makers: dict[str, Callable[[], Call]] = {
            "signup": self._signup,
            "login": self._login,
            "create_user": self._create_user,
            "list_users": self._list_users,
            "change_password": self._change_password,
            "grant_admin": lambda: self._admin_route("grant_admin", self.user()),
            "revoke_admin": lambda: self._admin_route(
                "revoke_admin", self.user(Role.ADMIN)
            ),
            "activate_user": lambda: self._admin_route(
                "activate_user", self.deactivated_user()
            ),
            "deactivate_user": lambda: self._admin_route(
                "deactivate_user", self.logged_in_user()
            ),
            "export_users": self._export_users,
            "get_task": self._get_task,
            "verify_email": self._verify_email,
            "password_reset": self._password_reset,
            "password_reset_confirm": self._password_reset_confirm,
            "email_worker": self._email_worker,
            "users_worker": lambda: self._task(
                "users_worker",
                self.container.submitter().submit(PURGE_UNVERIFIED, {}, owner_id=None),
            ),
            "billing_worker": lambda: self._task(
                "billing_worker",
                self.container.submitter().submit(
                    RECONCILE_SUBSCRIPTIONS, {}, owner_id=None
                ),
            ),
            "scheduler": self._scheduler,
            "billing_checkout": lambda: Call(
                "billing_checkout",
                200,
                body={"plan": PLAN, "currency": CURRENCY},
                cookie=self.session(self.verified_user()),
            ),
            "billing_portal": lambda: Call(
                "billing_portal", 200, cookie=self.session(self.buyer())
            ),
            "billing_subscription": lambda: Call(
                "billing_subscription", 200, cookie=self.session(self.subscriber())
            ),
            "billing_change": lambda: Call(
                "billing_change",
                200,
                body={"plan": CHANGE_TO, "interval": "month"},
                cookie=self.session(self.subscriber()),
            ),
            "billing_cancel": lambda: Call(
                "billing_cancel", 200, cookie=self.session(self.subscriber())
            ),
            "billing_resume": self._billing_resume,
            "billing_invoices": lambda: Call(
                "billing_invoices", 200, cookie=self.session(self.subscriber())
            ),
            "stripe_webhook": self._stripe_webhook,
            **self._org_makers(),
            "org_billing_checkout": self._org_billing_checkout,
            "org_billing_subscription": self._org_billing_subscription,
            **{
                f"org_billing_{name}": self._org_billing(name)
                for name in ("portal", "invoices", "cancel", "resume", "change")
            },
        }

    def covers(self, name: str) -> bool:
        return name in self._makers or name in BY_NAME

    def call(self, name: str) -> Call:
        """Prepare the state for one successful request to ``name``; the request.
        An endpoint without a maker needs no state but a session (a fresh user's,
        where its route requires one): it gets its declared sample event."""
        maker = self._makers.get(name)
        if maker is not None:
            return replace(maker(), source_ip=self.fresh_address())
        endpoint = BY_NAME.get(name)
        if endpoint is None:
            raise KeyError(f"no request is known for the endpoint {name!r}")
        cookie = self.session(self.user()) if endpoint.requires_session else None
        return Call(name, endpoint.status, raw=sample_event(endpoint, cookie))

    # -- state ------------------------------------------------------------------------

    def fresh_address(self) -> str:
        """A client address no earlier request came from (IPv6's documentation
        prefix: as many as a run needs)."""
        self._addresses += 1
        return f"2001:db8::{self._addresses:x}"

    def fresh_name(self) -> str:
        self._count += 1
        return f"b{self.tag}{self._count:05d}"

    def user(self, role: Role = Role.USER) -> str:
        name = self.fresh_name()
        self.container.registrar().register(name, f"{name}@example.com", PASSWORD, role)
        return name

    def verified_user(self) -> str:
        """A user whose email is verified (buying needs it)."""
        name = self.user()
        self.container.users.save(self.stored(name).with_email_verified())
        return name

    def logged_in_user(self) -> str:
        """A user with an open session (deactivation ends it)."""
        name = self.user()
        self.session(name)
        return name

    def deactivated_user(self) -> str:
        name = self.user()
        self.container.deactivate_user().execute(self.root, name)
        return name

    def session(self, username: str) -> str:
        """A new session of ``username``: the cookie that carries it."""
        token = self.container.log_in().execute(username, PASSWORD, None).token
        return f"{COOKIE}={token}"

    def admin(self) -> str:
        """A new session of the super admin."""
        return self.session(self.root_name)

    def stored(self, username: str) -> User:
        user = self.container.users.get_by_username(username)
        if user is None:
            raise RuntimeError(f"the user {username!r} is gone")
        return user

    def link_token(self, purpose: str, username: str) -> str:
        """A valid link token of ``username``, as the worker issues one."""
        user = self.stored(username)
        return self.container.link_tokens.issue(
            purpose,
            user.id,
            self.container.clock.now(),
            LINK_TTL,
            epoch=user.session_epoch,
        )

    def welcome_task(self, username: str) -> Task:
        """The welcome email sign-up queues for ``username``: queued."""
        user = self.stored(username)
        return self.container.submitter().submit(
            SEND_VERIFICATION_EMAIL,
            {"user_id": user.id, "template": WELCOME},
            owner_id=user.id,
        )

    def buyer(self) -> str:
        """A user who started a checkout: they have a Stripe customer."""
        name = self.verified_user()
        self.checkout(name)
        return name

    def checkout(self, username: str) -> str:
        url: str = self.container.start_checkout().execute(
            self.stored(username), PLAN, Interval.MONTH, CURRENCY
        )
        return url

    def subscriber(self) -> str:
        """A user who bought the plan."""
        return self.subscribe(self.verified_user())

    def subscribe(self, username: str) -> str:
        """``username`` buys the plan; their subscription stored as the webhook
        stores it."""
        if self.pay is None:
            raise RuntimeError("these scenarios were given no way to pay")
        subscription_id = self.pay(self.checkout(username))
        snapshot = self.container.payments.get_subscription(subscription_id)
        self.container.subscription_writer().store(
            self.stored(username), snapshot, self.container.clock.now()
        )
        return username

    def org(self, seats: int = 5) -> tuple[str, str]:
        """A verified user's new organization with ``seats`` (the free plan's one
        seat is its owner's: more is what a paid plan's checkout leaves): the
        owner's name and the organization's id."""
        owner = self.verified_user()
        made = self.container.create_organization().execute(self.stored(owner), "Bench")
        org_id = made.organization.id
        orgs: Any = self.container.orgs
        if hasattr(orgs, "set_seat_limit"):  # the in-memory store
            orgs.set_seat_limit(org_id, seats)
        else:
            from core.adapters.dynamodb.org_models import ORG_SK, OrgItem, org_pk

            OrgItem(org_pk(org_id), ORG_SK).update(
                actions=[OrgItem.seat_limit.set(seats)]
            )
        return owner, org_id

    def org_subscribed(self, org_id: str, plan_key: str) -> None:
        """``org_id`` with an active subscription to ``plan_key`` (its seats as
        they were), stored as its checkout's webhook would store it."""
        plan = self.container.catalog.get(plan_key)
        org = self.container.orgs.get(org_id)
        price = plan.price(Interval.MONTH, CURRENCY) if plan is not None else None
        assert org is not None, org_id
        assert price is not None, plan_key
        now = self.container.clock.now()
        subscription = Subscription(
            id=f"sub_bench_{org_id}",
            status=SubscriptionStatus.ACTIVE,
            price_id=price.id,
            plan_key=plan_key,
            interval=Interval.MONTH,
            currency=CURRENCY,
            item_id=f"si_bench_{org_id}",
            current_period_end=now + timedelta(days=30),
            cancel_at_period_end=False,
            observed_at=now,
        )
        self.container.org_billing.save_billing(
            replace(org, billing=org.billing.with_subscription(subscription))
        )

    def invitation(self, owner: str, org_id: str) -> tuple[str, str]:
        """A verified user invited into ``org_id``: their name and the link's token,
        issued as the invitation job issues it."""
        name = self.verified_user()
        email = f"{name}@example.com"
        self.container.invite_member().execute(
            self.stored(owner), org_id, email, "member"
        )
        invitation = self.container.invitations.get(org_id, email)
        token = None
        if invitation is not None:
            token = self.container.invitations.issue_token(invitation)
        if token is None:
            raise RuntimeError(f"the invitation of {email} is gone")
        return name, str(token)

    def member(self, owner: str, org_id: str) -> str:
        """A verified user who joined ``org_id``: their user id."""
        name, token = self.invitation(owner, org_id)
        self.container.accept_invitation().execute(self.stored(name), token)
        return self.stored(name).id

    def _org_makers(self) -> dict[str, Callable[[], Call]]:
        def owned(name: str, tail: str = "", **more: Any) -> Call:
            owner, org_id = self.org()
            path = f"/api/v1/orgs/{org_id}{tail}"
            status = BY_NAME[name].status
            return Call(name, status, path, cookie=self.session(owner), **more)

        def on_a_member(name: str, **more: Any) -> Call:
            owner, org_id = self.org()
            path = f"/api/v1/orgs/{org_id}/members/{self.member(owner, org_id)}"
            status = BY_NAME[name].status
            return Call(name, status, path, cookie=self.session(owner), **more)

        def transfer() -> Call:
            owner, org_id = self.org()
            body = {"user_id": self.member(owner, org_id)}
            path = f"/api/v1/orgs/{org_id}/transfer-ownership"
            return Call(
                "transfer_ownership", 204, path, body=body, cookie=self.session(owner)
            )

        def revoke() -> Call:
            owner, org_id = self.org()
            invitee, _ = self.invitation(owner, org_id)
            path = f"/api/v1/orgs/{org_id}/invitations/{invitee}@example.com"
            return Call("revoke_invitation", 204, path, cookie=self.session(owner))

        def accept() -> Call:
            owner, org_id = self.org()
            invitee, token = self.invitation(owner, org_id)
            body = {"token": token}
            return Call(
                "accept_invitation", 200, body=body, cookie=self.session(invitee)
            )

        def audit_log() -> Call:
            # Reading the log is a feature of the organization's plan.
            owner, org_id = self.org()
            self.org_subscribed(org_id, AUDIT_PLAN)
            path = f"/api/v1/orgs/{org_id}/audit-log"
            return Call("read_audit_log", 200, path, cookie=self.session(owner))

        def invite() -> Call:
            body = {"email": f"{self.fresh_name()}@example.com", "role": "member"}
            return owned("invite_member", "/invitations", body=body)

        return {
            "create_organization": lambda: Call(
                "create_organization",
                201,
                body={"name": "Bench"},
                cookie=self.session(self.verified_user()),
            ),
            "list_organizations": lambda: Call(
                "list_organizations", 200, cookie=self.session(self.org()[0])
            ),
            "get_organization": lambda: owned("get_organization"),
            "rename_organization": lambda: owned(
                "rename_organization", body={"name": "Bench 2"}
            ),
            "delete_organization": lambda: owned("delete_organization"),
            "list_members": lambda: owned("list_members", "/members"),
            "list_invitations": lambda: owned("list_invitations", "/invitations"),
            "read_audit_log": audit_log,
            "invite_member": invite,
            "revoke_invitation": revoke,
            "accept_invitation": accept,
            "transfer_ownership": transfer,
            "change_member_role": lambda: on_a_member(
                "change_member_role", body={"role": "admin"}
            ),
            "remove_member": lambda: on_a_member("remove_member"),
            "read_platform_audit_log": lambda: Call(
                "read_platform_audit_log", 200, cookie=self.admin()
            ),
        }

    # -- calls ------------------------------------------------------------------------

    def _signup(self) -> Call:
        name = self.fresh_name()
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        return Call("signup", 201, body=body)

    def _login(self) -> Call:
        body = {"username": self.user(), "password": PASSWORD}
        return Call("login", 204, body=body)

    def _create_user(self) -> Call:
        name = self.fresh_name()
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        return Call("create_user", 201, body=body, cookie=self.admin())

    def _list_users(self) -> Call:
        # A full page to list, as in use, rather than the super admin alone.
        if not self._page_filled:
            for _ in range(PAGE):
                self.user()
            self._page_filled = True
        query = {"limit": str(PAGE)}
        return Call("list_users", 200, query=query, cookie=self.admin())

    def _change_password(self) -> Call:
        # Logged in on two devices: the change ends the other session.
        name = self.user()
        self.session(name)
        return Call(
            "change_password",
            204,
            f"/api/v1/users/{name}/password",
            body={"password": NEW_PASSWORD, "current_password": PASSWORD},
            cookie=self.session(name),
        )

    def _admin_route(self, name: str, target: str) -> Call:
        action = BY_NAME[name].path.rsplit("/", 1)[1]
        return Call(name, 204, f"/api/v1/users/{target}/{action}", cookie=self.admin())

    def _export_users(self) -> Call:
        # The export is a paid feature: the super admin buys the plan once.
        if self.stored(self.root_name).billing.subscription is None:
            self.subscribe(self.root_name)
        return Call("export_users", 202, cookie=self.admin())

    def _get_task(self) -> Call:
        # A user polls the welcome email task they own.
        name = self.user()
        task = self.welcome_task(name)
        return Call(
            "get_task", 200, f"/api/v1/tasks/{task.id}", cookie=self.session(name)
        )

    def _verify_email(self) -> Call:
        token = self.link_token(VERIFY_EMAIL_PURPOSE, self.user())
        return Call("verify_email", 204, body={"token": token})

    def _password_reset(self) -> Call:
        body = {"email": f"{self.user()}@example.com"}
        return Call("password_reset", 202, body=body)

    def _password_reset_confirm(self) -> Call:
        # Logged in elsewhere: the reset ends that session.
        token = self.link_token(PASSWORD_RESET_PURPOSE, self.logged_in_user())
        body = {"token": token, "password": NEW_PASSWORD}
        return Call("password_reset_confirm", 204, body=body)

    def _email_worker(self) -> Call:
        return self._task(
            "email_worker", self.welcome_task(self.user()), result={"sent": True}
        )

    def _task(
        self, worker: str, task: Task, result: Mapping[str, Any] | None = None
    ) -> Call:
        """``worker`` handed the message of ``task``, a queued task of its family:
        checked by the task's success (and its ``result``, if given)."""
        tasks = self.container.tasks

        def check(reply: Mapping[str, Any]) -> str | None:
            if reply.get("batchItemFailures") != []:
                return f"the batch failed: {reply}"
            done = tasks.get(task.id)
            if done is None or done.status is not TaskStatus.SUCCEEDED:
                return f"the task did not succeed: {done}"
            if result is not None and done.result != result:
                return f"the task did not do its work: {done.result}"
            return None

        return Call(worker, None, raw=sqs_event(task), check=check)

    def _scheduler(self) -> Call:
        tasks = self.container.tasks

        def check(reply: Mapping[str, Any]) -> str | None:
            task_id = reply.get("task_id")
            task = tasks.get(task_id) if isinstance(task_id, str) else None
            if reply.get("job") != PURGE_UNVERIFIED or task is None:
                return f"no task was submitted: {reply}"
            return None

        return Call("scheduler", None, raw={"job": PURGE_UNVERIFIED}, check=check)

    def org_owner(self) -> tuple[str, str]:
        """A verified user and the organization they just created: its id."""
        name = self.verified_user()
        mine = self.container.create_organization().execute(self.stored(name), "Acme")
        return name, mine.organization.id

    def _org_billing_checkout(self) -> Call:
        name, org_id = self.org_owner()
        return Call(
            "org_billing_checkout",
            200,
            f"/api/v1/orgs/{org_id}/billing/checkout",
            body={"plan": SEAT_PLAN, "currency": CURRENCY},
            cookie=self.session(name),
        )

    def _org_billing_subscription(self) -> Call:
        name, org_id = self.org_owner()
        return Call(
            "org_billing_subscription",
            200,
            f"/api/v1/orgs/{org_id}/billing/subscription",
            cookie=self.session(name),
        )

    def org_subscriber(self) -> tuple[str, str]:
        """An owner whose new organization bought the per-seat plan through Stripe
        (the emulator): their name and its id, the subscription stored as the
        checkout's webhook stores it."""
        if self.pay is None:
            raise RuntimeError("these scenarios were given no way to pay")
        name, org_id = self.org_owner()
        url = self.container.start_org_checkout().execute(
            self.stored(name), org_id, SEAT_PLAN, Interval.MONTH, CURRENCY
        )
        snapshot = self.container.payments.get_subscription(self.pay(url))
        org = self.container.orgs.get(org_id)
        assert org is not None, org_id
        now = self.container.clock.now()
        self.container.org_billing_writer().store(org, snapshot, now)
        return name, org_id

    def _org_billing(self, action: str) -> Callable[[], Call]:
        """The request of an organization's billing ``action`` by its owner, on
        an organization that subscribed (and, to resume, canceled)."""

        def make() -> Call:
            name, org_id = self.org_subscriber()
            if action == "resume":
                owner = self.stored(name)
                self.container.cancel_org_subscription().execute(owner, org_id)
            under = "" if action in ("portal", "invoices") else "subscription/"
            path = f"{under}{action}"
            body = {"plan": CHANGE_TO, "interval": "month"}
            return Call(
                f"org_billing_{action}",
                200,
                f"/api/v1/orgs/{org_id}/billing/{path}",
                body=body if action == "change" else None,
                cookie=self.session(name),
            )

        return make

    def _billing_resume(self) -> Call:
        name = self.subscriber()
        self.container.cancel_subscription().execute(self.stored(name))
        return Call("billing_resume", 200, cookie=self.session(name))

    def _stripe_webhook(self) -> Call:
        user = self.stored(self.buyer())
        assert user.billing.customer_id is not None
        plan = self.container.catalog.get(PLAN)
        price = plan.price(Interval.MONTH, CURRENCY) if plan is not None else None
        assert price is not None
        body = json.dumps(
            subscription_created_event(
                user.id,
                user.billing.customer_id,
                price.id,
                price.unit_amount,
                int(self.container.clock.now().timestamp()),
            ),
            indent=2,
        )
        secret = self.container.settings.stripe_webhook_secret_value()
        signature = signature_header(secret, body.encode())  # signed now

        def check(reply: Mapping[str, Any]) -> str | None:
            if reply.get("statusCode") != 200:
                return f"expected 200, got {reply.get('statusCode')}: {reply}"
            if '"applied"' not in str(reply.get("body")):
                return f"the event was not applied: {reply.get('body')}"
            return None

        return Call(
            "stripe_webhook",
            200,
            raw_body=body,
            headers={"stripe-signature": signature},
            check=check,
        )


def subscription_created_event(
    user_id: str, customer_id: str, price_id: str, unit_amount: int, now: int
) -> dict[str, Any]:
    """A ``customer.subscription.created`` event as Stripe (API 2026-10-28) sends
    it after a card checkout: every field of the subscription, its item and price."""
    sub_id = f"sub_{uuid.uuid4().hex[:24]}"
    end = now + 30 * 86_400
    price: dict[str, Any] = {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": now - 86_400,
        "currency": CURRENCY,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {"plan": PLAN},
        "nickname": None,
        "product": f"prod_strata_{PLAN}",
        "recurring": {
            "interval": "month",
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    subscription: dict[str, Any] = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": CURRENCY,
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": f"pm_{uuid.uuid4().hex[:24]}",
        "description": None,
        "discounts": [],
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{uuid.uuid4().hex[:14]}",
                    "object": "subscription_item",
                    "created": now,
                    "current_period_end": end,
                    "current_period_start": now,
                    "discounts": [],
                    "metadata": {},
                    "price": price,
                    "quantity": 1,
                    "subscription": sub_id,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": f"in_{uuid.uuid4().hex[:24]}",
        "livemode": False,
        "metadata": {"user_id": user_id},
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_update": None,
        "start_date": now,
        "status": "active",
        "test_clock": None,
        "trial_end": None,
        "trial_start": None,
    }
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": now,
        "data": {"object": subscription},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "customer.subscription.created",
    }


def sqs_event(task: Task) -> dict[str, Any]:
    """An SQS event of one message naming ``task``, received for the first time."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": task_message(task),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1767261620000",
                    "SenderId": "AROAEXAMPLE123456789:strata-bench",
                    "ApproximateFirstReceiveTimestamp": "1767261620150",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:strata-bench",
                "awsRegion": "us-east-1",
            }
        ]
    }
