from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.session import Session

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TTL = timedelta(hours=10)
THRESHOLD = 0.5  # renew when less than 5 hours are left


def session(epoch: int = 0) -> Session:
    return Session(id="s", user_id="u", created_at=T0, expires_at=T0 + TTL, epoch=epoch)


@pytest.mark.parametrize(
    ("elapsed", "expired"),
    [
        (timedelta(0), False),
        (TTL - timedelta(microseconds=1), False),
        (TTL, True),
        (TTL + timedelta(seconds=1), True),
    ],
)
def test_a_session_is_expired_from_its_expiry_instant_on(
    elapsed: timedelta, expired: bool
) -> None:
    assert session().is_expired(T0 + elapsed) is expired


@pytest.mark.parametrize(
    ("elapsed", "needs_renewal"),
    [
        (timedelta(0), False),
        (timedelta(hours=5) - timedelta(microseconds=1), False),
        (timedelta(hours=5), False),  # exactly the threshold left: not less than it
        (timedelta(hours=5) + timedelta(microseconds=1), True),
        (timedelta(hours=9), True),
    ],
)
def test_a_session_needs_renewal_when_less_than_the_threshold_is_left(
    elapsed: timedelta, needs_renewal: bool
) -> None:
    assert session().needs_renewal(T0 + elapsed, TTL, THRESHOLD) is needs_renewal


def test_renewal_moves_only_the_expiry_to_a_full_lifetime_from_now() -> None:
    now = T0 + timedelta(hours=7)
    renewed = session(epoch=3).renewed(now, TTL)
    assert renewed.expires_at == now + TTL
    assert (renewed.id, renewed.user_id, renewed.created_at, renewed.epoch) == (
        "s",
        "u",
        T0,
        3,
    )


def test_moving_a_session_to_another_epoch_keeps_everything_else() -> None:
    moved = session(epoch=1).in_epoch(2)
    assert moved.epoch == 2
    assert moved.expires_at == T0 + TTL
    assert moved.id == "s"
