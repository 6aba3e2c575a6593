"""The scripted Stripe of the Stripe adapter's tests, as fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.adapters.stripe_stub import Sleeps, Stub


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
