from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta

import pytest

from core.application.errors import DependencyUnavailable
from core.application.jobs import InvalidPayload
from core.application.jobs.export_users import COLUMNS, ExportUsersJob
from core.domain.user import Role, User
from tests.fakes import FakeClock, InMemoryExportStore, InMemoryUserRepository
from tests.unit.application.conftest import Seed

LINK_TTL = timedelta(hours=1)
KEY = "users/export-1.csv"


@pytest.fixture
def exports() -> InMemoryExportStore:
    return InMemoryExportStore()


@pytest.fixture
def job(
    users: InMemoryUserRepository, exports: InMemoryExportStore, clock: FakeClock
) -> ExportUsersJob:
    return ExportUsersJob(users, exports, LINK_TTL, clock)


def seed_many(seed: Seed, clock: FakeClock, count: int) -> list[User]:
    made = []
    for n in range(count):
        made.append(seed(f"user{n:05d}"))
        clock.advance(timedelta(seconds=1))
    return made


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_every_user_is_written_once_oldest_first_with_a_header_once(
    job: ExportUsersJob,
    exports: InMemoryExportStore,
    users: InMemoryUserRepository,
    seed: Seed,
    clock: FakeClock,
) -> None:
    made = seed_many(seed, clock, 250)

    result = job.run({"key": KEY})

    data = exports.files[KEY]
    assert data.splitlines()[0].decode() == ",".join(COLUMNS)
    assert data.count(b"id,username") == 1
    rows = parse(data)
    assert [r["id"] for r in rows] == [u.id for u in made]
    assert result["rows"] == 250
    assert result["bytes"] == len(data)
    assert exports.content_types[KEY].startswith("text/csv")
    # 250 users in pages of 100: three Queries, never a read of everyone at once.
    assert users.calls["list_page"] == 3


def test_a_row_holds_the_users_fields(
    job: ExportUsersJob, exports: InMemoryExportStore, seed: Seed
) -> None:
    admin = seed("Admin.One", Role.ADMIN, active=False, email="Admin@Example.com")

    job.run({"key": KEY})

    (row,) = parse(exports.files[KEY])
    assert row == {
        "id": admin.id,
        "username": "Admin.One",
        "email": "Admin@Example.com",
        "role": "admin",
        "is_active": "false",
        "email_verified": "false",
        "created_at": admin.created_at.isoformat(),
    }


class InterleavingCheck(InMemoryExportStore):
    """Notes, as each chunk arrives, how many pages had been read by then."""

    def __init__(self, users: InMemoryUserRepository) -> None:
        super().__init__()
        self.users = users
        self.pages_read_at_chunk: list[int] = []

    def write(self, key: str, chunks: Iterable[bytes], content_type: str) -> int:
        def watched() -> Iterable[bytes]:
            for chunk in chunks:
                self.pages_read_at_chunk.append(self.users.calls["list_page"])
                yield chunk

        return super().write(key, watched(), content_type)


def test_the_file_is_handed_over_a_page_at_a_time_as_the_pages_are_read(
    users: InMemoryUserRepository, seed: Seed, clock: FakeClock
) -> None:
    seed_many(seed, clock, 250)
    store = InterleavingCheck(users)

    ExportUsersJob(users, store, LINK_TTL, clock).run({"key": KEY})

    # The header before any read, then one chunk right after each page's read.
    assert store.pages_read_at_chunk == [0, 1, 2, 3]
    assert max(store.chunk_sizes[1:]) < 2 * min(store.chunk_sizes[1:3])


def test_the_result_links_to_the_file_for_the_set_time(
    job: ExportUsersJob, exports: InMemoryExportStore, seed: Seed, clock: FakeClock
) -> None:
    seed("alice01")

    result = job.run({"key": KEY})

    assert exports.links == [(KEY, LINK_TTL)]
    assert result["url"] == f"https://exports.example/{KEY}?expires_in=3600"
    assert result["expires_at"] == (clock.now() + LINK_TTL).isoformat()


def test_no_users_make_a_file_with_only_the_header(
    job: ExportUsersJob, exports: InMemoryExportStore
) -> None:
    result = job.run({"key": KEY})

    assert exports.files[KEY].decode() == ",".join(COLUMNS) + "\r\n"
    assert result["rows"] == 0


# Of the formula characters, only these can start a stored value (an email's).
@pytest.mark.parametrize("start", ["=", "+", "-"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_inert(
    job: ExportUsersJob, exports: InMemoryExportStore, seed: Seed, start: str
) -> None:
    # Parentheses are no part of an address's dot-atom: this is as close as one
    # gets to a formula.
    email = f"{start}cmd|'/c calc'!A0@example.com".replace(" ", "")
    seed("mallory1", email=email)

    job.run({"key": KEY})

    (row,) = parse(exports.files[KEY])
    assert row["email"] == "'" + email


@pytest.mark.parametrize(
    "payload",
    [{}, {"key": ""}, {"key": 7}, {"key": "other/x.csv"}, {"key": "users/../x"}],
)
def test_a_payload_without_a_key_under_users_is_refused(
    job: ExportUsersJob, exports: InMemoryExportStore, payload: dict[str, object]
) -> None:
    with pytest.raises(InvalidPayload):
        job.run(payload)

    assert exports.files == {}


def test_a_failure_while_writing_rises_and_links_nothing(
    job: ExportUsersJob, exports: InMemoryExportStore, seed: Seed, clock: FakeClock
) -> None:
    seed_many(seed, clock, 150)
    exports.fail_after = 2

    with pytest.raises(DependencyUnavailable):
        job.run({"key": KEY})

    assert exports.files == {}
    assert exports.links == []
