"""Schemathesis fuzzes every operation of the OpenAPI document, anonymously and as
a logged-in super admin: no input makes a 5xx, and every answer is documented."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from tests.fuzz.harness import (
    CHECKS,
    FUZZ_SETTINGS,
    SCHEMA,
    SuperAdmin,
    aim_at_known_users,
)


@pytest.fixture
def fuzzed_super_admin(
    paying_super_admin: Any, super_admin: SuperAdmin
) -> Iterator[SuperAdmin]:
    """The logged-in super admin, who pays for Pro (so the billing routes that
    change a subscription have one to change); afterwards, proof that the
    operation's own code ran for it, not only the layers in front of it."""
    yield super_admin
    assert super_admin.reached_route_code(), dict(super_admin.statuses)


@SCHEMA.hooks.apply(aim_at_known_users, name="flatmap_case")
@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_no_anonymous_request_gets_a_server_error_or_an_undocumented_answer(
    case: schemathesis.Case, known_users: Any
) -> None:
    case.call_and_validate(checks=CHECKS)


@SCHEMA.hooks.apply(aim_at_known_users, name="flatmap_case")
@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_no_request_of_a_logged_in_super_admin_gets_a_5xx_or_an_undocumented_answer(
    case: schemathesis.Case, fuzzed_super_admin: SuperAdmin
) -> None:
    response = case.call_and_validate(
        cookies=fuzzed_super_admin.cookies(), checks=CHECKS
    )
    fuzzed_super_admin.answered(response.status_code)

    # The session was checked just before the call: the route must have seen it.
    assert response.status_code != 401, response.text
