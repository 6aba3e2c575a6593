"""``python -m tools.email_latency``: the waiting and the report (the run itself
starts a stack; the e2e tests cover the same path)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tools.email_latency import LatencyError, main, report, wait_for_email


def test_wait_for_email_sees_the_file_as_it_lands(tmp_path: Path) -> None:
    def deliver() -> None:
        time.sleep(0.1)
        (tmp_path / "20260101T000000Z-a@example.com-welcome.eml").write_text("x")

    started = time.monotonic()
    threading.Thread(target=deliver).start()

    seen = wait_for_email(tmp_path, "a@example.com", timeout=5)

    assert 0.1 <= seen - started < 2


def test_wait_for_email_gives_up_after_its_timeout(tmp_path: Path) -> None:
    (tmp_path / "20260101T000000Z-b@example.com-welcome.eml").write_text("x")

    with pytest.raises(LatencyError, match=r"no email to a@example.com within 0s"):
        wait_for_email(tmp_path, "a@example.com", timeout=0.05)


def test_the_report_sets_the_first_sign_up_apart() -> None:
    text = report([(250.0, 1000.0), (60.0, 80.0), (70.0, 120.0), (65.0, 100.0)])

    lines = text.splitlines()
    assert len(lines) == 6
    assert "first" in lines[1]
    assert lines[-1] == (
        "sign-up to email in the outbox, after the first: median 100 ms, "
        "min 80 ms, max 120 ms (n=3)"
    )


def test_a_single_sign_up_is_its_own_summary() -> None:
    assert report([(250.0, 1000.0)]).endswith(
        "median 1000 ms, min 1000 ms, max 1000 ms (n=1)"
    )


def test_zero_sign_ups_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--signups", "0"])

    assert exited.value.code == 2
    assert "--signups must be at least 1" in capsys.readouterr().err
