"""Charges (one per paid invoice with money in it), and what takes money back:
refunds and disputes, driven from the control API (``strata stripe refund`` /
``strata stripe dispute``)."""

from __future__ import annotations

from dataclasses import dataclass

from stripe_emulator.clock import DAY
from stripe_emulator.events import EventLog
from stripe_emulator.params import Obj, StripeError, missing
from stripe_emulator.store import Store


def new_charge(store: Store, invoice: Obj) -> Obj:
    """The charge that paid ``invoice`` (stored; no event: Strata reads none)."""
    charge: Obj = {
        "id": store.fresh_id("ch_"),
        "object": "charge",
        "amount": invoice["amount_due"],
        "amount_captured": invoice["amount_due"],
        "amount_refunded": 0,
        "billing_details": {
            "address": None,
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "captured": True,
        "created": store.clock.now(),
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "disputed": False,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "refunded": False,
        "status": "succeeded",
    }
    store.charges[charge["id"]] = charge
    return charge


@dataclass
class Charges:
    store: Store
    log: EventLog

    def _charge(self, target: str) -> Obj:
        """A charge by id, or the newest charge of a customer."""
        if target in self.store.charges:
            return self.store.charges[target]
        for charge in reversed(self.store.charges.values()):
            if charge["customer"] == target:
                return charge
        raise missing("charge (or customer with a charge)", target, "charge")

    def refund(self, target: str, amount: int | None = None) -> Obj:
        charge = self._charge(target)
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if amount is None else amount
        if not 0 < amount <= left:
            raise StripeError(
                400, f"Refund amount must be between 1 and {left}.", param="amount"
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.log.emit("charge.refunded", charge)
        return charge

    def dispute(self, target: str, outcome: str | None = None) -> Obj:
        """Open a dispute of the charge (``charge.dispute.created``); with an
        ``outcome`` (``won`` or ``lost``) close it at once too."""
        if outcome not in (None, "won", "lost"):
            raise StripeError(400, "outcome is won or lost", param="outcome")
        charge = self._charge(target)
        charge["disputed"] = True
        dispute: Obj = {
            "id": self.store.fresh_id("dp_"),
            "object": "dispute",
            "amount": charge["amount"],
            "balance_transactions": [],
            "charge": charge["id"],
            "created": self.store.clock.now(),
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": {"enhanced_evidence": {}},
            "evidence_details": {
                "due_by": self.store.clock.now() + 7 * DAY,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
                "submission_method": "not_submitted",
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "reason": "fraudulent",
            "status": "needs_response",
        }
        self.log.emit("charge.dispute.created", dispute)
        if outcome is not None:
            dispute["status"] = outcome
            self.log.emit("charge.dispute.closed", dispute)
        return dispute
