"""An owner makes another member an owner and becomes an admin, in one write
(`{user_id}`)."""

from functions.runtime import api

NOT_OWNER = ("A member of the organization who is not an owner", "forbidden")
GONE = ("No such organization or member", "organization_not_found", "member_not_found")
RACED = ("A role changed meanwhile; try again", "concurrent_update")


class TransferOwnershipIn(api.Body):
    user_id: str = api.Field(min_length=1, max_length=64)


# Authenticate, the organization with the caller's membership, the new owner's
# membership, one transaction (both roles and the audit entry).
@api.endpoint(
    "POST /api/v1/orgs/{org_id}/transfer-ownership", api.p.CHANGE_ORG, budget=4
)
@api.who("an owner of the organization")
@api.sample(body={"user_id": "0f9c2d4e6a8b4c1d9e7f5a3b1c2d4e6f"})
@api.problems({403: NOT_OWNER, 404: GONE, 409: RACED})
def transfer_ownership(
    org_id: api.Segment, body: TransferOwnershipIn, ctx: api.LoggedIn
) -> None:
    ctx.container.transfer_ownership().execute(ctx.user, org_id, body.user_id)
