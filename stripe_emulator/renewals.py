"""What moving the clock does, and the control endpoints that act as if time had
passed: trial-will-end notices, trial ends, renewals, cancellations at period end,
bank-transfer invoices going overdue; pausing and resuming."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from stripe_emulator.clock import DAY, shift
from stripe_emulator.events import EventLog
from stripe_emulator.invoices import Invoices
from stripe_emulator.lines import Lines
from stripe_emulator.params import (
    Obj,
    StripeError,
    previous_attributes,
)
from stripe_emulator.payments import Payments
from stripe_emulator.store import Store
from stripe_emulator.subscriptions import Subscriptions

TRIAL_WILL_END_BEFORE = 3 * DAY
# Stripe finalizes a subscription's draft invoice about an hour after making it.
DRAFT_FINALIZED_AFTER = 3600


@dataclass
class Renewals:
    store: Store
    log: EventLog
    lines: Lines
    payments: Payments
    invoice_ops: Invoices
    subscription_ops: Subscriptions

    def advance(self, seconds: int) -> int:
        """Move the clock by ``seconds`` and do, in time order, everything that
        falls due: trial-will-end notices, trial ends, renewals, cancellations at
        period end, bank-transfer invoices going overdue. Returns the event count."""
        if seconds < 0:
            raise StripeError(400, "The clock only moves forward.", param="seconds")
        first = len(self.store.events)
        self.store.clock.advance(seconds)
        self.run_due()
        return len(self.store.events) - first

    def run_due(self) -> None:
        target = self.store.clock.now()
        for _ in range(100_000):  # a bound, not a limit anyone meets
            due = self._next_due(target)
            if due is None:
                return
            at, kind, ref = due
            with self.store.clock.frozen(at):
                if kind == "trial_will_end":
                    self.store.clocks[ref].trial_will_end_sent = True
                    self.log.emit(
                        "customer.subscription.trial_will_end",
                        self.store.subscriptions[ref],
                    )
                elif kind == "pending_expiry":
                    self.invoice_ops.expire_pending_update(ref)
                elif kind == "retry":
                    self._retry(ref)
                elif kind == "finalize":
                    self.invoice_ops.finalize_invoice(ref)
                elif kind == "period_end":
                    self._renew(self.store.subscriptions[ref], reset_anchor=False)
                else:
                    self._overdue(ref)

    def _next_due(self, target: int) -> tuple[int, str, str] | None:
        due: list[tuple[int, int, str, str]] = []
        for sub_id, sub in self.store.subscriptions.items():
            if sub["status"] in (
                "canceled",
                "incomplete_expired",
                "paused",
                "incomplete",
                "unpaid",
            ):
                continue
            clock = self.store.clocks[sub_id]
            end = sub["items"]["data"][0]["current_period_end"]
            if sub["status"] == "trialing" and not clock.trial_will_end_sent:
                notice = sub["trial_end"] - TRIAL_WILL_END_BEFORE
                if sub["trial_start"] < notice <= target:
                    due.append((notice, 0, "trial_will_end", sub_id))
            if end <= target:
                due.append((end, 2, "period_end", sub_id))
        for sub_id, held in self.store.pending_updates.items():
            if held.expires_at <= target:
                due.append((held.expires_at, 1, "pending_expiry", sub_id))
        for invoice_id, invoice in self.store.invoices.items():
            finalize_at = invoice["created"] + DRAFT_FINALIZED_AFTER
            if invoice["status"] == "draft" and finalize_at <= target:
                due.append((finalize_at, 1, "finalize", invoice_id))
            retry_at = invoice["next_payment_attempt"]
            if invoice["status"] == "open" and retry_at and retry_at <= target:
                due.append((retry_at, 1, "retry", invoice_id))
            if (
                invoice["status"] == "open"
                and invoice["due_date"] is not None
                and invoice["due_date"] <= target
                and invoice_id not in self.store.overdue_marked
            ):
                due.append((invoice["due_date"], 1, "overdue", invoice_id))
        if not due:
            return None
        at, _, kind, ref = min(due)
        return at, kind, ref

    def _retry(self, invoice_id: str) -> None:
        """A retry of a failed renewal. Paid: the subscription is active again.
        The last one failed: the dunning setting ends it (``canceled``, with
        ``cancellation_details.reason`` ``payment_failed``), makes it ``unpaid``
        (the open invoice, paid on its page, makes it active again), or leaves it
        ``past_due``."""
        invoice = self.store.invoices[invoice_id]
        sub = self.store.subscriptions.get(
            invoice["parent"]["subscription_details"]["subscription"]
        )
        if sub is None or sub["status"] not in ("past_due", "active", "trialing"):
            invoice["next_payment_attempt"] = None
            return
        before = copy.deepcopy(sub)
        result = self.payments.collect(invoice, sub)
        if result == "paid":
            self.subscription_ops.settle_status(sub, result)
        elif result == "failed" and invoice["next_payment_attempt"] is None:
            final = self.store.dunning.final
            if final == "canceled":
                self.subscription_ops.end(sub, canceled_at=None)
                sub["cancellation_details"]["reason"] = "payment_failed"
                self.log.emit(
                    "customer.subscription.deleted",
                    sub,
                    previous_attributes(before, sub),
                )
                self.invoice_ops.emit_result(invoice, result)
                return
            if final == "unpaid":
                sub["status"] = "unpaid"
        self.log.emit_update(sub, before)
        self.invoice_ops.emit_result(invoice, result)

    def _overdue(self, invoice_id: str) -> None:
        self.store.overdue_marked.add(invoice_id)
        invoice = self.store.invoices[invoice_id]
        sub = self.store.subscriptions.get(
            invoice["parent"]["subscription_details"]["subscription"]
        )
        if sub is None or sub["status"] not in ("active", "trialing"):
            return
        before = copy.deepcopy(sub)
        sub["status"] = "past_due"
        self.log.emit_update(sub, before)

    def _renew(self, sub: Obj, *, reset_anchor: bool) -> None:
        """The end of the current period (or of the trial): cancel if asked to,
        else start the next period and invoice it."""
        before = copy.deepcopy(sub)
        if sub["cancel_at_period_end"]:
            self.subscription_ops.end(sub, canceled_at=None)
            self.log.emit(
                "customer.subscription.deleted", sub, previous_attributes(before, sub)
            )
            return
        now = self.store.clock.now()
        clock = self.store.clocks[sub["id"]]
        item = sub["items"]["data"][0]
        price = item["price"]
        recurring = price["recurring"]
        old_start, old_end = item["current_period_start"], item["current_period_end"]
        if reset_anchor:
            clock.anchor, clock.cycle = now, 1
            sub["billing_cycle_anchor"] = now
            start = now
        else:
            clock.cycle += 1
            start = old_end
        end = shift(
            clock.anchor,
            recurring["interval"],
            recurring["interval_count"] * clock.cycle,
        )
        item["current_period_start"], item["current_period_end"] = start, end
        if sub["status"] == "trialing":
            sub["status"] = "active"
            if sub["trial_end"] is None or sub["trial_end"] > now:
                sub["trial_end"] = now
        lines = [*clock.pending, self.lines.full_line(sub, item, price, start, end)]
        clock.pending = []
        invoice = self.invoice_ops.new_invoice(
            sub, lines, "subscription_cycle", period=(old_start, min(old_end, now))
        )
        result = self.payments.collect(invoice, sub)
        self.subscription_ops.settle_status(sub, result)
        self.log.emit_update(sub, before)
        self.invoice_ops.emit_result(invoice, result)

    def renew(self, sub_id: str) -> Obj:
        """Renew now, as if the period had just ended (the billing cycle restarts
        now); a trialing subscription's trial ends."""
        sub = self.store.subscription(sub_id, "subscription")
        if sub["status"] in ("canceled", "incomplete_expired", "incomplete", "paused"):
            raise StripeError(
                400,
                f"A {sub['status']} subscription does not renew.",
                param="subscription",
            )
        self._renew(sub, reset_anchor=True)
        return sub

    def trial_will_end(self, sub_id: str) -> Obj:
        sub = self._trialing(sub_id)
        self.store.clocks[sub_id].trial_will_end_sent = True
        self.log.emit("customer.subscription.trial_will_end", sub)
        return sub

    def end_trial(self, sub_id: str) -> Obj:
        sub = self._trialing(sub_id)
        self._renew(sub, reset_anchor=True)
        return sub

    def _trialing(self, sub_id: str) -> Obj:
        sub = self.store.subscription(sub_id, "subscription")
        if sub["status"] != "trialing":
            raise StripeError(
                400,
                f"The subscription {sub_id} is {sub['status']}, not trialing.",
                param="subscription",
            )
        return sub

    def pause(self, sub_id: str) -> Obj:
        sub = self.store.subscription(sub_id, "subscription")
        if sub["status"] not in ("active", "trialing", "past_due"):
            raise StripeError(
                400,
                f"A {sub['status']} subscription cannot be paused.",
                param="subscription",
            )
        before = copy.deepcopy(sub)
        sub["status"] = "paused"
        self.log.emit(
            "customer.subscription.paused", sub, previous_attributes(before, sub)
        )
        return sub

    def resume(self, sub_id: str) -> Obj:
        """Back to ``active``; a period that ended while paused restarts now, with
        an invoice (which an armed failure fails: ``past_due``)."""
        sub = self.store.subscription(sub_id, "subscription")
        if sub["status"] != "paused":
            raise StripeError(
                400, f"The subscription {sub_id} is not paused.", param="subscription"
            )
        before = copy.deepcopy(sub)
        sub["status"] = "active"
        invoice: Obj | None = None
        result = ""
        item = sub["items"]["data"][0]
        now = self.store.clock.now()
        if item["current_period_end"] <= now:
            clock = self.store.clocks[sub["id"]]
            recurring = item["price"]["recurring"]
            clock.anchor, clock.cycle = now, 1
            sub["billing_cycle_anchor"] = now
            item["current_period_start"] = now
            item["current_period_end"] = shift(
                now, recurring["interval"], recurring["interval_count"]
            )
            sub["trial_end"] = (
                sub["trial_end"]
                if sub["trial_end"] is None
                else min(sub["trial_end"], now)
            )
            lines = [
                *clock.pending,
                self.lines.full_line(
                    sub, item, item["price"], now, item["current_period_end"]
                ),
            ]
            clock.pending = []
            invoice = self.invoice_ops.new_invoice(sub, lines, "subscription_cycle")
            result = self.payments.collect(invoice, sub)
            self.subscription_ops.settle_status(sub, result)
        self.log.emit(
            "customer.subscription.resumed", sub, previous_attributes(before, sub)
        )
        if invoice is not None:
            self.invoice_ops.emit_result(invoice, result)
        return sub
