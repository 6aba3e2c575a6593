"""An unknown username and a wrong password cannot be told apart."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from core.adapters.passwords import BcryptPasswordHasher
from functions.runtime.container import use_container
from tests.security.conftest import Api, assert_problem

TRIES = 20
# Production cost is 12; 10 keeps the test short while hashing still dominates a
# log-in, as it does in production.
ROUNDS = 10


def test_unknown_user_and_wrong_password_get_the_same_body_in_about_the_same_time(
    api: Api,
) -> None:
    settings = api.container.settings.model_copy(
        update={"login_max_failures": 10_000, "login_client_max_failures": 10_000}
    )
    pepper = settings.pepper_value()
    assert pepper is not None
    api.container = replace(
        api.container,
        settings=settings,
        hasher=BcryptPasswordHasher(pepper, ROUNDS),
    )
    use_container(api.container)
    # Made after the swap: its hash has the same cost as the dummy one.
    api.user("alice001")
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    bodies: dict[str, set[str]] = {"unknown": set(), "wrong": set()}
    usernames = {"unknown": "nobody01", "wrong": "alice001"}

    for _ in range(TRIES):
        for kind, username in usernames.items():  # interleaved: noise hits both
            started = time.perf_counter()
            reply = api.call(
                "login", json_body={"username": username, "password": "not it!!"}
            )
            timings[kind].append(time.perf_counter() - started)
            body = assert_problem(reply, 401, "invalid_credentials")
            bodies[kind].add(repr(sorted(body.items())))

    assert bodies["unknown"] == bodies["wrong"]
    assert len(bodies["unknown"]) == 1
    unknown, wrong = (statistics.median(timings[k]) for k in ("unknown", "wrong"))
    assert abs(unknown - wrong) / max(unknown, wrong) < 0.25, (unknown, wrong)
