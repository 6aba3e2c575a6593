"""``strata seed`` against a running ``strata dev``: accounts that log in with their
roles, and a customer whose Pro subscription came through the Stripe emulator."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from local.seed import ACCOUNTS, PASSWORD
from tests.e2e.conftest import REPO, DevProcess, cli

pytestmark = pytest.mark.e2e


def _seed(stack: DevProcess) -> subprocess.CompletedProcess[str]:
    # As from another terminal: the stack is found through its stack file alone.
    env = {
        k: v
        for k, v in stack.env.items()
        if k not in ("AWS_ENDPOINT_PORT", "PORT", "STRATA_STRIPE_EMULATOR_URL")
    }
    return subprocess.run(
        cli("seed"),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_seeded_accounts_log_in_with_their_roles_and_one_pays_for_pro(
    stack: DevProcess,
) -> None:
    result = _seed(stack)

    assert result.returncode == 0, result.stderr + result.stdout
    for account in ACCOUNTS:
        with httpx.Client(base_url=stack.url, timeout=10.0, trust_env=False) as c:
            login = c.post(
                "/api/v1/account/login",
                json={"username": account.username, "password": PASSWORD},
            )
            assert login.status_code == 204, login.text
            assert c.get("/api/v1/account/me").json()["role"] == account.role.value
            plan = c.get("/api/v1/billing/subscription").json()["plan"]
            assert plan == ("pro" if account.pays else "free"), account


def test_seeding_again_creates_nothing_and_says_so(stack: DevProcess) -> None:
    _seed(stack)

    again = _seed(stack)

    assert again.returncode == 0, again.stderr
    assert "already seeded: nothing new" in again.stdout
    assert "created" not in again.stdout
