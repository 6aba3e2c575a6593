"""Fixtures for the local stack's in-process tests."""

from __future__ import annotations

import pytest

from local.harness import free_port


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (free when chosen)."""
    return free_port()
