"""The endpoint catalog: every HTTP endpoint once, as plain data.

The CDK app builds one Lambda and one route per entry and grants exactly its
``permissions``; the local dev server mounts every entry's router; tests check that
catalog, routers and the DynamoDB calls each endpoint really makes all agree.

Permissions name a resource and an access: ``users:read``, ``users:write``,
``sessions:read``, ``sessions:write``, ``tasks:read``, ``tasks:write`` (tables);
``queue:send`` (the task queue); ``exports:read``, ``exports:write`` (the export
bucket); ``email:send`` (SES); ``stripe:api`` (read the Stripe secret key from
Secrets Manager: the function calls Stripe), ``stripe:webhook`` (read the webhook
signing secret).

``WORKERS`` lists the functions that are not behind a route: queue consumers and
scheduled jobs, with their trigger and permissions, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
STRIPE_API = "stripe:api"
STRIPE_WEBHOOK = "stripe:webhook"

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
        # Queues the welcome email: a task record and a queue message; counts
        # the client's emails (sessions table).
        (
            USERS_READ,
            USERS_WRITE,
            SESSIONS_READ,
            SESSIONS_WRITE,
            TASKS_WRITE,
            QUEUE_SEND,
        ),
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
    Endpoint(
        "export_users",
        "POST",
        "/api/v1/users/export",
        "functions.http.export_users",
        (*_AUTHENTICATED, TASKS_WRITE, QUEUE_SEND),
    ),
    Endpoint(
        "get_task",
        "GET",
        "/api/v1/tasks/{task_id}",
        "functions.http.get_task",
        (*_AUTHENTICATED, TASKS_READ),
    ),
    # Email verification and password reset. Link tokens live in the sessions
    # table: using one is a conditional delete (sessions:write).
    Endpoint(
        "verify_email",
        "POST",
        "/api/v1/account/verify-email",
        "functions.http.verify_email",
        (USERS_READ, USERS_WRITE, SESSIONS_WRITE),
    ),
    Endpoint(
        "resend_verification",
        "POST",
        "/api/v1/account/verify-email/resend",
        "functions.http.resend_verification",
        (*_AUTHENTICATED, TASKS_WRITE, QUEUE_SEND),
    ),
    Endpoint(
        "password_reset",
        "POST",
        "/api/v1/account/password-reset",
        "functions.http.password_reset",
        # Only queues: the worker looks the address up, so the request does the
        # same work whether or not it is registered; counts the emails per
        # address and client (sessions table).
        (SESSIONS_WRITE, TASKS_WRITE, QUEUE_SEND),
    ),
    Endpoint(
        "password_reset_confirm",
        "POST",
        "/api/v1/account/password-reset/confirm",
        "functions.http.password_reset_confirm",
        # Ending every session Queries the sessions index (sessions:read).
        (USERS_READ, USERS_WRITE, SESSIONS_READ, SESSIONS_WRITE),
    ),
    # Billing. The plan, subscription state and Stripe customer are stored on the
    # user item (users:write); the customer's claim marker sits beside it.
    Endpoint(
        "billing_plans", "GET", "/api/v1/billing/plans", "functions.http.billing_plans"
    ),
    Endpoint(
        "billing_checkout",
        "POST",
        "/api/v1/billing/checkout",
        "functions.http.billing_checkout",
        (*_AUTHENTICATED, USERS_WRITE, STRIPE_API),
    ),
    Endpoint(
        "billing_portal",
        "POST",
        "/api/v1/billing/portal",
        "functions.http.billing_portal",
        (*_AUTHENTICATED, STRIPE_API),
    ),
    Endpoint(
        "billing_subscription",
        "GET",
        "/api/v1/billing/subscription",
        "functions.http.billing_subscription",
        _AUTHENTICATED,
    ),
    Endpoint(
        "billing_change",
        "POST",
        "/api/v1/billing/subscription/change",
        "functions.http.billing_change",
        (*_AUTHENTICATED, USERS_WRITE, STRIPE_API),
    ),
    Endpoint(
        "billing_cancel",
        "POST",
        "/api/v1/billing/subscription/cancel",
        "functions.http.billing_cancel",
        (*_AUTHENTICATED, USERS_WRITE, STRIPE_API),
    ),
    Endpoint(
        "billing_resume",
        "POST",
        "/api/v1/billing/subscription/resume",
        "functions.http.billing_resume",
        (*_AUTHENTICATED, USERS_WRITE, STRIPE_API),
    ),
    Endpoint(
        "billing_invoices",
        "GET",
        "/api/v1/billing/invoices",
        "functions.http.billing_invoices",
        (*_AUTHENTICATED, STRIPE_API),
    ),
    # Stripe's webhook: no session, a signature instead. Processed event ids live
    # in the tasks table (tasks:read to skip a duplicate, tasks:write to record it),
    # emails go through the task queue, and a subscription is re-read from Stripe
    # when two events carry the same timestamp (stripe:api).
    Endpoint(
        "stripe_webhook",
        "POST",
        "/api/v1/webhooks/stripe",
        "functions.http.stripe_webhook",
        (
            USERS_READ,
            USERS_WRITE,
            TASKS_READ,
            TASKS_WRITE,
            QUEUE_SEND,
            STRIPE_API,
            STRIPE_WEBHOOK,
        ),
    ),
)

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


@dataclass(frozen=True, slots=True)
class Worker:
    """A function behind no route: ``trigger`` is ``queue`` (the task queue's
    messages, in batches; consuming them needs no permission listed here, the
    event source brings it) or ``schedule`` (a timetable)."""

    name: str
    module: str
    trigger: Literal["queue", "schedule"]
    permissions: tuple[str, ...] = ()


WORKERS: tuple[Worker, ...] = (
    Worker(
        "task_worker",
        "functions.workers.tasks",
        "queue",
        # The jobs' needs: the export reads users, writes the file and signs its
        # link (a presigned GET is only as good as the signer's exports:read).
        # The email jobs send (email:send), look users up and issue link tokens
        # (sessions:write); the purge removes users (users:write) and ends their
        # sessions (sessions:read for the index, sessions:write). The billing
        # reconciliation re-reads subscriptions from Stripe (stripe:api).
        (
            TASKS_READ,
            TASKS_WRITE,
            USERS_READ,
            EXPORTS_WRITE,
            EXPORTS_READ,
            EMAIL_SEND,
            USERS_WRITE,
            SESSIONS_READ,
            SESSIONS_WRITE,
            STRIPE_API,
        ),
    ),
    # EventBridge rules (functions.resources.SCHEDULES) name a job; the scheduler
    # submits it as a task, so it runs on the task worker with its retries.
    Worker(
        "scheduler",
        "functions.workers.scheduled",
        "schedule",
        (TASKS_WRITE, QUEUE_SEND),
    ),
)

WORKERS_BY_NAME = {worker.name: worker for worker in WORKERS}
