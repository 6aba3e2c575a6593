"""``strata dev``'s console: the ``strata`` logs as one readable line each."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core.adapters.email.message import RenderedEmail
from core.adapters.email.outbox import Outbox
from local.console import ConsoleFormatter


def _line(message: str, **extra: Any) -> str:
    record = logging.LogRecord(
        "strata.x", logging.INFO, __file__, 1, message, None, None
    )
    record.__dict__.update(extra)
    return ConsoleFormatter().format(record).split(" ", 1)[1]


def test_a_task_run_reads_as_its_job_id_outcome_and_duration() -> None:
    line = _line(
        "task attempt ended",
        task="send_email",
        task_id="tsk_1",
        status="succeeded",
        duration_ms=42,
        message_id="m1",
        receive_count=1,
    )

    assert line == "task     send_email tsk_1: succeeded in 42 ms"


def test_a_task_run_names_the_family_worker_that_ran_it() -> None:
    line = _line(
        "task attempt ended",
        task="purge_unverified",
        task_id="tsk_2",
        family="users",
        status="succeeded",
        duration_ms=7,
    )

    assert line == (
        "task     purge_unverified tsk_2 on the users worker: succeeded in 7 ms"
    )


def test_a_refused_task_names_the_worker_that_refused_it_and_the_jobs_family() -> None:
    line = _line(
        "task refused: its job belongs to another worker",
        task="purge_unverified",
        task_id="tsk_3",
        family="email",
        job_family="users",
    )

    assert line == (
        "task     purge_unverified tsk_3: refused by the email worker, a users job "
        "(to the dead letter queue)"
    )


def test_an_email_reads_as_its_recipient_subject_outbox_file_and_link(
    tmp_path: Path,
) -> None:
    link = "http://127.0.0.1:8000/verify-email?token=t"
    email = RenderedEmail("Verify your email", f"<a href='{link}'>", f"Open {link}")
    eml = Outbox(tmp_path).write("a@strata.local", "jane@example.com", "x", email)

    line = _line(
        "email written to the outbox",
        to="jane@example.com",
        subject="Verify your email",
        file=str(eml),
    )

    assert line == (
        f"email    to jane@example.com: 'Verify your email' -> {eml}\n"
        f"         link: {link}"
    )


def test_a_webhook_reads_as_its_type_event_and_outcome() -> None:
    line = _line(
        "stripe webhook handled",
        event="evt_1",
        type="invoice.paid",
        outcome="applied",
    )

    assert line == "webhook  invoice.paid evt_1: applied"


def test_a_scheduled_job_reads_as_its_job_and_task() -> None:
    line = _line("scheduled job submitted", job="purge_exports", task_id="tsk_2")

    assert line == "schedule purge_exports: submitted as task tsk_2"


def test_any_other_record_reads_as_level_logger_message_and_its_fields() -> None:
    line = _line("stripe retried", attempt=2)

    assert line == "INFO strata.x: stripe retried attempt=2"
