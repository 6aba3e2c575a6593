"""An owner deletes the organization: its subscription ends at Stripe first, then
the organization, its memberships and invitations go; the audit log stays for its
retention."""

from functions.runtime import api

GRANTS = (*api.p.CHANGE_ORG, api.p.STRIPE_API)
NOT_OWNER = ("A member of the organization who is not an owner", "forbidden")


# Authenticate, read the organization with the caller's membership, one transaction
# (the organization item and the audit entry), then the memberships and invitations
# in batches (a Query each, and one BatchWrite for a small organization).
@api.endpoint("DELETE /api/v1/orgs/{org_id}", GRANTS, budget=6)
@api.who("an owner of the organization")
@api.problems({403: NOT_OWNER, 404: api.NOT_A_MEMBER})
def delete_organization(org_id: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.delete_organization().execute(ctx.user, org_id)
