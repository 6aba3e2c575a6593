"""The CSV export of the users at scale, through the task worker, measured.

``python -m tools.export_run --users 5000`` starts its own moto server on a free
loopback port (in a child process, so that its memory is not counted as the
worker's), creates the tables, the task queue and the export bucket, writes N users
straight to the users table (as a bulk import would: no bcrypt, no uniqueness
markers; the export reads only the listing index), asks for an export as a super
admin, and hands the queued message to the worker handler as Lambda would. Then it
downloads the file through the task's presigned link and checks that every user is
in it exactly once.

It prints the rows, the file's size and parts, the time the worker took, and the
peak Python memory (tracemalloc) during a second, traced run: the first run's time
is untraced, since tracing slows every allocation down.

``--synthetic-users`` is for sizes moto cannot list in reasonable time (its Query
reads the whole table for every page, so a long listing is quadratic): the export
job then reads users made up page by page instead of the users table, while the
rest (worker handler, task record, multipart upload to S3, presigned link) stays
real. It shows what the job and the upload hold in memory as the file grows past
S3's 5 MiB part size.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import multiprocessing
import os
import sys
import time
import tracemalloc
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from typing import Any

from local.harness import FakeLambdaContext, free_port
from local.stack import create_tables

LOOPBACK = "127.0.0.1"
SEED_START = datetime(2024, 1, 1, tzinfo=UTC)
# A throwaway account in a throwaway moto server.
PASSWORD = "export run password"  # noqa: S105
# Seeded users never log in: their hash only has to look like one.
NO_PASSWORD_HASH = "$2b$04$not-a-real-hash-only-for-the-export-run"  # noqa: S105


def seed_users(count: int, start: datetime = SEED_START) -> list[str]:
    """Write ``count`` plain users straight to the users table, a millisecond apart
    from ``start``, with one BatchWriteItem per 25; returns their ids in order."""
    from core.adapters.dynamodb.models import UserItem
    from core.adapters.dynamodb.users import to_item
    from core.domain.user import Email, Role, User, Username

    ids = []
    with UserItem.batch_write() as batch:
        for n in range(count):
            user = User(
                id=f"seed{n:08d}",
                username=Username(f"seed{n:08d}"),
                email=Email(f"seed{n:08d}@example.com"),
                password_hash=NO_PASSWORD_HASH,
                role=Role.USER,
                is_active=n % 7 != 0,
                created_at=start + timedelta(milliseconds=n),
                version=1,
                email_verified=n % 2 == 0,
            )
            batch.save(to_item(user))
            ids.append(user.id)
    return ids


def synthetic_user(n: int) -> Any:
    from core.domain.user import Email, Role, User, Username

    return User(
        id=f"synth{n:09d}",
        username=Username(f"synth{n:09d}"),
        email=Email(f"synth{n:09d}@example.com"),
        password_hash=NO_PASSWORD_HASH,
        role=Role.USER,
        is_active=True,
        created_at=SEED_START + timedelta(milliseconds=n),
    )


class SyntheticUsers:
    """The listing half of ``UserRepository``, over ``count`` users made up page by
    page (nothing is stored): what the export job reads in ``--synthetic-users``."""

    def __init__(self, count: int) -> None:
        self.count = count

    def list_page(self, sort: Any, order: Any, limit: int, start: Any | None) -> Any:
        from core.application.ports import UserSummary, UserSummaryPage

        first = int(start["n"]) if start is not None else 0
        last = min(first + limit, self.count)
        items = [UserSummary.of(synthetic_user(n)) for n in range(first, last)]
        more = {"n": str(last)} if last < self.count else None
        return UserSummaryPage(items=items, next_position=more)


def csv_ids(url: str) -> list[str]:
    """The ``id`` column of the CSV file at ``url``."""
    # Loopback moto only: the link points at this run's own server.
    with urllib.request.urlopen(url) as response:  # noqa: S310
        text = response.read().decode("utf-8")
    return [row["id"] for row in csv.DictReader(io.StringIO(text))]


@dataclass(frozen=True, slots=True)
class Figures:
    users: int
    rows: int
    unique_rows: int
    missing: int
    file_bytes: int
    parts: int
    seconds: float
    peak_bytes: int
    traced_seconds: float


def _export_once(container: Any, actor: Any, poller: Any) -> tuple[Any, float]:
    """Queue an export and let the worker handler run it; the finished task and
    the seconds from the first poll to its end."""
    task = container.request_export().execute(actor)
    started = time.perf_counter()
    while True:
        poller.poll_once()
        done = container.tasks.get(task.id)
        if done is not None and done.is_finished:
            return done, time.perf_counter() - started
        if time.perf_counter() - started > 900:
            raise RuntimeError("the export did not finish within 15 minutes")


def _read_synthetic_users(container: Any, count: int) -> None:
    """Make the container's export job read ``SyntheticUsers``."""
    from core.application.jobs.export_users import ExportUsersJob
    from core.application.tasks import EXPORT_USERS, JobRegistry

    job = ExportUsersJob(
        SyntheticUsers(count),  # type: ignore[arg-type]
        container.exports,
        timedelta(seconds=container.settings.export_link_seconds),
        container.clock,
    )
    container.registry = lambda: JobRegistry({EXPORT_USERS: job})


