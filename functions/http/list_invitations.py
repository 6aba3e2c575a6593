"""An admin or owner reads the organization's pending invitations, a page at a time:
`{items, next_cursor}` (`limit`, `cursor`)."""

from datetime import datetime

from functions.runtime import api


class PendingInvitationOut(api.BaseModel):
    id: str
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


class InvitationsPageOut(api.BaseModel):
    items: list[PendingInvitationOut]
    next_cursor: str | None


# Authenticate, the organization with the caller's membership, one Query.
@api.endpoint("GET /api/v1/orgs/{org_id}/invitations", api.p.READ_ORG, budget=3)
@api.who("an admin or owner of the organization")
@api.sample(query={"limit": "20"})
@api.problems({403: api.ORG_ROLE_REFUSED, 404: api.NOT_A_MEMBER, 422: api.PAGING})
def list_invitations(
    org_id: api.Segment,
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=2048),
) -> InvitationsPageOut:
    listing = ctx.container.list_invitations()
    page = listing.execute(ctx.user, org_id, limit, cursor)
    items = [
        PendingInvitationOut(
            id=i.id,
            email=i.email.key,
            role=i.role.value,
            invited_by=i.invited_by,
            created_at=i.created_at,
            expires_at=i.expires_at,
        )
        for i in page.items
    ]
    return InvitationsPageOut(items=items, next_cursor=page.next_cursor)
