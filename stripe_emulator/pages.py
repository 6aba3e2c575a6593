"""The pages a person opens: Checkout, the customer portal, the hosted invoice, and
an invoice's PDF. Small, plain and without actions beyond what opening them does."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from stripe_emulator.clock import iso
from stripe_emulator.forms import parse_form
from stripe_emulator.lines import money
from stripe_emulator.params import Obj
from stripe_emulator.responses import Response, html_response

if TYPE_CHECKING:
    from stripe_emulator.state import StripeState

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;"
    "padding:0 1rem;color:#222}table{border-collapse:collapse}"
    "td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}"
    "small{color:#777}"
)


def page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>{body}"
        "<p><small>Strata's local Stripe emulator: no real money moves.</small></p>"
        "</body></html>"
    ).encode()


def checkout_done(session: Obj, subscription: Obj | None) -> bytes:
    what = ""
    if subscription is not None:
        item = subscription["items"]["data"][0]
        what = (
            f"<p>Subscription <code>{escape(subscription['id'])}</code> "
            f"({escape(subscription['status'])}): {escape(item['price']['id'])}, "
            f"{escape(money(item['price']['unit_amount'], item['price']['currency']))}"
            f" / {escape(item['price']['recurring']['interval'])}.</p>"
        )
    return page(
        "Payment complete" if session["status"] == "complete" else "Checkout",
        f"<p>Checkout session <code>{escape(session['id'])}</code> is "
        f"{escape(session['status'])} ({escape(session['payment_status'])}).</p>"
        + what,
    )


def portal(portal_session: Obj, subscriptions: list[Obj]) -> bytes:
    rows = "".join(
        "<tr>"
        f"<td><code>{escape(s['id'])}</code></td>"
        f"<td>{escape(s['items']['data'][0]['price']['id'])}</td>"
        f"<td>{escape(s['status'])}</td>"
        f"<td>{escape(iso(s['items']['data'][0]['current_period_end']))}</td>"
        f"<td>{'yes' if s['cancel_at_period_end'] else 'no'}</td>"
        "</tr>"
        for s in subscriptions
    )
    table = (
        "<table><tr><th>subscription</th><th>price</th><th>status</th>"
        "<th>period ends</th><th>cancels at period end</th></tr>"
        f"{rows}</table>"
        if subscriptions
        else "<p>No subscriptions.</p>"
    )
    back = portal_session.get("return_url")
    link = f"<p><a href='{escape(back, quote=True)}'>Return</a></p>" if back else ""
    return page(
        f"Billing for {portal_session['customer']}",
        table + link,
    )


def invoice_page(invoice: Obj, just_paid: bool) -> bytes:
    amount = money(invoice["amount_due"], invoice["currency"])
    state = "Paid just now" if just_paid else f"This invoice is {invoice['status']}"
    return page(
        f"Invoice {invoice['number'] or invoice['id']}",
        f"<p>{escape(state)}: {escape(amount)}.</p>"
        f"<p><a href='{escape(invoice['invoice_pdf'] or '', quote=True)}'>PDF</a></p>",
    )


def invoice_pdf(invoice: Obj) -> bytes:
    """A one-page PDF naming the invoice, its amount and its status."""
    lines = [
        f"Invoice {invoice['number'] or invoice['id']}",
        f"Customer {invoice['customer']}",
        f"Amount due {money(invoice['amount_due'], invoice['currency'])}",
        f"Status {invoice['status']}",
        f"Created {iso(invoice['created'])}",
        "Strata local Stripe emulator",
    ]
    text = "BT /F1 14 Tf 72 720 Td 18 TL " + " ".join(
        f"({_pdf_text(line)}) Tj T*" for line in lines
    )
    content = text + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def _pdf_text(line: str) -> str:
    safe = line.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class HostedPages:
    """Answers the pages' URLs: opening one does what a person's click there would
    (pay the Checkout, pay the invoice)."""

    def __init__(self, state: StripeState) -> None:
        self.state = state

    def checkout(self, query: str, session_id: str) -> Response:
        session = self.state.sessions.get(session_id)
        if session is None:
            return html_response(
                404, page("Not found", "<p>No such Checkout session.</p>")
            )
        if "cancel" in parse_form(query) and session["status"] == "open":
            if session["cancel_url"]:
                return Response(
                    303, b"", "text/plain", {"Location": session["cancel_url"]}
                )
            return html_response(
                200, page("Checkout canceled", "<p>Nothing was paid.</p>")
            )
        session = self.state.complete_checkout(session_id)
        if session["success_url"]:
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
            return Response(303, b"", "text/plain", {"Location": target})
        sub = self.state.subscriptions.get(session["subscription"] or "")
        return html_response(200, checkout_done(session, sub))

    def portal_page(self, query: str, portal_id: str) -> Response:
        session = self.state.portal_sessions.get(portal_id)
        if session is None:
            return html_response(
                404, page("Not found", "<p>No such portal session.</p>")
            )
        subs = self.state.list_subscriptions(
            {"customer": session["customer"], "status": "all"}
        )
        return html_response(200, portal(session, subs))

    def invoice(self, query: str, invoice_id: str) -> Response:
        invoice = self.state.invoices.get(invoice_id)
        if invoice is None:
            return html_response(404, page("Not found", "<p>No such invoice.</p>"))
        was_open = invoice["status"] == "open"
        invoice = self.state.pay_invoice(invoice_id)
        return html_response(200, invoice_page(invoice, was_open))

    def invoice_pdf_page(self, query: str, invoice_id: str) -> Response:
        invoice = self.state.invoices.get(invoice_id)
        if invoice is None:
            return html_response(404, page("Not found", "<p>No such invoice.</p>"))
        return Response(200, invoice_pdf(invoice), "application/pdf")
