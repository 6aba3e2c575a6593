"""Give a member another role (`{role}`): owners change anyone's; admins only a
member's, and only to member. The last owner cannot be demoted (409 last_owner)."""

from typing import Literal

from functions.runtime import api

GONE = ("No such organization or member", "organization_not_found", "member_not_found")
CONFLICT = (
    "The last owner cannot be demoted, or the role changed meanwhile",
    "last_owner",
    "concurrent_update",
)


class ChangeMemberRoleIn(api.Body):
    role: Literal["owner", "admin", "member"]


# Authenticate, the organization with the caller's membership, the target's
# membership, one transaction (the role, the owner count, the audit entry).
@api.endpoint(
    "PATCH /api/v1/orgs/{org_id}/members/{user_id}", api.p.CHANGE_ORG, budget=4
)
@api.who("an owner, or an admin over a member")
@api.sample(body={"role": "admin"})
@api.problems({403: api.ORG_ROLE_REFUSED, 404: GONE, 409: CONFLICT})
def change_member_role(
    org_id: api.Segment,
    user_id: api.Segment,
    body: ChangeMemberRoleIn,
    ctx: api.LoggedIn,
) -> api.MemberOut:
    change = ctx.container.change_member_role()
    return api.MemberOut.of(change.execute(ctx.user, org_id, user_id, body.role))
