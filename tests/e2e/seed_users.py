"""Write users straight into a running local stack's users table, fast.

    python -m tests.e2e.seed_users COUNT

with ``AWS_ENDPOINT_URL`` (and the other ``AWS_*``/``STRATA_*`` variables of the
stack) in the environment. Users are written as the repository stores them (the
adapter's ``to_item``), 25 to a BatchWriteItem, with no bcrypt and no uniqueness
markers: nothing here signs in as them, and the export reads the listing index.
Prints one id per line.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta


def seed(count: int) -> list[str]:
    from core.adapters.dynamodb.models import UserItem, bind_tables
    from core.adapters.dynamodb.users import to_item
    from core.domain.user import Email, Role, User, Username
    from functions.runtime.settings import get_settings

    settings = get_settings()
    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = []
    with UserItem.batch_write() as batch:
        for n in range(count):
            user = User(
                id=f"seeded{n:06d}",
                username=Username(f"seeded{n:06d}"),
                email=Email(f"seeded{n:06d}@example.com"),
                password_hash="$2b$04$seeded-users-never-log-in",
                role=Role.USER,
                is_active=True,
                created_at=start + timedelta(seconds=n),
                version=1,
                email_verified=True,
            )
            batch.save(to_item(user))
            ids.append(user.id)
    return ids


def main(argv: list[str]) -> int:
    (count,) = argv
    print("\n".join(seed(int(count))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
