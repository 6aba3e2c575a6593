"""A password reset request cannot tell whether an address is registered: not by
its answer, not by the storage work behind it, not by its time."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from core.domain.user import Role
from functions.runtime.container import use_container
from tests.conftest import DynamoCalls
from tests.security.conftest import Api

TRIES = 15


def test_known_unknown_and_deactivated_addresses_get_the_same_answer_and_work(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    # The email limits (per address, per client) apart: they answer the same for
    # every address too, and are tested on their own.
    settings = api.container.settings.model_copy(
        update={"email_per_address": 10_000, "email_per_client": 10_000}
    )
    api.container = replace(api.container, settings=settings)
    use_container(api.container)
    root = api.user("root0001", Role.SUPER_ADMIN)
    api.user("alice001")
    api.user("gone0001")
    api.container.deactivate_user().execute(root, "gone0001")
    emails = {
        "known": "alice001@example.com",
        "unknown": "nobody01@example.com",
        "deactivated": "gone0001@example.com",
    }
    answers: dict[str, set[tuple[int, str, str]]] = {k: set() for k in emails}
    calls: dict[str, set[tuple[tuple[str, str, int], ...]]] = {k: set() for k in emails}
    timings: dict[str, list[float]] = {k: [] for k in emails}

    for _ in range(TRIES):
        for kind, email in emails.items():  # interleaved: noise hits all alike
            dynamo_calls.reset()
            started = time.perf_counter()
            reply = api.call("password_reset", json_body={"email": email})
            timings[kind].append(time.perf_counter() - started)
            answers[kind].add((reply.status, reply.headers["content-type"], reply.text))
            calls[kind].add(
                tuple(
                    sorted(
                        (op, table, n) for (op, table), n in dynamo_calls.tables.items()
                    )
                )
            )

    assert answers["known"] == answers["unknown"] == answers["deactivated"]
    assert len(answers["known"]) == 1
    ((status, _, _),) = answers["known"]
    assert status == 202
    assert calls["known"] == calls["unknown"] == calls["deactivated"]
    (work,) = calls["known"]
    # The address's and the client's email counters, one task record; no read of
    # the users table on the request path.
    assert work == (
        ("PutItem", api.container.settings.tasks_table, 1),
        ("UpdateItem", api.container.settings.sessions_table, 2),
    )
    medians = [statistics.median(timings[k]) for k in emails]
    assert (max(medians) - min(medians)) / max(medians) < 0.5, medians
