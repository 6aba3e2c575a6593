"""A member reads the organization: name, their role, plan, subscription status and
seats; to anyone else it does not exist (404)."""

from functions.runtime import api


# Authenticate; one read of the organization with the caller's membership.
@api.endpoint("GET /api/v1/orgs/{org_id}", api.p.READ_ORG, budget=2)
@api.who("a member")
@api.problems({404: api.NOT_A_MEMBER, 422: "The id in the path is too long"})
def get_organization(org_id: api.Segment, ctx: api.LoggedIn) -> api.OrgDetail:
    mine = ctx.container.get_organization().execute(ctx.user, org_id)
    return api.OrgDetail.of_detail(mine)
