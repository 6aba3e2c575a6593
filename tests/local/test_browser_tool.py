"""tools.browser: the walkthrough's Chromium, installed in the background when
missing, and waited for by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import browser


@pytest.fixture
def missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Chromium on the PATH, and the install's files in ``tmp_path``."""
    monkeypatch.setattr("tools.browser.shutil.which", lambda name: None)
    monkeypatch.setattr(browser, "LOG", tmp_path / "install.log")
    monkeypatch.setattr(browser, "PID", tmp_path / "install.pid")
    monkeypatch.setattr(browser, "ROOT", tmp_path)
    return tmp_path


def test_an_installed_browser_is_found_and_nothing_is_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tools.browser.shutil.which", lambda name: f"/usr/bin/{name}")

    assert browser.start() == "chromium: installed"
    assert browser.ready(timeout=0) == browser.Browser(
        "/usr/bin/chromium", "/usr/bin/chromedriver"
    )


def test_without_apt_get_nothing_starts_and_the_test_learns_why(missing: Path) -> None:
    assert "no apt-get" in browser.start()
    assert not browser.PID.exists()

    reason = browser.ready(timeout=0)

    assert isinstance(reason, str)
    assert "no apt-get" in reason


def test_an_install_runs_in_the_background_and_ready_waits_for_its_end(
    missing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "why_not_installable", lambda: None)
    monkeypatch.setattr(browser, "INSTALL", "sleep 0.5; echo installed")

    assert "installing in the background" in browser.start()
    assert "being installed" in browser.start()  # a second start waits its turn

    reason = browser.ready(timeout=30)

    # Ended (the stand-in installs nothing), so the test hears why there is none.
    assert isinstance(reason, str)
    assert "not installed" in reason
    assert (missing / "install.log").read_text().strip() == "installed"
