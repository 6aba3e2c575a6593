"""``strata seed``: a working set of accounts on the running local stack.

A super admin, an admin, two users and a paying customer, all with verified
emails and one password. The accounts are written through the application's own
registrar (as ``strata create-superadmin`` does); the customer buys Pro as a person
would: log in over the API, check out, open the emulator's Checkout page (which
pays), and the emulator's webhooks reach the API, so the subscription is real state.

Seeding again creates only what is missing, and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.domain.user import Role, Username
from stripe_emulator import cli as stripe_cli

if TYPE_CHECKING:
    from functions.runtime.container import Container

PASSWORD = "local-password-1"  # noqa: S105 (the seed's, printed for a developer)
PAID_PLAN = "pro"
_WEBHOOK_WAIT = 30.0


class SeedError(Exception):
    """Seeding stopped; the message is for a human."""


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: Role
    pays: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"

    @property
    def label(self) -> str:
        role = self.role.value.replace("_", " ")
        return f"{role}, {PAID_PLAN.capitalize()}" if self.pays else role


ACCOUNTS = (
    Account("super.admin", Role.SUPER_ADMIN),
    Account("admin", Role.ADMIN),
    Account("alice", Role.USER),
    Account("brian", Role.USER),
    Account("carol", Role.USER, pays=True),
)


def create_accounts(container: Container) -> list[tuple[Account, bool]]:
    """Each account and whether this call created it (False: it was there)."""
    done = []
    for account in ACCOUNTS:
        if container.users.get_by_username(Username(account.username).key) is not None:
            done.append((account, False))
            continue
        # Verified at once: the seed stands for people who followed their link.
        user = (
            container.registrar()
            .prepare(account.username, account.email, PASSWORD, account.role)
            .with_email_verified()
        )
        container.users.add(user)
        done.append((account, True))
    return done


def buy(api_url: str, account: Account) -> bool:
    """``account`` buys the paid plan through the stack's API and its Stripe
    emulator, unless it has it; True when it bought it now."""
    import httpx

    with httpx.Client(base_url=api_url, timeout=30.0, trust_env=False) as client:
        response = client.post(
            "/api/v1/account/login",
            json={"username": account.username, "password": PASSWORD},
        )
        _expect(response, 204, "log in as " + account.username)
        if _plan(client) == PAID_PLAN:
            return False
        response = client.post(
            "/api/v1/billing/checkout",
            json={"plan": PAID_PLAN, "interval": "month", "currency": "usd"},
        )
        _expect(response, 200, "start the checkout")
        # Opening the emulator's Checkout page is the customer's click on "Pay".
        paid = client.get(response.json()["url"], follow_redirects=False)
        _expect(paid, 303, "pay on the emulator's Checkout page")
        stripe_cli.call("POST", "flush", {"timeout": _WEBHOOK_WAIT})
        _wait(lambda: _plan(client) == PAID_PLAN, "the subscription's webhooks")
    return True


def _plan(client: Any) -> str:
    response = client.get("/api/v1/billing/subscription")
    _expect(response, 200, "read the subscription")
    return str(response.json()["plan"])


def _expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise SeedError(
            f"could not {what}: HTTP {response.status_code} {response.text[:200]}"
        )


def _wait(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _WEBHOOK_WAIT
    while not done():
        if time.monotonic() > deadline:
            raise SeedError(f"{what} were not applied within {_WEBHOOK_WAIT:g} s")
        time.sleep(0.2)
