"""The endpoint catalog: every HTTP endpoint once, as plain data.

Each endpoint module of ``functions/http`` declares its endpoint with
``@api.endpoint(...)`` (``functions.runtime.endpoint``, behind the facade
``functions.runtime.api``). This module reads those
declarations from the source with ``ast``, without importing the modules (or
FastAPI), so the CDK app, the local tools and the tests share one list that costs a
parse to build: the CDK app builds one Lambda and one route per entry and grants
exactly its ``permissions`` (the names of ``functions.permissions``); the local dev
server mounts every entry's router; the sample events, the round-trip budgets and
the README's API table are derived from it.

``WORKERS`` lists the functions that are not behind a route: a task worker per
job family, each consuming its family's queue, and the scheduler, with their
trigger and permissions.

``python -m functions.catalog readme`` rewrites the README's API table from the
declarations; ``python -m functions.catalog readme --check`` only says whether it is
current.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from functions import permissions
from functions.permissions import (
    AUTHENTICATED,
    EMAIL_SEND,
    EXPORTS_READ,
    EXPORTS_WRITE,
    ORGS_READ,
    ORGS_SEATED,
    ORGS_WRITE,
    QUEUE_BILLING,
    QUEUE_EMAIL,
    QUEUE_USERS,
    SESSIONS_BY_USER,
    SESSIONS_READ,
    SESSIONS_WRITE,
    STRIPE_API,
    STRIPE_WEBHOOK,
    TASKS_READ,
    TASKS_WRITE,
    USERS_LIST,
    USERS_READ,
    USERS_SUBSCRIBED,
    USERS_UNVERIFIED,
    USERS_WRITE,
)

__all__ = [
    "AUTHENTICATED",
    "BY_NAME",
    "EMAIL_SEND",
    "ENDPOINTS",
    "EXPORTS_READ",
    "EXPORTS_WRITE",
    "QUEUE_BILLING",
    "QUEUE_EMAIL",
    "QUEUE_USERS",
    "SESSIONS_READ",
    "SESSIONS_WRITE",
    "STRIPE_API",
    "STRIPE_WEBHOOK",
    "TASKS_READ",
    "TASKS_WRITE",
    "USERS_READ",
    "USERS_WRITE",
    "WORKERS",
    "WORKERS_BY_NAME",
    "Endpoint",
    "Worker",
]

HTTP_DIR = Path(__file__).resolve().parent / "http"
ROOT = HTTP_DIR.parents[1]
README = ROOT / "README.md"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAMETER = re.compile(r"\{([^}/]+)\}")
# What a sample request puts in a path parameter, unless its endpoint says.
PATH_SAMPLES = {
    "username": "jane.doe",
    "task_id": "5f2b9c1e8a7d4e3fb6a01c2d3e4f5a6b",
    "org_id": "7d1e4b2a9c8f4e6db3a50f1c2e3d4b5a",
    "user_id": "0f9c2d4e6a8b4c1d9e7f5a3b1c2d4e6f",
    "email": "sam@example.com",
}
# The names a route's signature uses for "the session cookie is required" (bare, or
# as ``api.<name>``).
_SESSION_DEPENDENCIES = frozenset(
    {"CurrentAuth", "LoggedIn", "require_feature", "logged_in_with"}
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    method: str
    path: str
    module: str
    permissions: tuple[str, ...] = ()
    # False for the routes that serve or lead to the docs rather than the API.
    in_docs: bool = True
    # The module's docstring: what the endpoint does, for people.
    summary: str = ""
    # Who may call it, for the README; by default what the session requirement says.
    who: str = ""
    # The success status: 204 for a route that returns nothing, unless it says.
    status: int = 200
    requires_session: bool = False
    # The most DynamoDB calls and Stripe API requests one successful request may
    # make (None: not declared, which a test reports).
    budget: int | None = None
    stripe: int = 0
    # What a sample request sends: ``path`` parameters, ``query``, a JSON ``body``
    # (or ``body_file``, a file under events/), ``headers``.
    sample: dict[str, Any] = field(default_factory=dict)
    # The business metric each answer status adds one to (the dashboard's).
    counts: dict[int, str] = field(default_factory=dict)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


class DeclarationError(ValueError):
    """An endpoint module whose declaration the catalog cannot read."""


def _permission(node: ast.Attribute) -> str | None:
    """``X`` of ``p.X`` or ``api.p.X`` (``functions.permissions`` as the facade
    names it), else None."""
    base = node.value
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
        base = ast.Name(base.attr) if base.value.id == "api" else base
    return node.attr if isinstance(base, ast.Name) and base.id == "p" else None


def _value(node: ast.expr, where: str, names: dict[str, Any]) -> Any:
    """A literal, or a name of ``functions.permissions`` (bare or as ``api.p.X``) or
    of a constant the module assigned a literal; tuples may splat names."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and (name := _permission(node)):
        if not name.isupper() or not hasattr(permissions, name):
            raise DeclarationError(f"{where}: {name} is not in functions.permissions")
        return getattr(permissions, name)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if not node.id.isupper() or not hasattr(permissions, node.id):
            raise DeclarationError(
                f"{where}: {node.id} is neither a name of functions.permissions nor "
                "a constant of the module: a declaration holds literals and those"
            )
        return getattr(permissions, node.id)
    if isinstance(node, ast.Tuple | ast.List):
        items: list[Any] = []
        for item in node.elts:
            if isinstance(item, ast.Starred):
                items.extend(_value(item.value, where, names))
            else:
                items.append(_value(item, where, names))
        return tuple(items)
    if isinstance(node, ast.Dict):
        return {
            _value(key, where, names): _value(value, where, names)
            for key, value in zip(node.keys, node.values, strict=True)
            if key is not None
        }
    raise DeclarationError(f"{where}: not a literal: {ast.unparse(node)}")


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _constants(tree: ast.Module) -> dict[str, Any]:
    """The module's upper-case names assigned a literal, in order."""
    found: dict[str, Any] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(target := node.targets[0], ast.Name)
            and target.id.isupper()
        ):
            try:
                found[target.id] = _value(node.value, "", found)
            except DeclarationError:
                continue  # not a literal: only an error if a declaration uses it
    return found


