"""Admins and owners read the organization's audit log, newest first, a page at a
time (`limit`, `cursor`: signed for this organization's log): who did what to whom,
when, in which request. Reading it is a feature of the organization's plan
(`audit_log`: Team, Business): 402 `plan_required` on a plan without it, checked
after membership (404) and role (403). Entries are recorded on every plan."""

from functions.runtime import api


# Authenticate, the organization with the caller's membership (which also carries
# the plan the feature check reads), one Query.
@api.endpoint("GET /api/v1/orgs/{org_id}/audit-log", api.p.READ_ORG, budget=3)
@api.who("an admin or owner of an organization on Team or Business")
@api.sample(query={"limit": "20"})
@api.problems(
    {
        402: "The organization's plan does not include the audit log; `plans` "
        "names those that do",
        403: api.ORG_ROLE_REFUSED,
        404: api.NOT_A_MEMBER,
        422: api.PAGING,
    }
)
def read_audit_log(
    org_id: api.Segment,
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=2048),
) -> api.AuditPageOut:
    page = ctx.container.read_audit_log().execute(ctx.user, org_id, limit, cursor)
    items = [api.AuditEntryOut.of(entry) for entry in page.items]
    return api.AuditPageOut(items=items, next_cursor=page.next_cursor)
