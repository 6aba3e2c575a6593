"""A newcomer's first hour, clicked through in a real browser (headless Chromium)
against a running ``strata dev``, with no internet: sign up, follow the emailed
verification link, log in, call ``me`` from Swagger UI, buy Pro through the Stripe
emulator's checkout and land on the success page, reset the password through the
emailed link. Each page's screenshot goes to ``build/walkthrough/``.

Chromium and ChromeDriver are Debian's (``chromium``, ``chromium-driver``); ``make
test`` installs them when missing (``tools/browser.py``). Where they cannot be
installed the test is skipped, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import REPO, DevProcess, settle
from tests.e2e.test_jobs_and_email import (
    link_url,
    outbox_files,
    read_email,
    wait_for_email,
)
from tools.browser import ready

SHOTS = REPO / "build" / "walkthrough"
WAIT = 30

USERNAME = "first.hour"
EMAIL = "first.hour@example.com"
PASSWORD = "a-long-first-password"
NEW_PASSWORD = "a-longer-second-password"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    installed = ready()
    if isinstance(installed, str):
        pytest.skip(installed)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = installed.chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1400",
        # Nothing may come from the internet: every asset is the stack's own.
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1;localhost",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(installed.chromedriver), options=options)
    driver.set_page_load_timeout(WAIT)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


def wait_for_text(browser: Any, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, element_id), text),
        f"#{element_id} never said {text!r}",
    )


def fill(browser: Any, values: dict[str, str], submit: str) -> None:
    from selenium.webdriver.common.by import By

    for element_id, value in values.items():
        field = browser.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, f"#{submit} button[type=submit]").click()


def account_page(browser: Any, stack: DevProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{stack.url}/account")
    WebDriverWait(browser, WAIT).until(
        lambda driver: any(
            section.is_displayed()
            for section in driver.find_elements(By.CSS_SELECTOR, "#anonymous, #known")
        )
    )
    WebDriverWait(browser, WAIT).until(
        expected_conditions.presence_of_element_located((By.ID, "result"))
    )


def test_a_newcomer_clicks_through_the_whole_story_in_a_browser(
    browser: Any, stack: DevProcess
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    # Sign up on the account page.
    seen = outbox_files(stack)
    account_page(browser, stack)
    fill(
        browser,
        {"new-username": USERNAME, "new-email": EMAIL, "new-password": PASSWORD},
        "signup",
    )
    wait_for_text(browser, "result", "Account created")
    shot(browser, "01-signed-up")

    # The welcome email's link opens the stack's own verification page.
    welcome, _ = wait_for_email(stack.outbox, EMAIL, seen)
    link = link_url(read_email(welcome))
    assert link.startswith(f"{stack.url}/verify-email?token="), link
    browser.get(link)
    browser.find_element(By.ID, "verify").click()
    wait_for_text(browser, "result", "verified")
    shot(browser, "02-email-verified")

    # Log in: the account page shows who we are, on Free.
    account_page(browser, stack)
    fill(browser, {"username": USERNAME, "password": PASSWORD}, "login")
    wait_for_text(browser, "who", USERNAME)
    wait_for_text(browser, "plan", "free")
    shot(browser, "03-logged-in")

    # Swagger UI renders with no internet and calls `me` with the session cookie.
    browser.get(f"{stack.url}/docs")
    me = WebDriverWait(browser, WAIT).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "[id^='operations-'][id$='-me']")
        )
    )
    shot(browser, "04-swagger-ui")
    me.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    WebDriverWait(me, WAIT).until(
        lambda block: block.find_elements(By.CSS_SELECTOR, ".try-out__btn")
    )[0].click()
    me.find_element(By.CSS_SELECTOR, ".execute").click()
    WebDriverWait(browser, WAIT).until(
        lambda driver: (
            USERNAME
            in " ".join(
                element.text
                for element in me.find_elements(
                    By.CSS_SELECTOR, ".live-responses-table"
                )
            )
        )
    )
    shot(browser, "05-swagger-ui-me")

    # Buy Pro: the emulator's checkout takes the payment and sends the browser back
    # to the stack's success page, which shows Pro once the webhooks are applied.
    account_page(browser, stack)
    wait_for_text(browser, "who", USERNAME)
    browser.find_element(By.ID, "buy-pro").click()
    WebDriverWait(browser, WAIT).until(
        lambda driver: driver.current_url.startswith(f"{stack.url}/billing/success")
    )
    settle(stack)
    wait_for_text(browser, "plan", "Pro")
    shot(browser, "06-checkout-success")

    # Log out, ask for a reset link, set a new password through it, log in with it.
    account_page(browser, stack)
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, WAIT).until(
        lambda driver: driver.find_element(By.ID, "anonymous").is_displayed()
    )
    seen = outbox_files(stack)
    fill(browser, {"forgot-email": EMAIL}, "forgot")
    wait_for_text(browser, "result", "reset its password")
    reset, _ = wait_for_email(stack.outbox, EMAIL, seen)
    link = link_url(read_email(reset))
    assert link.startswith(f"{stack.url}/reset-password?token="), link
    browser.get(link)
    fill(browser, {"password": NEW_PASSWORD}, "reset")
    wait_for_text(browser, "result", "Your password is set")
    shot(browser, "07-password-reset")

    account_page(browser, stack)
    fill(browser, {"username": USERNAME, "password": NEW_PASSWORD}, "login")
    wait_for_text(browser, "who", USERNAME)
    wait_for_text(browser, "plan", "pro")
    shot(browser, "08-logged-in-with-the-new-password")

    for name in (
        "01-signed-up",
        "02-email-verified",
        "03-logged-in",
        "04-swagger-ui",
        "05-swagger-ui-me",
        "06-checkout-success",
        "07-password-reset",
        "08-logged-in-with-the-new-password",
    ):
        assert (SHOTS / f"{name}.png").stat().st_size > 0, name
