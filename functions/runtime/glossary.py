"""What each field and parameter of the API means, with an example: one glossary
that the OpenAPI document's schemas and parameters are described from.

A field is looked up as ``Schema.field`` first, then by its name alone, so a name
that means the same everywhere (``email``, ``currency``) is written once.
"""

from __future__ import annotations

from typing import Any

TIME = "2026-01-31T12:00:00Z"
USER_ID = "0f9c2d4e6a8b4c1d9e7f5a3b1c2d4e6f"
TASK_ID = "5f2b9c1e8a7d4e3fb6a01c2d3e4f5a6b"
CURSOR = "eyJrIjoiLi4uIn0.c2lnbmF0dXJl"
ORG_ID = "7d1e4b2a9c8f4e6db3a50f1c2e3d4b5a"
INVITATION_ID = "3c9a1f7e2b5d4c8a9e6f1b2d3c4a5e6f"
RIGHTS = {"features": ["users_export"], "limits": {"seats": 10}, "grace_until": None}

# name -> (what it means, an example)
FIELDS: dict[str, tuple[str, Any]] = {
    "id": ("The user's id", USER_ID),
    "username": (
        "5 to 20 of A-Z a-z 0-9 . _ -, starting and ending with a letter or digit",
        "jane.doe",
    ),
    "email": ("An email address", "jane.doe@example.com"),
    "password": ("At least 8 characters", "correct-horse-battery"),
    "LogInIn.password": ("The account's password", "correct-horse-battery"),
    "current_password": (
        "The caller's current password: required to change one's own",
        "old-correct-horse",
    ),
    "role": ("user, admin or super_admin", "user"),
    "CreateUserIn.role": ("user, or admin (only a super admin creates admins)", "user"),
    "is_active": ("False once deactivated: the user cannot log in", True),
    "email_verified": ("Whether the email address is verified", True),
    "created_at": ("When it was created (ISO 8601, UTC)", TIME),
    "updated_at": ("When it last changed (ISO 8601, UTC)", TIME),
    "token": ("The token from the email's link", "Vb3kX9yq2Lr8Tn1Pc5Hd"),
    "plan": ("A plan's key (see GET /api/v1/billing/plans)", "pro"),
    "AccountDetail.plan": ("The plan in force", "pro"),
    "SubscriptionOut.plan": ("The plan in force now", "pro"),
    "subscribed_plan": ("The plan the subscription is for", "pro"),
    "subscription_status": ("The subscription's status, if any", "active"),
    "status": ("The state it is in", "active"),
    "Health.status": ("Always ok", "ok"),
    "TaskAccepted.status": ("Always queued", "queued"),
    "TaskOut.status": ("queued, running, succeeded or failed", "succeeded"),
    "InvoiceOut.status": ("Stripe's: draft, open, paid, uncollectible or void", "paid"),
    "SubscriptionOut.status": (
        "trialing, active, past_due, canceled, incomplete or unpaid",
        "active",
    ),
    "interval": ("Billed every month or year", "month"),
    "currency": ("Lowercase ISO 4217", "usd"),
    "payment_method": ("card (Stripe Checkout) or bank_transfer (an invoice)", "card"),
    "proration_token": (
        "A preview's token: the change then charges exactly what it showed",
        "eyJhbW91bnQiOjEyMDB9.c2ln",
    ),
    "amount_due": ("Owed, in the currency's smallest unit (cents)", 1200),
    "amount_paid": ("Paid, in the currency's smallest unit (cents)", 1200),
    "unit_amount": ("The price, in the currency's smallest unit (cents)", 1200),
    "current_period_end": ("When the period paid for ends", TIME),
    "cancel_at_period_end": ("Whether it ends when the period does", False),
    "trial_end": ("When the trial ends, if any", TIME),
    "grace_until": (
        "After a failed payment: paid features last until then",
        TIME,
    ),
    "entitlements": ("What the plan in force allows", RIGHTS),
    "features": ("The features included", ["users_export"]),
    "limits": ("Each limit by name", {"seats": 10}),
    "url": ("Where to send the browser next", "https://checkout.stripe.com/c/pay/cs_1"),
    "items": ("This page's items", []),
    "next_cursor": ("The next page's cursor; null on the last page", CURSOR),
    "cursor": ("A previous page's next_cursor", CURSOR),
    "limit": ("At most this many items", 20),
    "sort": ("The field to sort by", "created_at"),
    "order": ("asc or desc", "desc"),
    "detail": ("What happens next", "A link to reset the password is on its way."),
    "queued": ("Whether a new email was queued: false when already verified", True),
    "task_id": ("The task's id", TASK_ID),
    "TaskOut.id": ("The task's id", TASK_ID),
    "name": ("Its name", "users_export"),
    "attempts": ("How many times it has run", 1),
    "result": (
        "Once it has succeeded: an export's url, rows, bytes and expires_at",
        {"url": "https://exports.example.com/users.csv", "rows": 2, "bytes": 96},
    ),
    "error": ("Why the last attempt failed, if it did", None),
    "InvoiceOut.id": ("Stripe's invoice id", "in_1QbXyZ"),
    "number": ("The invoice's number", "STRATA-0001"),
    "hosted_invoice_url": ("The invoice's page", "https://invoice.stripe.com/i/1"),
    "invoice_pdf": ("The invoice as a PDF", "https://pay.stripe.com/invoice/1/pdf"),
    "created": ("When it was made", TIME),
    "SubscriptionOut.id": ("Stripe's subscription id", "sub_1QbXyZ"),
    "OrgSubscriptionOut.id": ("Stripe's subscription id", "sub_1QbXyZ"),
    "PriceOut.id": ("Stripe's price id", "price_1QbXyZ"),
    "key": ("The plan's key", "pro"),
    "PlanOut.name": ("The plan's name", "Pro"),
    "prices": ("Its prices, by interval and currency", []),
    "bank_transfer": ("Whether it can be paid by bank transfer", False),
    "trial_days": ("Days of free trial on a first purchase", 14),
    "received": ("Always true: the event was accepted", True),
    "outcome": ("applied, duplicate (seen before) or ignored", "applied"),
    "Problem.type": ("Always about:blank", "about:blank"),
    "title": ("The status's phrase", "Conflict"),
    "Problem.status": ("The HTTP status", 409),
    "Problem.detail": ("What went wrong, for people", "the username is taken"),
    "code": ("What went wrong, stable, for programs", "username_taken"),
    "errors": (
        "422 only: each invalid input",
        [{"loc": ["body", "email"], "msg": "x"}],
    ),
    "plans": ("402 plan_required only: the plans that include the feature", ["pro"]),
    "payment_url": (
        "402 payment_failed only: where to pay",
        "https://invoice.stripe.com/i/1",
    ),
    "loc": ("Where: body, query or path, then the field", ["body", "email"]),
    "msg": ("What is wrong with it", "value is not a valid email address"),
    "Stripe-Signature": ("Stripe's signature of the raw body", "t=1767261620,v1=5e1"),
    "preview": ("Only show what the change would invoice now", False),
    # Organizations.
    "org_id": ("The organization's id", ORG_ID),
    "OrgOut.id": ("The organization's id", ORG_ID),
    "OrgDetail.id": ("The organization's id", ORG_ID),
    "RenamedOut.id": ("The organization's id", ORG_ID),
    "OrgOut.name": ("The organization's name", "Acme"),
    "OrgDetail.name": ("The organization's name", "Acme"),
    "RenamedOut.name": ("The organization's new name", "Acme Europe"),
    "CreateOrganizationIn.name": (
        "1 to 100 visible characters, trimmed",
        "Acme",
    ),
    "RenameOrganizationIn.name": (
        "1 to 100 visible characters, trimmed",
        "Acme Europe",
    ),
    "OrgOut.role": ("The caller's role in it: owner, admin or member", "owner"),
    "OrgDetail.role": ("The caller's role in it: owner, admin or member", "owner"),
    "OrgDetail.plan": ("The organization's plan in force", "pro"),
    "seats_used": ("Members now (each takes a seat)", 3),
    "seat_limit": ("The seats the plan allows; null for no limit", 5),
    "seats_paid": (
        "The seats the subscription bills (Stripe's quantity, as its webhook last "
        "reported it); null without a live subscription",
        3,
    ),
    "user_id": ("A user's id", USER_ID),
    "TransferOwnershipIn.user_id": ("The member who becomes an owner", USER_ID),
    "MemberOut.user_id": ("The member's user id", USER_ID),
    "MemberOut.role": ("owner, admin or member", "member"),
    "joined_at": ("When they joined", TIME),
    "ChangeMemberRoleIn.role": (
        "owner, admin or member (an admin may only make members)",
        "admin",
    ),
    "InviteMemberIn.email": ("The address the invitation goes to", "sam@example.com"),
    "InviteMemberIn.role": (
        "The role on joining: owner, admin or member (an admin invites members)",
        "member",
    ),
    "InvitationOut.id": ("The invitation's id", INVITATION_ID),
    "PendingInvitationOut.id": ("The invitation's id", INVITATION_ID),
    "InvitationOut.email": ("The invited address (lower-cased)", "sam@example.com"),
    "PendingInvitationOut.email": (
        "The invited address (lower-cased): revoke by it",
        "sam@example.com",
    ),
    "InvitationOut.role": ("The role on joining", "member"),
    "PendingInvitationOut.role": ("The role on joining", "member"),
    "invited_by": ("The user id of who invited", USER_ID),
    "expires_at": ("When the link stops working", TIME),
    "AuditEntryOut.id": ("The entry's id", INVITATION_ID),
    "actor": ("The user id of who acted", USER_ID),
    "action": (
        "What was done: org.created, org.renamed, invitation.created, "
        "invitation.revoked, invitation.accepted, member.role_changed, "
        "member.removed, member.left, ownership.transferred (the platform's log: "
        "user.admin_granted, user.activated, ...)",
        "member.role_changed",
    ),
    "target": ("To whom or what: a user id, an email or the organization", USER_ID),
    "at": ("When (ISO 8601, UTC)", TIME),
    "request_id": ("The request's correlation id, if known", "d23a1dee8b73476a"),
    "details": ("What else the action says (old and new role)", {"to": "admin"}),
}


def _entry(schema: str, name: str) -> tuple[str, Any] | None:
    return FIELDS.get(f"{schema}.{name}") or FIELDS.get(name)


def describe_fields(document: dict[str, Any]) -> None:
    """Give every schema property and parameter of ``document`` the glossary's
    description and example, where the models do not say more themselves."""
    for schema_name, schema in (
        document.get("components", {}).get("schemas", {}).items()
    ):
        for name, field in schema.get("properties", {}).items():
            found = _entry(schema_name, name)
            if found is None:
                continue
            description, example = found
            field.setdefault("description", description)
            field.setdefault("examples", [example])
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                found = _entry("", parameter["name"])
                if found is not None:
                    parameter.setdefault("description", found[0])
                    parameter.setdefault("example", found[1])
