"""What the fuzz suite shares: the API's OpenAPI document loaded by Schemathesis,
the checks every answer must pass, the Hypothesis settings, and a super admin's
session that stays usable whatever the fuzzer does to it.

Everything runs in-process through ASGI (no network); the app's adapters are the
real ones, on the session's moto server (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from core.application.errors import (
    AccountInactive,
    InvalidCredentials,
    NotAuthenticated,
    TooManyAttempts,
)
from core.domain.billing import Interval
from core.domain.task import Task, TaskStatus
from core.domain.user import Role, User
from functions.runtime.auth import COOKIE_NAME
from local.dev_app import build_app

# Examples per operation and per generation phase. Small for `make test`; `make fuzz`
# raises it. Without STRATA_FUZZ_SEED every run tries the same inputs (derandomized),
# so a CI failure reproduces locally; with it, a run explores other inputs.
EXAMPLES = int(os.environ.get("STRATA_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("STRATA_FUZZ_SEED")

# A Schemathesis project config with only what the defaults do not say: the seed.
CONFIG = schemathesis.Config(seed=int(SEED)) if SEED else schemathesis.Config()
# The session cookie is a security scheme in the document; the tests hand over a
# real session themselves, so it is not a parameter for the fuzzer to vary.
CONFIG.projects.default.generation.update(with_security_parameters=False)

# The document of the whole local app, the one `make dev` serves at /openapi.json.
APP = build_app()
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)

# No 5xx, and every answer is one the document describes: its status, its content
# type, its body's schema and its required headers (Set-Cookie, Retry-After).
# Beyond those: input the document calls invalid is refused with a 4xx, and a
# method the path does not serve gets a 405 whose Allow lists the ones it does.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
]

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        # The tables are reset per operation (the `container` fixture), not per
        # example: state built up by earlier examples is part of what is fuzzed.
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

PASSWORD = "correct horse battery"

# Users on the fresh tables of every fuzzed operation, by name: the fuzzer is
# pointed at them, beside generated names, so that log-in can succeed (or meet a
# deactivated account, or the throttle) and the admin routes reach their rules and
# their writes, not only a 404 or a 422.
ROOT = "root0001"
ADMIN = "admin001"
USER = "user0001"
INACTIVE = "gone0001"
MISSING = "nobody01"
KNOWN = (ROOT, ADMIN, USER, INACTIVE, MISSING)


def seed_users(container: Any) -> User:
    """Store the known users (MISSING stays missing); returns the super admin."""
    root: User = container.create_super_admin().execute(
        ROOT, f"{ROOT}@example.com", PASSWORD
    )
    registrar = container.registrar()
    for name, role in ((ADMIN, Role.ADMIN), (USER, Role.USER), (INACTIVE, Role.USER)):
        registrar.register(name, f"{name}@example.com", PASSWORD, role)
    container.deactivate_user().execute(root, INACTIVE)
    seed_task(container, root)
    return root


# A finished export of the super admin's: task routes are aimed at it, beside
# generated ids, so that a task is found and its documented body is checked.
KNOWN_TASK = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def seed_task(container: Any, owner: User) -> None:
    now = container.clock.now()
    task = Task(
        id=KNOWN_TASK,
        name="export_users",
        owner_id=owner.id,
        payload={"key": "users/fuzz.csv"},
        status=TaskStatus.QUEUED,
        attempts=0,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=1),
    )
    container.tasks.add(task)
    link = {"url": "https://exports.example/users/fuzz.csv", "rows": 4}
    container.tasks.finish(task.succeeded(link, now))


def seed_subscription(container: Any, stripe: Any, username: str = ROOT) -> None:
    """``username`` buys Pro by card on the local Stripe emulator (``stripe``, a
    ``tests.stripe_local.StripeControl``), its webhooks applied: the billing routes
    that change a subscription, open the portal or list invoices then reach their
    own code for the super admin, not only a 409 for having nothing to change."""
    # Buying needs a verified email.
    user = container.users.save(
        container.users.get_by_username(username).with_email_verified()
    )
    url = container.start_checkout().execute(user, "pro", Interval.MONTH, "usd")
    stripe.pay(url)
    stripe.flush()
    subscription = container.users.get(user.id).billing.subscription
    assert subscription is not None, stripe.relay.deliveries


# Billing bodies name a plan of the catalog, an interval, a currency and a payment
# method it sells (beside generated values), so that checkout and plan changes get
# past the catalog to Stripe.
_PLANS = ("free", "pro", "business")

_USERNAMES = st.one_of(
    st.sampled_from(KNOWN), st.from_regex(r"[A-Za-z0-9]{5,20}", fullmatch=True)
)
_PASSWORDS = st.one_of(st.just(PASSWORD), st.text(min_size=8, max_size=64))
_VALID_VALUES = {
    "username": _USERNAMES,
    "email": st.from_regex(r"[a-z0-9]{1,20}@example\.com", fullmatch=True),
    "password": _PASSWORDS,
    "current_password": _PASSWORDS,
    "plan": st.sampled_from(_PLANS),
    "interval": st.sampled_from(("month", "year")),
    "currency": st.sampled_from(("usd", "eur")),
    "payment_method": st.sampled_from(("card", "bank_transfer")),
}

# Routes that read their body raw and check it themselves (Stripe's webhook: the
# signature covers the exact bytes): FastAPI never validates it, so they answer a
# bad body 400, not 422, and document no 422.
RAW_BODY_ROUTES = frozenset({("POST", "/api/v1/webhooks/stripe")})


def _known_credentials(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The fields of ``body`` that name a user or a password, as the known user
    ``name`` fills them in."""
    known = {key: PASSWORD for key in ("password", "current_password") if key in body}
    if "username" in body:
        known["username"] = name
    return known


