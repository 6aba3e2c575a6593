"""Strata's side of the local Stripe: the emulator (``stripe_emulator``) knows no
plan catalog and no settings, so this module gives it Strata's prices and the
local stage's webhook secret, and registers webhooks through Strata's adapter.

    emulator = start(0, "http://127.0.0.1:8000/api/v1/webhooks/stripe")
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import stripe_emulator
from functions.runtime.settings import LOCAL_STRIPE_WEBHOOK_SECRET, Settings
from stripe_emulator.cli import ControlError


def plan_prices(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every price of Strata's plan catalog, as the emulator's price list."""
    from functions.runtime.plans import load_plan_catalog
    from functions.runtime.settings import get_settings

    catalog = load_plan_catalog(settings or get_settings())
    return [
        {
            "id": price.id,
            "interval": str(price.interval),
            "currency": price.currency,
            "unit_amount": price.unit_amount,
            "product": f"prod_strata_{plan.key}",
            "product_name": plan.name,
            "metadata": {"plan": plan.key},
        }
        for plan in catalog.plans
        for price in plan.prices
    ]


def start(
    port: int = stripe_emulator.DEFAULT_PORT,
    webhook_url: str | None = None,
    secret: str = LOCAL_STRIPE_WEBHOOK_SECRET,
    prices: Iterable[Mapping[str, Any]] | None = None,
    *,
    host: str = stripe_emulator.LOOPBACK,
    clock_offset_file: str | None = None,
    retry_delays: Sequence[float] = stripe_emulator.DEFAULT_RETRY_DELAYS,
    delivery_timeout: float = 10.0,
) -> stripe_emulator.Emulator:
    """``stripe_emulator.start`` with Strata's defaults: the local stage's webhook
    secret and, unless ``prices`` is given, the plan catalog's prices."""
    return stripe_emulator.start(
        port,
        webhook_url,
        secret,
        plan_prices() if prices is None else prices,
        host=host,
        clock_offset_file=clock_offset_file,
        retry_delays=retry_delays,
        delivery_timeout=delivery_timeout,
    )


def register_webhook(args: argparse.Namespace) -> int:
    """``strata stripe register-webhook``: through Strata's own Stripe adapter, so
    the key, base URL and API version are the ones the API uses."""
    from core.adapters.stripe.client import build_stripe_client
    from core.adapters.stripe.webhooks import register_endpoint
    from core.application.billing import HANDLED_EVENTS
    from core.application.errors import ApplicationError

    settings = Settings.from_env()
    try:
        client = build_stripe_client(
            settings.stripe_api_key_value(), base_url=settings.stripe_api_base
        )
        endpoint = register_endpoint(client, args.url, HANDLED_EVENTS)
    except (ValueError, ApplicationError) as exc:
        raise ControlError(f"could not register the webhook endpoint: {exc}") from None
    print(
        f"webhook endpoint {endpoint.id} for {endpoint.url} (API version "
        f"{endpoint.api_version}, {len(HANDLED_EVENTS)} event types); signing "
        f"secret {endpoint.secret}: put it in STRATA_STRIPE_WEBHOOK_SECRET (or the "
        "stack's StripeWebhookSecretArn secret)"
    )
    return 0
