"""The composition root builds every use case from its constructor's fields: a new
use case is one file in core/application, and no line of the container."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.application.ports import Clock
from functions.runtime.container import Container

APPLICATION = Path(__file__).resolve().parents[2] / "core" / "application"
USE_CASES = sorted(
    path.stem
    for package in ("commands", "queries")
    for path in (APPLICATION / package).glob("*.py")
    if path.stem != "__init__"
)
# A task worker's RunTask is made for its job family: it knows no other's jobs.
ARGUMENTS = {"run_task": ("email",)}


@pytest.mark.parametrize("name", USE_CASES)
def test_every_use_case_is_built_by_the_name_of_its_module(
    container: Any, name: str
) -> None:
    interactor = getattr(container, name)(*ARGUMENTS.get(name, ()))

    assert type(interactor).__name__ == name.title().replace("_", "")
    assert callable(interactor.execute)


def test_a_field_gets_the_port_of_its_type_whatever_its_name(container: Any) -> None:
    assert container.verify_email().tokens is container.link_tokens
    assert container.log_in().tokens is container.tokens
    assert container.handle_stripe_event().store is container.billing
    assert container.get_task().store is container.tasks
    assert container.list_invoices().provider is container.payments


def test_a_field_no_type_names_gets_the_setting_of_its_name(container: Any) -> None:
    authenticate = container.authenticate()

    assert authenticate.session_ttl == container.session_ttl
    assert authenticate.renew_threshold == container.settings.session_renew_threshold


def test_a_field_the_container_cannot_provide_is_a_clear_error(
    container: Container,
) -> None:
    @dataclass(frozen=True)
    class NeedsAPrinter:
        clock: Clock
        printer: bytes

    with pytest.raises(TypeError, match=r"NeedsAPrinter\.printer: nothing .* bytes"):
        container.make(NeedsAPrinter)


def test_a_name_that_is_no_use_case_is_an_attribute_error(container: Any) -> None:
    with pytest.raises(AttributeError, match="no_such_use_case"):
        container.no_such_use_case()


def test_the_organization_use_cases_get_the_org_stores_and_one_audit_trail(
    container: Any,
) -> None:
    assert container.accept_invitation().orgs is container.orgs
    assert container.invite_member().invitations is container.invitations
    assert container.read_audit_log().audit is container.audit
    assert container.create_organization().trail.clock is container.clock


def test_the_platform_audit_log_is_built_on_the_audit_port(container: Any) -> None:
    assert container.platform_audit.log is container.audit


def test_an_optional_field_nothing_provides_keeps_its_default(
    container: Container,
) -> None:
    @dataclass(frozen=True)
    class MayAudit:
        clock: Clock
        printer: bytes | None = None

    made = container.make(MayAudit)

    assert made.printer is None
    assert made.clock is container.clock


def test_every_job_the_workers_can_run_belongs_to_one_family(container: Any) -> None:
    from core.application.tasks import JOB_FAMILIES

    # A job registered without a family would be refused by every worker.
    assert set(container.registry().names()) == set(JOB_FAMILIES)
