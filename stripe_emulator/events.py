"""Events: each one made as Stripe makes it (``data.object`` a copy of the object
as it stands, ``previous_attributes`` for updates, the request that caused it),
kept in the store and handed to the emitter (the webhook sender) at once."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from stripe_emulator.params import Obj, previous_attributes
from stripe_emulator.store import Store

API_VERSION = "2026-10-28.endive"


class EventLog:
    """Makes the events. ``request_id`` and ``idempotency_key`` name the API
    request being served (None: no API request); the HTTP layer sets them."""

    def __init__(
        self, store: Store, emit: Callable[[Obj], None], *, webhooks: bool = True
    ) -> None:
        self.store = store
        self._emit_to = emit
        self._webhooks = webhooks
        self.request_id: str | None = None
        self.idempotency_key: str | None = None

    def emit(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event: Obj = {
            "id": self.store.fresh_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.store.clock.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self._webhooks else 0,
            "request": {"id": self.request_id, "idempotency_key": self.idempotency_key},
            "type": type_,
        }
        self.store.events[event["id"]] = event
        self._emit_to(event)
        return event

    def emit_update(self, sub: Obj, before: Obj) -> None:
        """``customer.subscription.updated``, if anything changed since ``before``."""
        changed = previous_attributes(before, sub)
        if changed:
            self.emit("customer.subscription.updated", sub, changed)


def event_body(event: Obj) -> bytes:
    """An event as Stripe posts it: pretty-printed JSON."""
    return json.dumps(event, indent=2).encode()
