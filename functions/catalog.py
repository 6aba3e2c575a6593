"""The endpoint catalog: every HTTP endpoint once, as plain data.

The CDK app builds one Lambda and one route per entry and grants exactly its
``permissions``; the local dev server mounts every entry's router; tests check that
catalog, routers and the DynamoDB calls each endpoint really makes all agree.

Permissions name a resource and an access: ``users:read``, ``users:write``,
``sessions:read``, ``sessions:write``, ``tasks:read``, ``tasks:write`` (tables);
``queue:send`` (the task queue); ``exports:read``, ``exports:write`` (the export
bucket); ``email:send`` (SES).

``WORKERS`` lists the functions that are not behind a route: queue consumers and
scheduled jobs, with their trigger and permissions, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

USERS_READ = "users:read"
USERS_WRITE = "users:write"
SESSIONS_READ = "sessions:read"
SESSIONS_WRITE = "sessions:write"
TASKS_READ = "tasks:read"
TASKS_WRITE = "tasks:write"
QUEUE_SEND = "queue:send"
EXPORTS_READ = "exports:read"
EXPORTS_WRITE = "exports:write"
EMAIL_SEND = "email:send"

# What every route behind the session cookie needs: read session and user, renew.
_AUTHENTICATED = (USERS_READ, SESSIONS_READ, SESSIONS_WRITE)


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    method: str
    path: str
    module: str
    permissions: tuple[str, ...] = ()
    # False for the routes that serve or lead to the docs rather than the API.
    in_docs: bool = True


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("root", "GET", "/", "functions.http.root", in_docs=False),
    Endpoint("docs", "GET", "/docs", "functions.http.docs", in_docs=False),
    Endpoint(
        "openapi", "GET", "/openapi.json", "functions.http.openapi", in_docs=False
    ),
    Endpoint("health", "GET", "/api/v1/", "functions.http.health"),
    Endpoint(
        "signup",
        "POST",
        "/api/v1/account/signup",
        "functions.http.signup",
        (USERS_READ, USERS_WRITE, SESSIONS_READ),
    ),
    Endpoint(
        "login",
        "POST",
        "/api/v1/account/login",
        "functions.http.login",
        (USERS_READ, SESSIONS_READ, SESSIONS_WRITE),
    ),
    Endpoint(
        "logout",
        "POST",
        "/api/v1/account/logout",
        "functions.http.logout",
        _AUTHENTICATED,
    ),
    Endpoint("me", "GET", "/api/v1/account/me", "functions.http.me", _AUTHENTICATED),
    Endpoint(
        "create_user",
        "POST",
        "/api/v1/users",
        "functions.http.create_user",
        (*_AUTHENTICATED, USERS_WRITE),
    ),
    Endpoint(
        "list_users",
        "GET",
        "/api/v1/users",
        "functions.http.list_users",
        _AUTHENTICATED,
    ),
    Endpoint(
        "change_password",
        "PATCH",
        "/api/v1/users/{username}/password",
        "functions.http.change_password",
        (*_AUTHENTICATED, USERS_WRITE),
    ),
    Endpoint(
        "grant_admin",
        "PATCH",
        "/api/v1/users/{username}/grant-admin",
        "functions.http.grant_admin",
        (*_AUTHENTICATED, USERS_WRITE),
    ),
    Endpoint(
        "revoke_admin",
        "PATCH",
        "/api/v1/users/{username}/revoke-admin",
        "functions.http.revoke_admin",
        (*_AUTHENTICATED, USERS_WRITE),
    ),
    Endpoint(
        "activate_user",
        "PATCH",
        "/api/v1/users/{username}/activate",
        "functions.http.activate_user",
        (*_AUTHENTICATED, USERS_WRITE),
    ),
    Endpoint(
        "deactivate_user",
        "PATCH",
        "/api/v1/users/{username}/deactivate",
        "functions.http.deactivate_user",
        (*_AUTHENTICATED, USERS_WRITE),
    ),
)

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}