@contextmanager
def _counting_parts(container: Any) -> Iterator[Counter[str]]:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    s3 = container.exports._client.get()
    s3.meta.events.register("before-call.s3", count)
    try:
        yield calls
    finally:
        s3.meta.events.unregister("before-call.s3", count)


def measure(users: int, synthetic: bool = False) -> Figures:
    """Seed, export twice (timed, then traced), download and check. Needs a moto
    server in ``AWS_ENDPOINT_URL``."""
    from core.domain.task import TaskStatus
    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings
    from functions.workers import tasks as worker
    from local.poller import QueuePoller
    from local.resources import client, create_bucket, create_queues

    get_settings.cache_clear()
    settings = get_settings()
    create_tables(settings)
    queue_url, queue_arn, _ = create_queues(settings.region)
    bucket = create_bucket(settings.region)
    settings = settings.model_copy(
        update={"task_queue_url": queue_url, "exports_bucket": bucket}
    )
    container = build_container(settings)
    use_container(container)
    # The Lambda event source's part, made before anything is measured.
    poller = QueuePoller(
        client("sqs", settings.region),
        queue_url,
        queue_arn,
        settings.region,
        load_handler=lambda: worker.handler,
        # What this tool always gave the worker: 15 minutes, Lambda's longest.
        make_context=lambda: FakeLambdaContext(
            "strata-export-run", memory_limit_in_mb=512, timeout_ms=900_000
        ),
        wait_seconds=1,
    )
    try:
        admin = container.create_super_admin().execute(
            "exportroot", "exportroot@example.com", PASSWORD
        )
        if synthetic:
            _read_synthetic_users(container, users)
            expected = {synthetic_user(n).id for n in range(users)}
        else:
            expected = {*seed_users(users), admin.id}
        with _counting_parts(container) as calls:
            task, seconds = _export_once(container, admin, poller)
        if task.status is not TaskStatus.SUCCEEDED:
            raise RuntimeError(f"the export failed: {task.error}")
        tracemalloc.start()
        try:
            traced, traced_seconds = _export_once(container, admin, poller)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        if traced.status is not TaskStatus.SUCCEEDED:
            raise RuntimeError(f"the traced export failed: {traced.error}")
        assert task.result is not None
        ids = csv_ids(str(task.result["url"]))
    finally:
        use_container(None)
    return Figures(
        users=len(expected),
        rows=len(ids),
        unique_rows=len(set(ids)),
        missing=len(expected - set(ids)),
        file_bytes=int(task.result["bytes"]),
        parts=calls["UploadPart"] or calls["PutObject"],
        seconds=seconds,
        peak_bytes=peak,
        traced_seconds=traced_seconds,
    )


def render(figures: Figures) -> str:
    mib = 1024 * 1024
    exactly_once = (
        figures.rows == figures.unique_rows == figures.users and figures.missing == 0
    )
    return "\n".join(
        [
            f"users to export           {figures.users}",
            f"rows in the CSV           {figures.rows} "
            f"(every user exactly once: {'yes' if exactly_once else 'NO'})",
            f"file size                 {figures.file_bytes} bytes "
            f"({figures.file_bytes / mib:.2f} MiB) in {figures.parts} part(s)",
            f"export time               {figures.seconds:.2f} s "
            "(worker handler, moto on loopback)",
            f"peak Python memory        {figures.peak_bytes / mib:.2f} MiB "
            f"(tracemalloc, second run, {figures.traced_seconds:.2f} s traced)",
        ]
    )


# -- the moto server, in a child process ------------------------------------------


def _serve(port: int, ready: Event, stop: Event) -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    ready.set()
    stop.wait()
    server.stop()


@contextmanager
def moto_server() -> Iterator[str]:
    """A ThreadedMotoServer on a free loopback port, in a child process; its URL."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    port = free_port(LOOPBACK)
    child = context.Process(target=_serve, args=(port, ready, stop), daemon=True)
    child.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(0.1):
            if not child.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the moto server did not start")
        yield f"http://{LOOPBACK}:{port}"
    finally:
        stop.set()
        child.join(10)
        if child.is_alive():
            child.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.export_run",
        description="Export N seeded users to CSV through the task worker, on a "
        "throwaway moto server; print rows, time and peak memory.",
    )
    parser.add_argument("--users", type=int, default=5000, help="default 5000")
    parser.add_argument(
        "--synthetic-users",
        action="store_true",
        help="export users made up page by page rather than read from the table "
        "(for sizes whose listing moto cannot serve in reasonable time)",
    )
    args = parser.parse_args(argv)
    if args.users < 0:
        parser.error("--users must be 0 or more")

    # Fake credentials and the local stage: this never talks to a real AWS account.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto takes any)
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_DEFAULT_REGION="us-east-1",
        STRATA_STAGE="local",
        STRATA_BCRYPT_ROUNDS="4",
    )
    for name in (
        "AWS_PROFILE",
        "STRATA_JWT_SECRET",
        "STRATA_PASSWORD_PEPPER",
        "STRATA_TASK_QUEUE_URL",
        "STRATA_EXPORTS_BUCKET",
    ):
        os.environ.pop(name, None)
    # The worker logs every attempt; the figures are what this command is for.
    logging.getLogger("strata").setLevel(logging.WARNING)
    with moto_server() as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        figures = measure(args.users, synthetic=args.synthetic_users)
    print(render(figures))
    return 0 if figures.rows == figures.unique_rows == figures.users else 1


if __name__ == "__main__":
    sys.exit(main())
