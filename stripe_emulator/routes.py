"""The emulator's URL table."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stripe_emulator.listing import page
from stripe_emulator.pages import HostedPages
from stripe_emulator.responses import Response

if TYPE_CHECKING:
    from stripe_emulator.server import Emulator


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    kind: str  # api, page or control
    run: Callable[..., Any]


def build_routes(emulator: Emulator) -> list[Route]:
    """Every URL the emulator answers: the API, the hosted pages, the control
    endpoints; the first route whose method and pattern match serves a request."""
    s, c, hosted = emulator.state, emulator.control, HostedPages(emulator.state)
    ident = r"([^/]+)"

    def api(method: str, path: str, run: Callable[..., Any]) -> Route:
        return Route(method, re.compile(path.replace("{id}", ident)), "api", run)

    def hosted_page(path: str, run: Callable[..., Response]) -> Route:
        return Route("GET", re.compile(path.replace("{id}", ident)), "page", run)

    def control(method: str, name: str, run: Callable[..., Any]) -> Route:
        path = "/_emulator/" + name.replace("{id}", ident)
        return Route(method, re.compile(path), "control", run)

    return [
        api("POST", "/v1/customers", s.create_customer),
        api(
            "GET",
            "/v1/customers",
            lambda p: page(
                [
                    c
                    for c in reversed(s.customers.values())
                    if not p.get("email") or c["email"] == p.get("email")
                ],
                p,
                "/v1/customers",
                "customer",
            ),
        ),
        api(
            "GET",
            "/v1/customers/{id}",
            lambda p, i: s.get(s.customers, "customer", i),
        ),
        api("POST", "/v1/customers/{id}", lambda p, i: s.update_customer(i, p)),
        api("DELETE", "/v1/customers/{id}", lambda p, i: s.delete_customer(i)),
        api(
            "GET",
            "/v1/prices",
            lambda p: page(list(s.prices.values()), p, "/v1/prices", "price"),
        ),
        api("GET", "/v1/prices/{id}", lambda p, i: s.get(s.prices, "price", i)),
        api("GET", "/v1/products/{id}", lambda p, i: s.get(s.products, "product", i)),
        api("POST", "/v1/webhook_endpoints", emulator.create_webhook_endpoint),
        api(
            "GET",
            "/v1/webhook_endpoints",
            lambda p: page(
                list(reversed(emulator.webhook_endpoints)),
                p,
                "/v1/webhook_endpoints",
                "webhook_endpoint",
            ),
        ),
        api("POST", "/v1/checkout/sessions", s.create_checkout_session),
        api(
            "GET",
            "/v1/checkout/sessions/{id}",
            lambda p, i: s.get(s.sessions, "checkout.session", i),
        ),
        api("POST", "/v1/billing_portal/sessions", s.create_portal_session),
        api("POST", "/v1/subscriptions", s.create_subscription),
        api(
            "GET",
            "/v1/subscriptions",
            lambda p: page(
                s.list_subscriptions(p), p, "/v1/subscriptions", "subscription"
            ),
        ),
        api(
            "GET",
            "/v1/subscriptions/{id}",
            lambda p, i: s.get(s.subscriptions, "subscription", i),
        ),
        api(
            "POST",
            "/v1/subscriptions/{id}",
            lambda p, i: s.update_subscription(i, p),
        ),
        api(
            "DELETE",
            "/v1/subscriptions/{id}",
            lambda p, i: s.cancel_subscription(i, p),
        ),
        api("POST", "/v1/invoices/create_preview", s.preview_invoice),
        api(
            "GET",
            "/v1/invoices",
            lambda p: page(s.list_invoices(p), p, "/v1/invoices", "invoice"),
        ),
        api("GET", "/v1/invoices/{id}", lambda p, i: s.get(s.invoices, "invoice", i)),
        api(
            "POST",
            "/v1/invoices/{id}/finalize",
            lambda p, i: s.finalize_invoice(i),
        ),
        api(
            "GET",
            "/v1/events",
            lambda p: page(
                [
                    e
                    for e in reversed(s.events.values())
                    if not p.get("type") or e["type"] == p.get("type")
                ],
                p,
                "/v1/events",
                "event",
            ),
        ),
        api("GET", "/v1/events/{id}", lambda p, i: s.get(s.events, "event", i)),
        api("GET", "/v1/charges/{id}", lambda p, i: s.get(s.charges, "charge", i)),
        hosted_page("/checkout/{id}", hosted.checkout),
        hosted_page("/portal/{id}", hosted.portal_page),
        hosted_page("/invoices/{id}/pay", hosted.invoice),
        hosted_page(r"/invoices/([^/]+)\.pdf", hosted.invoice_pdf_page),
        control("GET", "health", c.health),
        control("GET", "events", c.events),
        control("GET", "events/{id}", c.event),
        control("GET", "requests", lambda b: {"data": list(emulator.requests)}),
        control("POST", "advance", c.advance),
        control("POST", "fail-next-payment", c.fail_next_payment),
        control("POST", "settings", c.settings),
        control("POST", "refund", c.refund),
        control("POST", "dispute", c.dispute),
        control("POST", "renew", lambda b: c.sub_action(b, s.renew)),
        control(
            "POST",
            "trial-will-end",
            lambda b: c.sub_action(b, s.trial_will_end),
        ),
        control("POST", "end-trial", lambda b: c.sub_action(b, s.end_trial)),
        control("POST", "pause", lambda b: c.sub_action(b, s.pause)),
        control("POST", "resume", lambda b: c.sub_action(b, s.resume)),
        control("POST", "replay", c.replay),
        control("POST", "flush", c.flush),
        control("POST", "reset", c.reset),
    ]
