"""The attacks on accounts of issue 12, each tried over HTTP against the local stack.

Every request here comes from loopback, and the per-client limits count by source
address: each simulated client binds its own loopback address (127.0.x.y), so the
stack sees as many clients as the attack has, and the per-client limits run at
their defaults here (``strata dev`` relaxes them for one-address development).

The limits are read from the settings the stack runs with, never restated. One
stack serves the module, and every test uses accounts, addresses and clients of its
own. The stack's clock only moves forward (as with ``strata stripe advance``):
each test starts at the start of fresh rate-limit windows, so none ends mid-test,
and two tests walk time on through a limit's window and a session's lifetime.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import httpx
import pytest

from core.application.account_emails import PASSWORD_RESET, SIGNUP_ATTEMPT
from functions.resources import LOCAL_PREFIX, TASK_QUEUES
from functions.runtime.settings import Settings
from local.stack import DEFAULT_REGION, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from tests.e2e.conftest import DevProcess, spawn_dev
from tests.e2e.test_jobs_and_email import (
    EMAIL_TIMEOUT,
    link_token,
    read_email,
    wait_for_email,
)
from tests.e2e.test_local_stack import PASSWORD

# Meant to keep the module on one xdist worker, so one stack (pytest 9 ignores the
# group xdist 3.8 writes into the node id: then each worker starts its own stack,
# which the tests allow, as they share nothing).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("account_attacks")]

DEFAULTS = Settings()
# A session's absolute lifetime, short enough to walk through with a few moves of
# the clock; the session's own lifetime (its TTL) stays at its default.
SESSION_MAX_AGE = 2 * DEFAULTS.session_ttl_seconds
STACK_SETTINGS = {
    # The per-client limits as deployed (strata dev sets them out of reach).
    "STRATA_LOGIN_CLIENT_MAX_FAILURES": str(DEFAULTS.login_client_max_failures),
    "STRATA_EMAIL_PER_CLIENT": str(DEFAULTS.email_per_client),
    "STRATA_SESSION_MAX_AGE_SECONDS": str(SESSION_MAX_AGE),
}
NEW_PASSWORD = "e2e-attacked-new-1"
WRONG = "not-the-password"
LOGIN = "/api/v1/account/login"
SIGNUP = "/api/v1/account/signup"
RESET = "/api/v1/account/password-reset"
RESET_CONFIRM = "/api/v1/account/password-reset/confirm"
ME = "/api/v1/account/me"
TIMEOUT = 30.0

# 127.0.0.1 is every other test's client: these start after it.
_addresses = (f"127.0.{high}.{low}" for high in range(1, 255) for low in range(1, 255))
_address_lock = threading.Lock()


def next_address() -> str:
    with _address_lock:
        return next(_addresses)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """One local stack for the module, run with the settings above."""
    dev = spawn_dev(
        tmp_path_factory.mktemp("attacks") / "dev.log", settings=STACK_SETTINGS
    )
    try:
        dev.wait_ready()
        yield dev
    finally:
        dev.kill()


@pytest.fixture(scope="module")
def settings(stack: DevProcess) -> Settings:
    """The settings the stack runs with: its limits and lifetimes."""
    return Settings.from_env(stack.env)


Client = Callable[[], httpx.Client]


@pytest.fixture
def client(stack: DevProcess) -> Iterator[Client]:
    """A new client, with its own cookie jar and its own source address, each call;
    all closed at teardown."""
    made: list[httpx.Client] = []
    lock = threading.Lock()

    def make() -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=next_address())
        new = httpx.Client(
            base_url=stack.url, timeout=TIMEOUT, trust_env=False, transport=transport
        )
        with lock:
            made.append(new)
        return new

    yield make
    for each in made:
        each.close()


def at_once(count: int, request: Callable[[int], httpx.Response]) -> list[int]:
    """Send ``count`` requests from as many threads, released together; their
    statuses, in thread order."""
    barrier = threading.Barrier(count)
    statuses: list[int] = [0] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            statuses[n] = request(n).status_code
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert errors == []
    return statuses


def sign_up(client: httpx.Client, username: str, password: str = PASSWORD) -> str:
    """Sign ``username`` up; its address."""
    address = f"{username}@example.com"
    response = client.post(
        SIGNUP, json={"username": username, "email": address, "password": password}
    )
    assert response.status_code == 201, response.text
    return address


def log_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post(LOGIN, json={"username": username, "password": password})


def advance_clock(stack: DevProcess, seconds: int) -> int:
    """Move the stack's clock forward, as `strata stripe advance` does; the
    seconds it is now ahead of the real time."""
    with httpx.Client(trust_env=False, timeout=TIMEOUT) as control:
        moved = control.post(
            f"{stack.stripe_url}/_emulator/advance", json={"seconds": seconds}
        )
    assert moved.status_code == 200, moved.text
    return int(moved.json()["offset"])


@pytest.fixture(autouse=True)
def fresh_windows(stack: DevProcess, settings: Settings) -> None:
    """Each test starts at the start of a window of every limit (windows are
    aligned on multiples of their lengths), so none ends in the middle of it."""
    period = math.lcm(
        settings.login_window_seconds,
        settings.login_client_window_seconds,
        settings.email_address_window_seconds,
        settings.email_client_window_seconds,
    )
    now = int(time.time()) + advance_clock(stack, 0)
    advance_clock(stack, period - now % period)


def outbox_of(stack: DevProcess, address: str, template: str) -> list[Path]:
    return [
        path
        for path in sorted(stack.outbox.glob(f"*-{address}-*.eml"))
        if read_email(path)["X-Strata-Template"] == template
    ]


def wait_until_every_task_ran(stack: DevProcess) -> None:
    """Until the email task queue holds no message, waiting or in flight: every email
    asked for so far is in the outbox (the poller deletes a message once the
    worker has handled it)."""
    sqs: Any = botocore.session.get_session().create_client(
        "sqs",
        endpoint_url=stack.aws_endpoint,
        region_name=DEFAULT_REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )
    email = TASK_QUEUES["email"].name(LOCAL_PREFIX)
    url = sqs.get_queue_url(QueueName=email)["QueueUrl"]
    counts = (
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    deadline = time.monotonic() + EMAIL_TIMEOUT
    while True:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)
        if all(int(attributes["Attributes"][name]) == 0 for name in counts):
            return
        assert time.monotonic() < deadline, (
            f"the email task queue never emptied: {attributes}"
        )
        time.sleep(0.05)


def reset_token(
    stack: DevProcess, client: httpx.Client, address: str, seen: frozenset[Path]
) -> tuple[str, Path]:
    """Ask for a reset of ``address``; the token its email carries, and the email."""
    asked = client.post(RESET, json={"email": address})
    assert asked.status_code == 202, asked.text
    path, _ = wait_for_email(stack.outbox, address, seen=seen)
    assert read_email(path)["X-Strata-Template"] == PASSWORD_RESET
    return link_token(read_email(path)), path


# --- 1. concurrent guesses --------------------------------------------------------


def test_thirty_simultaneous_wrong_guesses_get_at_most_the_limit_judged_and_lock_out(
    client: Client, settings: Settings
) -> None:
    sign_up(client(), "guessed.one")
    # Thirty clients (a botnet: no per-client limit holds them back), at once.
    attackers = [client() for _ in range(30)]

    statuses = at_once(30, lambda n: log_in(attackers[n], "guessed.one", WRONG))

    # However the thirty interleave, the limit's worth are judged, no more.
    assert statuses.count(401) == settings.login_max_failures, statuses
    assert statuses.count(429) == 30 - settings.login_max_failures, statuses
    assert log_in(client(), "guessed.one", PASSWORD).status_code == 429


# --- 2. lockout for good, credential stuffing -------------------------------------


def test_a_successful_password_reset_lets_the_locked_out_owner_log_in(
    stack: DevProcess, client: Client, settings: Settings
) -> None:
    owner = client()
    address = sign_up(owner, "locked.owner")
    welcome, _ = wait_for_email(stack.outbox, address)
    attacker = client()
    for _ in range(settings.login_max_failures):
        assert log_in(attacker, "locked.owner", WRONG).status_code == 401
    assert log_in(owner, "locked.owner", PASSWORD).status_code == 429

    token, _ = reset_token(stack, owner, address, frozenset({welcome}))
    confirmed = owner.post(
        RESET_CONFIRM, json={"token": token, "password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text

    assert log_in(owner, "locked.owner", NEW_PASSWORD).status_code == 204


def test_one_client_trying_one_password_on_many_usernames_is_stopped_by_its_limit(
    client: Client, settings: Settings
) -> None:
    stuffer = client()
    limit = settings.login_client_max_failures

    statuses = [
        log_in(stuffer, f"stuffed{n:04d}", PASSWORD).status_code
        for n in range(limit + 3)
    ]

    assert statuses == [401] * limit + [429] * 3
    # Another client is not held back by that one.
    assert log_in(client(), "stuffed9999", PASSWORD).status_code == 401


# --- 3. email bombing ---------------------------------------------------------------


def test_twenty_reset_requests_for_one_address_send_at_most_the_allowed_emails(
    stack: DevProcess, client: Client, settings: Settings
) -> None:
    address = sign_up(client(), "bombed.one")
    # Twenty clients, so no per-client limit answers for the address's.
    askers = [client() for _ in range(20)]

    statuses = at_once(20, lambda n: askers[n].post(RESET, json={"email": address}))

    assert statuses == [202] * 20
    wait_until_every_task_ran(stack)
    sent = outbox_of(stack, address, PASSWORD_RESET)
    assert len(sent) == min(20, settings.email_per_address), sent


# --- 4. reset links that outlive a password change ----------------------------------


def test_after_the_password_changes_both_outstanding_reset_links_are_refused(
    stack: DevProcess, client: Client, settings: Settings
) -> None:
    owner = client()
    address = sign_up(owner, "two.links")
    welcome, _ = wait_for_email(stack.outbox, address)
    first, first_email = reset_token(stack, owner, address, frozenset({welcome}))
    # The address has had its reset email for this window: the next one comes in
    # the next (the clock moves, the first link is still within its lifetime).
    advance_clock(stack, settings.email_address_window_seconds)
    second, _ = reset_token(stack, owner, address, frozenset({welcome, first_email}))
    assert log_in(owner, "two.links", PASSWORD).status_code == 204

    changed = owner.patch(
        "/api/v1/users/two.links/password",
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
    )
    assert changed.status_code == 204, changed.text

    for token in (second, first):
        used = client().post(
            RESET_CONFIRM, json={"token": token, "password": "e2e-attacker-pw-1"}
        )
        assert used.status_code == 400, used.text
        assert used.json()["code"] == "invalid_token"
    assert log_in(client(), "two.links", NEW_PASSWORD).status_code == 204


# --- 5. the current-password oracle -------------------------------------------------


def test_wrong_current_passwords_from_a_session_are_refused_past_the_limit(
    client: Client, settings: Settings
) -> None:
    thief = client()
    sign_up(thief, "stolen.session")
    assert log_in(thief, "stolen.session", PASSWORD).status_code == 204

    def change(current: str) -> httpx.Response:
        return thief.patch(
            "/api/v1/users/stolen.session/password",
            json={"current_password": current, "password": NEW_PASSWORD},
        )

    for n in range(settings.login_max_failures):
        wrong = change(f"guess-number-{n}")
        assert wrong.status_code == 403, wrong.text
        assert wrong.json()["code"] == "wrong_password"
    refused = change(PASSWORD)
    assert refused.status_code == 429, refused.text


# --- 6. sessions that never end -----------------------------------------------------


def test_a_session_renewed_by_steady_use_still_ends_at_its_absolute_lifetime(
    stack: DevProcess, client: Client, settings: Settings
) -> None:
    user = client()
    sign_up(user, "steady.user")
    assert log_in(user, "steady.user", PASSWORD).status_code == 204
    # Each step leaves the session less than its renewal threshold: the next
    # request renews it, as steady use does.
    ttl = settings.session_ttl_seconds
    step = int(ttl * (1 - settings.session_renew_threshold / 2))
    elapsed = 0
    while elapsed + step < settings.session_max_age_seconds:
        advance_clock(stack, step)
        elapsed += step
        assert user.get(ME).status_code == 200, elapsed

    # Past the absolute lifetime, though well within a renewed session's TTL.
    advance_clock(stack, settings.session_max_age_seconds - elapsed)
    assert settings.session_max_age_seconds < elapsed + ttl
    refused = user.get(ME)
    assert refused.status_code == 401, refused.text

    assert log_in(user, "steady.user", PASSWORD).status_code == 204
    assert user.get(ME).status_code == 200


# --- 7. cross-site requests ---------------------------------------------------------


def test_a_state_changing_post_from_a_foreign_origin_is_refused_and_from_our_own_passes(
    stack: DevProcess, client: Client
) -> None:
    victim = client()
    sign_up(victim, "cross.site")
    assert log_in(victim, "cross.site", PASSWORD).status_code == 204
    foreign = {"Origin": "https://evil.example"}

    with_body = victim.post(
        SIGNUP,
        headers=foreign,
        json={
            "username": "cross.made",
            "email": "cross.made@example.com",
            "password": PASSWORD,
        },
    )
    bodyless = victim.post("/api/v1/account/logout", headers=foreign)
    no_origin = victim.post(
        "/api/v1/account/logout", headers={"Sec-Fetch-Site": "cross-site"}
    )

    for refused in (with_body, bodyless, no_origin):
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "origin_not_allowed"
    assert victim.get(ME).status_code == 200
    assert log_in(client(), "cross.made", PASSWORD).status_code == 401
    own = victim.post("/api/v1/account/logout", headers={"Origin": stack.url})
    assert own.status_code == 204, own.text
    assert victim.get(ME).status_code == 401


# --- 8. look-alike addresses --------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "vic\u200btim@example.com",  # zero-width space
        "victim\u202e@example.com",  # right-to-left override
        "\uff56ictim@example.com",  # full-width v
        "victim,other@example.com",  # a comma: two recipients to a mailer
    ],
    ids=["zero-width", "bidi", "full-width", "comma"],
)
def test_a_look_alike_address_is_refused_at_sign_up(
    client: Client, address: str
) -> None:
    response = client().post(
        SIGNUP,
        json={"username": "look.alike", "email": address, "password": PASSWORD},
    )

    assert response.status_code == 422, response.text
    assert log_in(client(), "look.alike", PASSWORD).status_code == 401


# --- 9. enumeration through sign-up -------------------------------------------------


def test_a_sign_up_with_a_registered_address_answers_as_a_new_one_and_warns_the_owner(
    stack: DevProcess, client: Client
) -> None:
    address = sign_up(client(), "first.owner")
    new = client().post(
        SIGNUP,
        json={
            "username": "fresh.one",
            "email": "fresh.one@example.com",
            "password": PASSWORD,
        },
    )

    taken = client().post(
        SIGNUP,
        json={"username": "second.try", "email": address, "password": PASSWORD},
    )

    assert taken.status_code == new.status_code == 201, taken.text
    assert taken.json().keys() == new.json().keys()
    assert taken.json()["username"] == "second.try"
    assert log_in(client(), "second.try", PASSWORD).status_code == 401
    wait_until_every_task_ran(stack)
    assert len(outbox_of(stack, address, SIGNUP_ATTEMPT)) == 1


# --- 10. a lost sign-up race --------------------------------------------------------


def test_of_ten_simultaneous_sign_ups_of_one_username_one_wins_and_the_rest_conflict(
    client: Client,
) -> None:
    rivals = [client() for _ in range(10)]

    statuses = at_once(
        10,
        lambda n: rivals[n].post(
            SIGNUP,
            json={
                "username": "raced.name",
                "email": f"racer{n}@example.com",
                "password": PASSWORD,
            },
        ),
    )

    assert sorted(statuses) == [201] + [409] * 9, statuses
