"""The AWS permissions an endpoint or worker can declare: plain names, no imports.

A permission names a resource and an access: ``users:read``, ``users:write``,
``sessions:read``, ``sessions:write``, ``tasks:read``, ``tasks:write`` (tables);
``queue:email``, ``queue:users``, ``queue:billing`` (send to that job family's task
queue, whose URL comes with it: a function submits only the families it names);
``exports:read``, ``exports:write`` (the export
bucket); ``email:send`` (SES); ``stripe:api`` (read the Stripe secret key from
Secrets Manager: the function calls Stripe), ``stripe:webhook`` (read the webhook
signing secret), ``secrets:pepper`` (read the password pepper: the function hashes or
checks passwords; every other function never holds it); ``users:list``,
``users:unverified``, ``users:subscribed``, ``sessions:by-user``,
``orgs:by-member``, ``invitations:by-token``, ``orgs:seated`` (Query the
secondary indexes ``INDEX_PERMISSIONS`` names); ``orgs:read``, ``orgs:write`` (the
organizations table: organizations, members, invitations, audit logs).

The catalog reads endpoint declarations without importing them (see
``functions.catalog``): a name used in a declaration is looked up here, so only
constants of this module may appear in one.
"""

USERS_READ = "users:read"
USERS_WRITE = "users:write"
SESSIONS_READ = "sessions:read"
SESSIONS_WRITE = "sessions:write"
TASKS_READ = "tasks:read"
TASKS_WRITE = "tasks:write"
# Send to one job family's task queue (core.application.tasks.JOB_FAMILIES).
QUEUE_EMAIL = "queue:email"
QUEUE_USERS = "queue:users"
QUEUE_BILLING = "queue:billing"
QUEUE_PERMISSIONS = {
    QUEUE_EMAIL: "email",
    QUEUE_USERS: "users",
    QUEUE_BILLING: "billing",
}
EXPORTS_READ = "exports:read"
EXPORTS_WRITE = "exports:write"
EMAIL_SEND = "email:send"
STRIPE_API = "stripe:api"
STRIPE_WEBHOOK = "stripe:webhook"
PASSWORDS = "secrets:pepper"
# Querying a secondary index is a permission of its own: ``users:read`` and
# ``sessions:read`` read items by key (and Query the table), and a function gets
# Query on only the indexes it queries. Each names (table, its indexes).
USERS_LIST = "users:list"
USERS_UNVERIFIED = "users:unverified"
USERS_SUBSCRIBED = "users:subscribed"
SESSIONS_BY_USER = "sessions:by-user"
# Organizations, their members, invitations and audit logs share the orgs table:
# ``orgs:read`` reads an organization, Queries its members, pending invitations and
# audit log; ``orgs:write`` changes any of them. A user's organizations and an
# invitation's token are found through the two indexes.
ORGS_READ = "orgs:read"
ORGS_WRITE = "orgs:write"
ORGS_BY_MEMBER = "orgs:by-member"
INVITATIONS_BY_TOKEN = "invitations:by-token"  # noqa: S105 (a permission name)
# The organizations whose subscription has not ended (the daily seat
# reconciliation).
ORGS_SEATED = "orgs:seated"
INDEX_PERMISSIONS = {
    USERS_LIST: ("users", ("users_by_created_at_v2", "users_by_username_v2")),
    USERS_UNVERIFIED: ("users", ("unverified_users_v2",)),
    USERS_SUBSCRIBED: ("users", ("subscribed_users_v2",)),
    SESSIONS_BY_USER: ("sessions", ("sessions_by_user",)),
    ORGS_BY_MEMBER: ("orgs", ("orgs_by_member",)),
    INVITATIONS_BY_TOKEN: ("orgs", ("invitations_by_token",)),
    ORGS_SEATED: ("orgs", ("seated_orgs",)),
}
# A function naming either calls Stripe: it gets the stripe SDK's layer.
STRIPE_PERMISSIONS = frozenset({STRIPE_API, STRIPE_WEBHOOK})

# What every route behind the session cookie needs: read session and user, renew.
AUTHENTICATED = (USERS_READ, SESSIONS_READ, SESSIONS_WRITE)
USERS = (USERS_READ, USERS_WRITE)
SESSIONS = (SESSIONS_READ, SESSIONS_WRITE)
TASKS = (TASKS_READ, TASKS_WRITE)
# The common sets of the routes behind the session: an admin changing users, a
# route queueing an email or a users task, a route asking Stripe, one storing what
# Stripe answered.
MANAGE_USERS = (*AUTHENTICATED, USERS_WRITE)
# An admin's action on a user, recorded in the platform audit log (orgs table).
AUDITED = (*MANAGE_USERS, ORGS_WRITE)
QUEUE_MAIL = (*AUTHENTICATED, TASKS_WRITE, QUEUE_EMAIL)
QUEUE_USERS_TASK = (*AUTHENTICATED, TASKS_WRITE, QUEUE_USERS)
ASK_STRIPE = (*AUTHENTICATED, STRIPE_API)
CHANGE_BILLING = (*AUTHENTICATED, USERS_WRITE, STRIPE_API)
# The routes of an organization: read it (and the caller's membership), change it.
READ_ORG = (*AUTHENTICATED, ORGS_READ)
CHANGE_ORG = (*AUTHENTICATED, ORGS_READ, ORGS_WRITE)


def uses_stripe(permissions: tuple[str, ...]) -> bool:
    """Whether a function with these permissions calls Stripe (and so loads the
    stripe SDK, shipped in its own layer)."""
    return not STRIPE_PERMISSIONS.isdisjoint(permissions)
