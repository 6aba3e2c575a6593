"""Super admins read the platform's audit log (admin grants and revocations,
activations, deactivations, password changes), newest first, a page at a time."""

from functions.runtime import api


# Authenticate, one Query.
@api.endpoint("GET /api/v1/admin/audit-log", api.p.READ_ORG, budget=2)
@api.who("a super admin")
@api.sample(query={"limit": "20"})
@api.problems({403: "Not a super admin", 422: api.PAGING})
def read_platform_audit_log(
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=2048),
) -> api.AuditPageOut:
    reader = ctx.container.read_platform_audit_log()
    page = reader.execute(ctx.user, limit, cursor)
    items = [api.AuditEntryOut.of(entry) for entry in page.items]
    return api.AuditPageOut(items=items, next_cursor=page.next_cursor)
