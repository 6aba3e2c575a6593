"""The dev front end: the pages the API sends people to, served by `strata dev` on
the stack's own port, never deployed.

Emails link to ``/verify-email``, ``/reset-password`` and ``/accept-invitation``,
Checkout returns to ``/billing/success`` and ``/billing/cancel``, the billing portal
to ``/account``. In
AWS those are the product's own front end (``STRATA_APP_BASE_URL``); locally these
pages stand in for it. They are plain server-rendered HTML with a few lines of
JavaScript each that call the API the way a real front end would (JSON over
``fetch``, the session cookie riding along), so the local story can be clicked
through in a browser.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
API = "/api/v1"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        keep_trailing_newline=True,
    )


def render(template: str, **context: str) -> HTMLResponse:
    """``template`` with ``context`` (escaped), as an uncacheable HTML page."""
    html = _environment().get_template(template).render(api=API, **context)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


@router.get("/account")
def account() -> HTMLResponse:
    return render("account.html", title="Your account")


@router.get("/verify-email")
def verify_email(token: str = Query(default="", max_length=512)) -> HTMLResponse:
    return render("verify_email.html", title="Verify your email", token=token)


@router.get("/reset-password")
def reset_password(token: str = Query(default="", max_length=512)) -> HTMLResponse:
    return render("reset_password.html", title="Choose a new password", token=token)


@router.get("/accept-invitation")
def accept_invitation(token: str = Query(default="", max_length=512)) -> HTMLResponse:
    return render("accept_invitation.html", title="Join an organization", token=token)


@router.get("/billing/success")
def billing_success(
    session_id: str = Query(default="", max_length=256),
) -> HTMLResponse:
    return render("billing_success.html", title="Thank you", session_id=session_id)


@router.get("/billing/cancel")
def billing_cancel() -> HTMLResponse:
    return render("billing_cancel.html", title="Checkout canceled")