def _paths(path_parameters: Any) -> st.SearchStrategy[Any]:
    """Path parameters naming a known user or task, or as generated."""
    if isinstance(path_parameters, dict) and "task_id" in path_parameters:
        return st.one_of(
            st.just({**path_parameters, "task_id": KNOWN_TASK}),
            st.just(path_parameters),
        )
    if not isinstance(path_parameters, dict) or "username" not in path_parameters:
        return st.just(path_parameters)
    return st.one_of(
        st.sampled_from(KNOWN).map(lambda name: {**path_parameters, "username": name}),
        st.just(path_parameters),
    )


def _bodies(body: Any) -> st.SearchStrategy[Any]:
    """A body filled in by a known user, or with values that pass the domain's
    rules, or as generated (the first is the one Hypothesis tries first)."""
    if not isinstance(body, dict):
        return st.just(body)
    fields = {name: _VALID_VALUES[name] for name in body if name in _VALID_VALUES}
    if not fields:
        return st.just(body)
    valid = st.fixed_dictionaries(fields).map(lambda values: {**body, **values})
    return st.one_of(
        st.tuples(st.sampled_from(KNOWN), valid).map(
            lambda known: {**known[1], **_known_credentials(body, known[0])}
        ),
        valid,
        st.just(body),
    )


def _with(case: schemathesis.Case, path_parameters: Any, body: Any) -> Any:
    # Assigning (not mutating) lets Schemathesis re-check whether the case is
    # still negative, so `negative_data_rejection` judges what is really sent.
    if path_parameters is not case.path_parameters:
        case.path_parameters = path_parameters
    if body is not case.body:
        case.body = body
    return case


def aim_at_known_users(
    context: schemathesis.HookContext, case: schemathesis.Case
) -> st.SearchStrategy[Any]:
    """A ``flatmap_case`` hook: keep the generated case, or point it at a known
    user (the logged-in super admin included) and at values that pass the
    domain's rules. The document's plain ``string`` fields almost never produce
    those by chance: without this, sign-up, user creation, log-in and the admin
    routes would be fuzzed only up to their first check."""
    return st.tuples(_paths(case.path_parameters), _bodies(case.body)).map(
        lambda chosen: _with(case, *chosen)
    )


@dataclass
class SuperAdmin:
    """A logged-in super admin whose cookie is valid for every case it is given to.

    The fuzzer may log it out, change its password or end its sessions; before
    each case the session is checked and, if it no longer works, opened again. If
    the password no longer works either, a new super admin takes over.
    """

    container: Any
    username: str = ROOT
    token: str = ""
    made: int = 1
    statuses: Counter[int] = field(default_factory=Counter)

    def cookies(self) -> dict[str, str]:
        if not self._session_works():
            self._log_in()
        return {COOKIE_NAME: self.token}

    def answered(self, status: int) -> None:
        self.statuses[status] += 1

    def reached_route_code(self) -> bool:
        """Whether any answer came from past authentication, the guard and input
        validation: from the route's interactor, not only from what precedes it."""
        return any(status not in (405, 413, 415, 422) for status in self.statuses)

    def _session_works(self) -> bool:
        if not self.token:
            return False
        try:
            self.container.authenticate().execute(self.token, renew=False)
        except NotAuthenticated:
            return False
        return True

    def _log_in(self) -> None:
        try:
            logged_in = self.container.log_in().execute(self.username, PASSWORD, None)
        except (InvalidCredentials, AccountInactive, TooManyAttempts):
            self.made += 1
            self.username = f"root{self.made:04d}"
            self.container.create_super_admin().execute(
                self.username, f"{self.username}@example.com", PASSWORD
            )
            logged_in = self.container.log_in().execute(self.username, PASSWORD, None)
        self.token = logged_in.token
