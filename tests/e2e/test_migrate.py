"""``strata migrate`` against the running local stack, as a developer runs it."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import REPO, DevProcess, cli

pytestmark = pytest.mark.e2e


def migrate(stack: DevProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli("migrate", *args),
        cwd=REPO,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_applies_the_pending_migrations_and_a_second_run_changes_nothing(
    stack: DevProcess,
) -> None:
    before = migrate(stack, "--status")
    assert before.returncode == 0, before.stderr
    assert "0001_backfill_email_verified  pending" in before.stdout

    first = migrate(stack)
    assert first.returncode == 0, first.stderr
    assert "0001_backfill_email_verified: done" in first.stdout

    second = migrate(stack)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "nothing to migrate: every migration is applied"

    after = migrate(stack, "--status")
    assert "0001_backfill_email_verified  applied" in after.stdout
