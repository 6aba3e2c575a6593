from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.errors import (
    InvalidCursor,
    InvalidPageRequest,
    PaymentProviderUnavailable,
)
from core.application.queries.list_invoices import ListInvoices
from core.domain.user import User
from tests.fakes import FakeClock, FakeCursorCodec
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import Seed, Subscribe


@pytest.fixture
def list_invoices(stripe: EmulatedStripe, cursors: FakeCursorCodec) -> ListInvoices:
    return ListInvoices(stripe.provider, cursors)


def with_invoices(
    user: User, stripe: EmulatedStripe, clock: FakeClock, count: int
) -> list[str]:
    """``count`` more invoices for the user's customer, a day apart; the ids of
    all its invoices (the first, from subscribing, too), newest first."""
    assert user.billing.customer_id is not None
    for n in range(count):
        clock.advance(timedelta(days=1))
        stripe.add_invoice(user.billing.customer_id, 1000 + n)
    stripe.reset_counts()
    return [i.id for i in stripe.invoices_of(user.billing.customer_id)][::-1]


@pytest.fixture
def alice(seed: Seed, subscribe: Subscribe) -> User:
    user, _ = subscribe(seed("alice"))
    return user


def test_invoices_come_newest_first_a_page_at_a_time(
    list_invoices: ListInvoices,
    stripe: EmulatedStripe,
    clock: FakeClock,
    alice: User,
) -> None:
    ids = with_invoices(alice, stripe, clock, 4)
    assert len(ids) == 5

    first = list_invoices.execute(alice, 2, None)
    second = list_invoices.execute(alice, 2, first.next_cursor)
    third = list_invoices.execute(alice, 2, second.next_cursor)

    assert [i.id for i in first.page.items] == ids[:2]
    assert [i.id for i in second.page.items] == ids[2:4]
    assert [i.id for i in third.page.items] == ids[4:]
    assert first.next_cursor is not None
    assert second.next_cursor is not None
    assert third.next_cursor is None


def test_a_user_sees_only_their_own_invoices(
    list_invoices: ListInvoices,
    stripe: EmulatedStripe,
    clock: FakeClock,
    seed: Seed,
    subscribe: Subscribe,
    alice: User,
) -> None:
    bobby, _ = subscribe(seed("bobby"))
    mine = with_invoices(alice, stripe, clock, 2)
    with_invoices(bobby, stripe, clock, 3)

    listing = list_invoices.execute(alice, 10, None)

    assert [i.id for i in listing.page.items] == mine
    assert {i.customer_id for i in listing.page.items} == {alice.billing.customer_id}


def test_a_cursor_is_bound_to_the_user_it_was_made_for(
    list_invoices: ListInvoices,
    stripe: EmulatedStripe,
    clock: FakeClock,
    seed: Seed,
    subscribe: Subscribe,
    alice: User,
) -> None:
    bobby, _ = subscribe(seed("bobby"))
    with_invoices(alice, stripe, clock, 3)
    alices_cursor = list_invoices.execute(alice, 1, None).next_cursor
    assert alices_cursor is not None
    stripe.reset_counts()

    with pytest.raises(InvalidCursor):
        list_invoices.execute(bobby, 1, alices_cursor)
    assert stripe.calls["list_invoices"] == 0


@pytest.mark.parametrize("cursor", ["cursor-99", "not a cursor", "cursor-1x"])
def test_a_cursor_we_did_not_make_is_refused(
    list_invoices: ListInvoices, alice: User, cursor: str
) -> None:
    with pytest.raises(InvalidCursor):
        list_invoices.execute(alice, 10, cursor)


@pytest.mark.parametrize("position", [{"pk": "USER#x"}, {"after": ""}])
def test_a_cursor_of_this_scope_without_an_invoice_to_start_after_is_refused(
    list_invoices: ListInvoices,
    cursors: FakeCursorCodec,
    alice: User,
    position: dict[str, str],
) -> None:
    cursor = cursors.encode(position, f"invoices:{alice.id}")
    with pytest.raises(InvalidCursor):
        list_invoices.execute(alice, 10, cursor)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_a_limit_outside_1_to_100_is_refused(
    list_invoices: ListInvoices,
    stripe: EmulatedStripe,
    alice: User,
    limit: int,
) -> None:
    with pytest.raises(InvalidPageRequest):
        list_invoices.execute(alice, limit, None)
    assert stripe.calls["list_invoices"] == 0


@pytest.mark.parametrize("limit", [1, 100])
def test_the_limits_at_the_bounds_are_taken(
    list_invoices: ListInvoices,
    stripe: EmulatedStripe,
    clock: FakeClock,
    alice: User,
    limit: int,
) -> None:
    ids = with_invoices(alice, stripe, clock, 2)
    listing = list_invoices.execute(alice, limit, None)
    assert [i.id for i in listing.page.items] == ids[:limit]


def test_a_user_who_never_checked_out_has_no_invoices_and_stripe_is_not_asked(
    list_invoices: ListInvoices, stripe: EmulatedStripe, seed: Seed
) -> None:
    listing = list_invoices.execute(seed("bobby"), 10, None)

    assert list(listing.page.items) == []
    assert listing.next_cursor is None
    assert sum(stripe.calls.values()) == 0


def test_stripe_down_fails_the_listing(
    list_invoices: ListInvoices, stripe: EmulatedStripe, alice: User
) -> None:
    stripe.fail()
    with pytest.raises(PaymentProviderUnavailable):
        list_invoices.execute(alice, 10, None)
