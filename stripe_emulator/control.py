"""The control endpoints (``/_emulator/...``, JSON in and out), which ``strata
stripe`` calls: health, the events and their deliveries, the requests seen, moving
the clock, arming a payment failure, acting on a subscription, replaying, flushing
and resetting."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from stripe_emulator.events import API_VERSION
from stripe_emulator.params import Obj, StripeError
from stripe_emulator.store import DUNNING_ENDS

if TYPE_CHECKING:
    from stripe_emulator.server import Emulator


class Control:
    """Each method answers one control endpoint with a JSON object; a
    ``StripeError`` is answered as Stripe answers errors."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def health(self, body: Obj) -> Obj:
        return {
            "ok": True,
            "api_version": API_VERSION,
            "now": self.emulator.clock.now(),
            "offset": self.emulator.clock.offset,
            "webhook_url": self.emulator.webhook_url,
            "pending_deliveries": self.emulator.sender.pending(),
            "stripe_versions": sorted(
                {
                    r["stripe_version"]
                    for r in self.emulator.requests
                    if r["stripe_version"]
                }
            ),
        }

    def event_summary(self, event: Obj) -> Obj:
        deliveries = self.emulator.sender.deliveries(event["id"])
        return {
            "id": event["id"],
            "type": event["type"],
            "created": event["created"],
            "object": event["data"]["object"].get("id"),
            "status": deliveries[-1].status if deliveries else "not_sent",
            "deliveries": [d.as_dict() for d in deliveries],
        }

    def events(self, body: Obj) -> Obj:
        return {
            "data": [self.event_summary(e) for e in self.emulator.state.events.values()]
        }

    def event(self, body: Obj, event_id: str) -> Obj:
        event = self.emulator.state.get(self.emulator.state.events, "event", event_id)
        return {"event": event, **self.event_summary(event)}

    def advance(self, body: Obj) -> Obj:
        seconds = 0.0
        for name, unit in (
            ("seconds", 1),
            ("minutes", 60),
            ("hours", 3600),
            ("days", 86400),
        ):
            value = body.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise StripeError(400, f"{name} must be a number", param=name)
            seconds += value * unit
        count = self.emulator.state.advance(int(seconds))
        return {
            "offset": self.emulator.clock.offset,
            "now": self.emulator.clock.now(),
            "events": count,
        }

    def fail_next_payment(self, body: Obj) -> Obj:
        target = body.get("subscription") or body.get("customer")
        if not isinstance(target, str) or not target:
            raise StripeError(
                400, "give a customer or a subscription id", param="customer"
            )
        action_required = bool(body.get("action_required"))
        times = body.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise StripeError(400, "times is a positive integer", param="times")
        self.emulator.state.fail_next_payment(target, action_required, times)
        return {
            "armed": target,
            "failure": "action_required" if action_required else "failed",
            "times": times,
        }

    def settings(self, body: Obj) -> Obj:
        """``{"dunning_retry_days"?: [days, ...], "dunning_final"?: "canceled"|
        "unpaid"|"past_due"}``: the account's failed-payment settings (``reset``
        restores the defaults); answers them as they now stand."""
        dunning = self.emulator.state.store.dunning
        retry_days = body.get("dunning_retry_days")
        if retry_days is not None:
            if not (
                isinstance(retry_days, list)
                and retry_days
                and all(
                    isinstance(d, int) and not isinstance(d, bool) and d > 0
                    for d in retry_days
                )
            ):
                raise StripeError(
                    400,
                    "dunning_retry_days is a list of positive day counts",
                    param="dunning_retry_days",
                )
            dunning.retry_days = tuple(retry_days)
        final = body.get("dunning_final")
        if final is not None:
            if final not in DUNNING_ENDS:
                raise StripeError(
                    400,
                    f"dunning_final is one of {', '.join(DUNNING_ENDS)}",
                    param="dunning_final",
                )
            dunning.final = final
        return {
            "dunning_retry_days": list(dunning.retry_days),
            "dunning_final": dunning.final,
        }

    def refund(self, body: Obj) -> Obj:
        """``{"charge"|"customer": id, "amount"?: n}``: refund the charge (or the
        customer's newest), wholly unless an amount is given."""
        target = body.get("charge") or body.get("customer")
        if not isinstance(target, str) or not target:
            raise StripeError(400, "give a charge or a customer id", param="charge")
        amount = body.get("amount")
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int)
        ):
            raise StripeError(400, "amount must be an integer", param="amount")
        return copy.deepcopy(self.emulator.state.refund(target, amount))

    def dispute(self, body: Obj) -> Obj:
        """``{"charge"|"customer": id, "outcome"?: "won"|"lost"}``: the cardholder
        disputes the charge (or the customer's newest); closed at once if an
        outcome is given."""
        target = body.get("charge") or body.get("customer")
        if not isinstance(target, str) or not target:
            raise StripeError(400, "give a charge or a customer id", param="charge")
        outcome = body.get("outcome")
        if outcome is not None and not isinstance(outcome, str):
            raise StripeError(400, "outcome is won or lost", param="outcome")
        return copy.deepcopy(self.emulator.state.dispute(target, outcome))

    def sub_action(self, body: Obj, action: Callable[[str], Obj]) -> Obj:
        sub_id = body.get("subscription")
        if not isinstance(sub_id, str) or not sub_id:
            raise StripeError(400, "give a subscription id", param="subscription")
        first = len(self.emulator.state.events)
        sub = action(sub_id)
        return {
            "subscription": copy.deepcopy(sub),
            "events": [
                e["id"] for e in list(self.emulator.state.events.values())[first:]
            ],
        }

    def replay(self, body: Obj) -> Obj:
        event_id = body.get("event")
        if not isinstance(event_id, str) or event_id not in self.emulator.bodies:
            raise StripeError(
                404, f"No such event: '{event_id}'", code="resource_missing"
            )
        delivery = self.emulator.sender.enqueue(
            event_id, self.emulator.bodies[event_id], released=False
        )
        self.emulator.hold(delivery)
        return {"event": event_id, "type": self.emulator.state.events[event_id]["type"]}

    def flush(self, body: Obj) -> Obj:
        timeout = body.get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise StripeError(400, "timeout must be a number", param="timeout")
        if not self.emulator.sender.flush(float(timeout)):
            raise StripeError(
                504,
                f"{self.emulator.sender.pending()} webhook deliveries still pending "
                f"after {timeout} s",
            )
        return {"flushed": True, "pending": 0}

    def reset(self, body: Obj) -> Obj:
        self.emulator.sender.clear()
        self.emulator.clock.reset()
        self.emulator.state.reset()
        self.emulator.bodies.clear()
        self.emulator.idempotency.clear()
        self.emulator.requests.clear()
        return {"reset": True}
