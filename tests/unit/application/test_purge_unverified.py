from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.application.errors import ConcurrentUpdate
from core.application.jobs.purge_unverified import PurgeUnverifiedJob
from core.domain.user import Role, User
from tests.fakes import (
    FakeClock,
    InMemoryBillingStore,
    InMemorySessionStore,
    InMemoryUserRepository,
)
from tests.unit.application.conftest import OpenSession, Seed, Subscribe

DAYS = timedelta(days=7)


@pytest.fixture
def purge(
    users: InMemoryUserRepository, sessions: InMemorySessionStore, clock: FakeClock
) -> PurgeUnverifiedJob:
    return PurgeUnverifiedJob(users, sessions, clock, DAYS, page_size=2)


def test_plain_users_unverified_past_the_deadline_are_removed_with_their_sessions(
    purge: PurgeUnverifiedJob,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    clock: FakeClock,
) -> None:
    old = [seed(f"olduser{n}") for n in range(5)]
    open_session(old[0])
    clock.advance(DAYS + timedelta(seconds=1))

    result = purge.run({})

    assert result == {"purged": 5}
    assert all(users.stored(u.id) is None for u in old)
    assert sessions.of_user(old[0].id) == []
    # Their usernames and emails are free again.
    assert users.get_by_username("olduser0") is None
    assert users.get_by_email("olduser0@example.com") is None


def test_verified_recent_and_admin_accounts_are_kept(
    purge: PurgeUnverifiedJob,
    seed: Seed,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    verified = users.save(replace(seed("verified"), email_verified=True))
    admin = seed("admin01", Role.ADMIN)
    root = seed("root01", Role.SUPER_ADMIN)
    doomed = seed("doomed")
    clock.advance(DAYS + timedelta(seconds=1))
    recent = seed("recent")

    result = purge.run({})

    assert result == {"purged": 1}
    assert users.stored(doomed.id) is None
    kept: list[User] = [verified, admin, root, recent]
    assert all(users.stored(u.id) is not None for u in kept)


def test_an_account_exactly_at_the_deadline_is_kept(
    purge: PurgeUnverifiedJob,
    seed: Seed,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    clock.advance(DAYS)

    assert purge.run({}) == {"purged": 0}
    assert users.stored(alice.id) is not None


def test_a_user_who_changed_since_the_page_was_read_is_left_alone(
    seed: Seed,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    clock.advance(DAYS + timedelta(seconds=1))

    real_remove = users.remove

    def verify_then_remove(user: User) -> None:
        stored = users.stored(user.id)
        assert stored is not None
        users.save(replace(stored, email_verified=True))
        real_remove(user)

    users.remove = verify_then_remove  # type: ignore[method-assign]

    result = PurgeUnverifiedJob(users, sessions, clock, DAYS).run({})

    assert result == {"purged": 0}
    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.email_verified


def test_a_second_run_finds_nothing_more_to_purge(
    purge: PurgeUnverifiedJob, seed: Seed, clock: FakeClock
) -> None:
    seed("alice")
    clock.advance(DAYS + timedelta(seconds=1))

    assert purge.run({}) == {"purged": 1}
    assert purge.run({}) == {"purged": 0}


def test_an_unverified_user_who_pays_or_has_a_customer_is_never_purged(
    purge: PurgeUnverifiedJob,
    seed: Seed,
    subscribe: Subscribe,
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    payer, _ = subscribe(seed("payer01"))
    shopper = billing_store.attach_customer(seed("shopper"), "cus_shopper")
    doomed = seed("doomed")
    clock.advance(DAYS + timedelta(seconds=1))

    assert purge.run({}) == {"purged": 1}

    assert users.stored(payer.id) is not None
    assert users.stored(shopper.id) is not None
    assert users.stored(doomed.id) is None


def test_a_customer_attached_after_the_page_was_read_stops_the_removal(
    seed: Seed, billing_store: InMemoryBillingStore, users: InMemoryUserRepository
) -> None:
    read = seed("racer01")
    # Checkout attached a customer meanwhile; the purge still holds ``read``.
    attached = billing_store.attach_customer(read, "cus_racer")

    with pytest.raises(ConcurrentUpdate):
        users.remove(replace(read, version=attached.version))
    assert users.stored(read.id) is not None
