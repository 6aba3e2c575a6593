"""Remove a member (owners: anyone; admins: members), or leave (oneself), freeing
the seat. The last owner can neither leave nor be removed (409 last_owner)."""

from functions.runtime import api

GONE = ("No such organization or member", "organization_not_found", "member_not_found")
CONFLICT = (
    "The last owner cannot leave or be removed, or the role changed meanwhile",
    "last_owner",
    "concurrent_update",
)


# A leave on a per-seat plan queues the seat sync (tasks:write, queue:billing).
GRANTS = (*api.p.CHANGE_ORG, api.p.TASKS_WRITE, api.p.QUEUE_BILLING)


# Authenticate, the organization with the caller's membership, the target's
# membership, one transaction (the delete, the counts, the audit entry).
@api.endpoint("DELETE /api/v1/orgs/{org_id}/members/{user_id}", GRANTS, budget=4)
@api.who("an owner, an admin over a member, or the member themselves")
@api.problems({403: api.ORG_ROLE_REFUSED, 404: GONE, 409: CONFLICT})
def remove_member(org_id: api.Segment, user_id: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.remove_member().execute(ctx.user, org_id, user_id)
