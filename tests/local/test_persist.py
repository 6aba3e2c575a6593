"""``strata dev --persist``: the emulator's account and the tables' items, saved on
stop and loaded into a fresh stack on start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local import persist
from local.resources import client
from stripe_emulator import Emulator, start

KEY = "sk_test_persist"
PRICES = [
    {
        "id": "price_pro_month",
        "interval": "month",
        "currency": "usd",
        "unit_amount": 1500,
    }
]


@pytest.fixture
def emulators() -> Iterator[list[Emulator]]:
    """Start emulators on any free port; all are stopped at teardown."""
    started: list[Emulator] = []
    yield started
    for emulator in started:
        emulator.stop()


def _emulator(started: list[Emulator], offset_file: Path) -> Emulator:
    emulator = start(0, None, prices=PRICES, clock_offset_file=str(offset_file))
    started.append(emulator)
    return emulator


def test_a_fresh_emulator_loads_the_customers_and_clock_of_the_saved_one(
    tmp_path: Path, emulators: list[Emulator]
) -> None:
    before = _emulator(emulators, tmp_path / "clock.json")
    auth = {"Authorization": f"Bearer {KEY}"}
    created = httpx.post(
        f"{before.url}/v1/customers", data={"email": "a@example.com"}, headers=auth
    ).json()
    before.clock.advance(86_400)
    persist.save_stripe(before, tmp_path / "state")

    after = _emulator(emulators, tmp_path / "clock.json")
    restored = persist.restore_stripe(after, tmp_path / "state")

    assert restored == 1
    found = httpx.get(f"{after.url}/v1/customers/{created['id']}", headers=auth)
    assert found.json()["email"] == "a@example.com"
    assert after.clock.offset == 86_400
    assert (tmp_path / "clock.json").read_text(encoding="utf-8").strip() == "86400"


def test_a_fresh_emulator_starts_empty_when_nothing_was_saved(
    tmp_path: Path, emulators: list[Emulator]
) -> None:
    emulator = _emulator(emulators, tmp_path / "clock.json")

    assert persist.restore_stripe(emulator, tmp_path / "state") is None


@pytest.mark.moto
def test_the_saved_items_are_written_back_into_emptied_tables(
    tmp_path: Path, tables: None
) -> None:
    from functions.runtime.settings import get_settings

    settings = get_settings()
    dynamodb: Any = client("dynamodb", settings.region)
    table = settings.users_table
    item = {"pk": {"S": "USER#1"}, "n": {"N": "7"}}
    dynamodb.put_item(TableName=table, Item=item)
    persist.save_tables(dynamodb, [table], tmp_path)
    dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})

    restored = persist.restore_tables(dynamodb, tmp_path)

    assert restored == 1
    found = dynamodb.get_item(TableName=table, Key={"pk": item["pk"]})
    assert found["Item"] == item
