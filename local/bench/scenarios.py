"""One successful request per catalog endpoint, with the state it needs made first.

``Scenarios`` works against any ``Container``: the parent seeds the real one (on
moto) before each cold child, the warm child seeds one built from the in-memory
fakes before each invocation. Every call gets what a call consumes made afresh: a
new username for sign-up and create-user, a new session for log-out, a new target
user for the admin routes (granting admin rights twice, or activating an active
user, would change nothing), right passwords only (the log-in throttle counts
failures). The targets of a password change and of a deactivation have a second open
session, which the request ends; the user list has a full page to list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.domain.user import Role, User
from functions.catalog import BY_NAME
from functions.runtime.container import Container
from local.roundtrips import COOKIE, http_api_event

PASSWORD = "bench password one"  # noqa: S105 (throwaway accounts)
NEW_PASSWORD = "bench password two"  # noqa: S105
PAGE = 20  # users per listed page


@dataclass(frozen=True)
class Call:
    """One request to one endpoint and the status that means it succeeded."""

    name: str
    expect: int
    path: str | None = None
    body: dict[str, Any] | None = None
    query: dict[str, str] | None = None
    cookie: str | None = None

    def event(self) -> dict[str, Any]:
        """An API Gateway HTTP API v2 event for this call."""
        return http_api_event(
            BY_NAME[self.name],
            self.path,
            body=self.body,
            query=self.query,
            cookie=self.cookie,
        )


class Scenarios:
    """Makes, for an endpoint name, the state its request needs and the request."""

    def __init__(self, container: Container, tag: str) -> None:
        self.container = container
        self.tag = tag
        self._count = 0
        self._page_filled = False
        self.root_name = self.fresh_name()
        self.root: User = container.create_super_admin().execute(
            self.root_name, f"{self.root_name}@example.com", PASSWORD
        )
        self._makers: dict[str, Callable[[], Call]] = {
            "root": lambda: Call("root", 307),
            "health": lambda: Call("health", 200),
            "signup": self._signup,
            "login": self._login,
            "logout": lambda: Call("logout", 204, cookie=self.session(self.user())),
            "me": lambda: Call("me", 200, cookie=self.session(self.user())),
            "create_user": self._create_user,
            "list_users": self._list_users,
            "change_password": self._change_password,
            "grant_admin": lambda: self._admin_route("grant_admin", self.user()),
            "revoke_admin": lambda: self._admin_route(
                "revoke_admin", self.user(Role.ADMIN)
            ),
            "activate_user": lambda: self._admin_route(
                "activate_user", self.deactivated_user()
            ),
            "deactivate_user": lambda: self._admin_route(
                "deactivate_user", self.logged_in_user()
            ),
        }

    def covers(self, name: str) -> bool:
        return name in self._makers or _is_plain_get(name)

    def call(self, name: str) -> Call:
        """Prepare the state for one successful request to ``name``; the request."""
        maker = self._makers.get(name)
        if maker is not None:
            return maker()
        if _is_plain_get(name):
            return Call(name, 200)
        raise KeyError(f"no request is known for the endpoint {name!r}")

    # -- state ------------------------------------------------------------------------

    def fresh_name(self) -> str:
        self._count += 1
        return f"b{self.tag}{self._count:05d}"

    def user(self, role: Role = Role.USER) -> str:
        name = self.fresh_name()
        self.container.registrar().register(name, f"{name}@example.com", PASSWORD, role)
        return name

    def logged_in_user(self) -> str:
        """A user with an open session (deactivation ends it)."""
        name = self.user()
        self.session(name)
        return name

    def deactivated_user(self) -> str:
        name = self.user()
        self.container.deactivate_user().execute(self.root, name)
        return name

    def session(self, username: str) -> str:
        """A new session of ``username``: the cookie that carries it."""
        token = self.container.log_in().execute(username, PASSWORD, None).token
        return f"{COOKIE}={token}"

    def admin(self) -> str:
        """A new session of the super admin."""
        return self.session(self.root_name)

    # -- calls ------------------------------------------------------------------------

    def _signup(self) -> Call:
        name = self.fresh_name()
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        return Call("signup", 201, body=body)

    def _login(self) -> Call:
        body = {"username": self.user(), "password": PASSWORD}
        return Call("login", 204, body=body)

    def _create_user(self) -> Call:
        name = self.fresh_name()
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        return Call("create_user", 201, body=body, cookie=self.admin())

    def _list_users(self) -> Call:
        # A full page to list, as in use, rather than the super admin alone.
        if not self._page_filled:
            for _ in range(PAGE):
                self.user()
            self._page_filled = True
        query = {"limit": str(PAGE)}
        return Call("list_users", 200, query=query, cookie=self.admin())

    def _change_password(self) -> Call:
        # Logged in on two devices: the change ends the other session.
        name = self.user()
        self.session(name)
        return Call(
            "change_password",
            204,
            f"/api/v1/users/{name}/password",
            body={"password": NEW_PASSWORD, "current_password": PASSWORD},
            cookie=self.session(name),
        )

    def _admin_route(self, name: str, target: str) -> Call:
        action = BY_NAME[name].path.rsplit("/", 1)[1]
        return Call(name, 204, f"/api/v1/users/{target}/{action}", cookie=self.admin())


def _is_plain_get(name: str) -> bool:
    """A public GET without parameters (docs, say): a bare request answers 200."""
    endpoint = BY_NAME.get(name)
    return (
        endpoint is not None
        and endpoint.method == "GET"
        and not endpoint.permissions
        and "{" not in endpoint.path
    )