def _named(node: ast.AST, *names: str) -> bool:
    """Whether ``node`` is one of ``names``, bare or as an attribute (``api.X``)."""
    return (isinstance(node, ast.Name) and node.id in names) or (
        isinstance(node, ast.Attribute) and node.attr in names
    )


def _declaration(tree: ast.Module) -> tuple[_Function, ast.Call] | None:
    found = [
        (node, decorator)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call) and _named(decorator.func, "endpoint")
    ]
    if len(found) > 1:
        raise DeclarationError("more than one @endpoint: one endpoint per module")
    return found[0] if found else None


def _returns_nothing(function: _Function) -> bool:
    returns = function.returns
    return isinstance(returns, ast.Constant) and returns.value is None


def _requires_session(function: _Function) -> bool:
    arguments = [*function.args.args, *function.args.kwonlyargs]
    return any(
        _named(node, *_SESSION_DEPENDENCIES)
        for argument in arguments
        if argument.annotation is not None
        for node in ast.walk(argument.annotation)
    )


_KEYWORDS = {
    "permissions",
    "in_docs",
    "who",
    "status",
    "budget",
    "stripe",
    "sample",
    "counts",
}


def read_endpoint(path: Path) -> Endpoint | None:
    """The endpoint that the module at ``path`` declares, or None if it declares
    none."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    try:
        declared = _declaration(tree)
    except DeclarationError as exc:
        raise DeclarationError(f"{path}: {exc}") from None
    if declared is None:
        return None
    function, call = declared
    where = f"{path}:{call.lineno}"
    names = _constants(tree)
    if not call.args or not isinstance(
        route := _value(call.args[0], where, names), str
    ):
        raise DeclarationError(f'{where}: @endpoint needs "METHOD /path" first')
    method, _, route_path = route.partition(" ")
    fields: dict[str, Any] = {}
    if len(call.args) > 1:
        fields["permissions"] = _value(call.args[1], where, names)
    for keyword in call.keywords:
        if keyword.arg in _KEYWORDS:
            fields[keyword.arg] = _value(keyword.value, where, names)
    # ``@api.sample(...)``, ``@api.who(...)``, ``@api.counts(...)`` under
    # ``@api.endpoint``.
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        said = [k for k in ("sample", "who", "counts") if _named(decorator.func, k)]
        if said and said[0] in fields:
            raise DeclarationError(f"{where}: {said[0]}= and @{said[0]}: say one")
        if said == ["sample"]:
            parts = decorator.keywords
            fields["sample"] = {k.arg: _value(k.value, where, names) for k in parts}
        if said in (["who"], ["counts"]) and decorator.args:
            fields[said[0]] = _value(decorator.args[0], where, names)
    # A route that may call Stripe makes one request unless it says.
    uses_stripe = permissions.uses_stripe(fields.get("permissions", ()))
    fields.setdefault("stripe", 1 if uses_stripe else 0)
    requires_session = _requires_session(function)
    fields.setdefault("who", "logged in" if requires_session else "anyone")
    if _returns_nothing(function):
        fields.setdefault("status", 204)
    sample = fields.setdefault("sample", {})
    parameters = _PARAMETER.findall(route_path)
    defaults = {p: PATH_SAMPLES[p] for p in parameters if p in PATH_SAMPLES}
    if defaults:
        sample["path"] = {**defaults, **sample.get("path", {})}
    return Endpoint(
        name=path.stem,
        method=method,
        path=route_path,
        module=f"functions.http.{path.stem}",
        summary=" ".join((ast.get_docstring(tree) or "").split("\n\n")[0].split()),
        requires_session=requires_session,
        **fields,
    )


def read_endpoints(directory: Path = HTTP_DIR) -> tuple[Endpoint, ...]:
    """Every endpoint declared in ``directory``, by path then method."""
    found = []
    for path in sorted(directory.glob("*.py")):
        endpoint = read_endpoint(path)
        if endpoint is None and path.stem != "__init__":
            raise DeclarationError(
                f"{path}: no @api.endpoint(...) on its path function: every module of "
                "functions/http is one endpoint"
            )
        found.extend([endpoint] if endpoint else [])
    return tuple(sorted(found, key=lambda e: (e.path, e.method)))


ENDPOINTS: tuple[Endpoint, ...] = read_endpoints()

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


@dataclass(frozen=True, slots=True)
class Worker:
    """A function behind no route: ``trigger`` is ``queue`` (its ``family``'s task
    queue's messages, in batches; consuming them needs no permission listed here,
    the event source brings it) or ``schedule`` (a timetable)."""

    name: str
    module: str
    trigger: Literal["queue", "schedule"]
    permissions: tuple[str, ...] = ()
    family: str | None = None


# The task workers, one per job family (core.application.tasks.JOB_FAMILIES), each
# with only what its family's jobs touch: a job of one family cannot reach what
# another's needs. All claim and finish tasks (tasks:read, tasks:write).
WORKERS: tuple[Worker, ...] = (
    # send_email, send_verification_email, send_password_reset, send_invitation:
    # send (email:send), look users up (users:read) and issue link tokens
    # (sessions:write; an invitation's token is kept on the invitation, in the orgs
    # table: orgs:read, orgs:write). No user is deleted, no Stripe call, no export.
    Worker(
        "email_worker",
        "functions.workers.email_tasks",
        "queue",
        (
            TASKS_READ,
            TASKS_WRITE,
            USERS_READ,
            SESSIONS_WRITE,
            ORGS_READ,
            ORGS_WRITE,
            EMAIL_SEND,
        ),
        family="email",
    ),
    # export_users reads users through their listing (users:list), writes the
    # file and signs its link (a presigned GET is only as good as the signer's
    # exports:read); purge_unverified finds them by its index (users:unverified),
    # removes them (users:write) and ends their sessions (sessions:by-user,
    # sessions:write). No SES, no Stripe.
    Worker(
        "users_worker",
        "functions.workers.users_tasks",
        "queue",
        (
            TASKS_READ,
            TASKS_WRITE,
            USERS_READ,
            USERS_WRITE,
            USERS_LIST,
            USERS_UNVERIFIED,
            SESSIONS_BY_USER,
            SESSIONS_WRITE,
            EXPORTS_WRITE,
            EXPORTS_READ,
        ),
        family="users",
    ),
    # reconcile_subscriptions re-reads subscriptions from Stripe (stripe:api), walks
    # the subscribed users (users:subscribed) and repairs what it finds
    # (users:write). No SES, no sessions, no export.
    Worker(
        "billing_worker",
        "functions.workers.billing_tasks",
        "queue",
        (
            TASKS_READ,
            TASKS_WRITE,
            USERS_READ,
            USERS_WRITE,
            USERS_SUBSCRIBED,
            STRIPE_API,
            ORGS_READ,
            ORGS_SEATED,
        ),
        family="billing",
    ),
    # EventBridge rules (functions.resources.SCHEDULES) name a job; the scheduler
    # submits it as a task, so it runs on its family's worker with its retries:
    # the purge on the users worker, the reconciliation on the billing worker.
    Worker(
        "scheduler",
        "functions.workers.scheduled",
        "schedule",
        (TASKS_WRITE, QUEUE_USERS, QUEUE_BILLING),
    ),
)

WORKERS_BY_NAME = {worker.name: worker for worker in WORKERS}


# -- the README's API table --------------------------------------------------------

TABLE_BEGIN = "<!-- api-table: generated by `python -m functions.catalog readme` -->"
TABLE_END = "<!-- /api-table -->"
REGENERATE = "python -m functions.catalog readme"


def api_table(endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> str:
    rows = [
        f"| {e.method} `{e.path}` | {e.who} | {e.status}: {e.summary} |"
        for e in endpoints
    ]
    return "\n".join(["| method and path | who | answer |", "|---|---|---|", *rows])


def readme_with_table(text: str, endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> str:
    """``text`` (a README) with the table between the markers made current."""
    before, begin, rest = text.partition(TABLE_BEGIN)
    _, end, after = rest.partition(TABLE_END)
    if not begin or not end:
        raise DeclarationError(
            f"the README has no API table markers: {TABLE_BEGIN} ... {TABLE_END}"
        )
    return f"{before}{TABLE_BEGIN}\n{api_table(endpoints)}\n{TABLE_END}{after}"


def main(argv: list[str]) -> int:
    if argv[:1] != ["readme"]:
        print(f"usage: {REGENERATE} [--check]", file=sys.stderr)
        return 2
    current = README.read_text(encoding="utf-8")
    wanted = readme_with_table(current)
    if "--check" in argv:
        if current != wanted:
            print(f"the README's API table is stale: run {REGENERATE}")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
