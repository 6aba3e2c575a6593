from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.organization import (
    InvalidOrgName,
    InvalidOrgRole,
    Invitation,
    InvitationExpired,
    InvitationStatus,
    InvitationUsed,
    OrgName,
    OrgRole,
)
from core.domain.user import Email

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def invitation(**changes: object) -> Invitation:
    fields: dict[str, object] = {
        "id": "inv-1",
        "org_id": "org-1",
        "email": Email("bob@example.com"),
        "role": OrgRole.MEMBER,
        "invited_by": "user-1",
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=7),
    }
    fields.update(changes)
    return Invitation(**fields)  # type: ignore[arg-type]


def test_an_org_name_is_trimmed() -> None:
    assert OrgName("  Acme  ").value == "Acme"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Ac\u200bme", "Ac\x00me"])
def test_an_empty_overlong_or_invisible_org_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidOrgName):
        OrgName(name)


def test_an_org_name_of_a_hundred_characters_is_accepted() -> None:
    assert len(OrgName("x" * 100).value) == 100


def test_an_unknown_org_role_is_refused() -> None:
    with pytest.raises(InvalidOrgRole):
        OrgRole.parse("super_admin")


def test_a_pending_invitation_is_usable_until_it_expires() -> None:
    invitation().check_usable(NOW + timedelta(days=7) - timedelta(seconds=1))
    with pytest.raises(InvitationExpired):
        invitation().check_usable(NOW + timedelta(days=7))


def test_an_accepted_invitation_is_used_even_before_it_expires() -> None:
    with pytest.raises(InvitationUsed):
        invitation(status=InvitationStatus.ACCEPTED).check_usable(NOW)
