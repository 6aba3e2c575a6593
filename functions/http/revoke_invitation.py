"""An admin or owner revokes the organization's pending invitation of an address
(the invitation's key: one per organization and address); its link stops
working."""

from functions.runtime import api

NONE = ("No pending invitation for this address", "invitation_invalid")


# Authenticate, the organization with the caller's membership, the invitation, one
# transaction (the delete, on the invitation read, and the audit entry).
@api.endpoint(
    "DELETE /api/v1/orgs/{org_id}/invitations/{email}", api.p.CHANGE_ORG, budget=4
)
@api.who("an admin or owner of the organization")
@api.problems({400: NONE, 403: api.ORG_ROLE_REFUSED, 404: api.NOT_A_MEMBER})
def revoke_invitation(
    org_id: api.Segment, email: api.EmailSegment, ctx: api.LoggedIn
) -> None:
    ctx.container.revoke_invitation().execute(ctx.user, org_id, email)
