"""Fixtures of the fuzz suite: fresh tables with known users (the super admin a
paying one, where asked), and a logged-in super admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fuzz.harness import SuperAdmin, seed_subscription, seed_users


@pytest.fixture
def known_users(container: Any) -> Any:
    """The container, its tables holding the known users."""
    seed_users(container)
    return container


@pytest.fixture
def paying_super_admin(known_users: Any, stripe: Any) -> Any:
    """The known users, the super admin paying for Pro at the local Stripe
    emulator."""
    seed_subscription(known_users, stripe)
    return known_users


@pytest.fixture
def super_admin(known_users: Any) -> SuperAdmin:
    """The known super admin, logged in on first use."""
    return SuperAdmin(known_users)
