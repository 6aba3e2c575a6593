"""An admin invites an email address into the organization with a role (an owner:
any role; an admin: member): the email with a single-use link that expires goes out
from a background task (202). Inviting the address again replaces its invitation."""

from datetime import datetime
from typing import Literal

from functions.runtime import api

GRANTS = (*api.p.CHANGE_ORG, api.p.TASKS_WRITE, api.p.QUEUE_EMAIL)
MEMBER = ("This address belongs to a member already", "already_member")
INVALID = ("", "invalid_email", "invalid_org_role")


class InviteMemberIn(api.Body):
    email: str = api.Field(max_length=320)
    role: Literal["owner", "admin", "member"] = "member"


class InvitationOut(api.BaseModel):
    id: str
    email: str
    role: str
    expires_at: datetime


# Authenticate, the organization with the caller's membership, the address's user
# (its email marker, then the user) and their membership, the two invitation
# counters (one transaction), the invitation with its audit entry (one
# transaction), the task record.
@api.endpoint("POST /api/v1/orgs/{org_id}/invitations", GRANTS, budget=8, status=202)
@api.who("an admin or owner of the organization")
@api.sample(body={"email": "sam@example.com", "role": "member"})
@api.problems(
    {
        403: api.ORG_ROLE_REFUSED,
        404: api.NOT_A_MEMBER,
        409: MEMBER,
        422: INVALID,
        429: "Too many invitations for this organization or this address",
    }
)
def invite_member(
    org_id: api.Segment, body: InviteMemberIn, ctx: api.LoggedIn
) -> InvitationOut:
    invite = ctx.container.invite_member()
    made = invite.execute(ctx.user, org_id, body.email, body.role)
    return InvitationOut(
        id=made.id,
        email=made.email.key,
        role=made.role.value,
        expires_at=made.expires_at,
    )
