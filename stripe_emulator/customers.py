"""Customers: create and update (email, name, description, phone, metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stripe_emulator.params import (
    Obj,
    merge_metadata,
    new_id,
    param_str,
)
from stripe_emulator.store import Store


@dataclass
class Customers:
    store: Store

    def create_customer(self, params: Mapping[str, Any]) -> Obj:
        customer: Obj = {
            "id": self.store.fresh_id("cus_", 14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.store.clock.now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": param_str(params, "description"),
            "email": param_str(params, "email"),
            "invoice_prefix": new_id("", 8).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": merge_metadata({}, params.get("metadata"), "metadata"),
            "name": param_str(params, "name"),
            "phone": param_str(params, "phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.store.customers[customer["id"]] = customer
        return customer

    def update_customer(self, customer_id: str, params: Mapping[str, Any]) -> Obj:
        customer = self.store.get(self.store.customers, "customer", customer_id)
        for name in ("email", "name", "description", "phone"):
            if name in params:
                customer[name] = param_str(params, name)
        customer["metadata"] = merge_metadata(
            customer["metadata"], params.get("metadata"), "metadata"
        )
        return customer
