"""Billing's settings and wiring: the plans file, the Stripe key and signing secret
(refused unless they look like Stripe's), and what a function without them gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from core.application.errors import PaymentProviderUnavailable
from core.domain.billing import Interval, InvalidPlanCatalog
from functions.runtime.container import UnconfiguredPayments, _payments, _webhooks
from functions.runtime.plans import DEFAULT_PLANS_FILE, load_plan_catalog
from functions.runtime.settings import (
    LOCAL_STRIPE_API_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    Settings,
)

SECRETS = {"jwt_secret": "j" * 40, "password_pepper": "p" * 40}


def deployed(**values: object) -> Settings:
    return Settings.model_validate({"stage": "prod", **SECRETS, **values})


def test_the_local_stage_uses_the_emulators_key_and_secret() -> None:
    settings = Settings()

    assert settings.stripe_api_key_value() == LOCAL_STRIPE_API_KEY
    assert settings.stripe_webhook_secret_value() == LOCAL_STRIPE_WEBHOOK_SECRET


@pytest.mark.parametrize("key", ["sk_live_abc", "sk_test_abc", "rk_live_abc"])
def test_a_secret_or_restricted_key_is_taken(key: str) -> None:
    assert deployed(stripe_api_key=SecretStr(key)).stripe_api_key_value() == key


@pytest.mark.parametrize("key", ["", "PLACEHOLDER-not-a-stripe-key", "pk_live_abc"])
def test_a_missing_placeholder_or_publishable_key_is_not_configured(key: str) -> None:
    settings = deployed(stripe_api_key=SecretStr(key))

    with pytest.raises(ValueError, match=r"(?i)stripe"):
        settings.stripe_api_key_value()


def test_a_function_without_a_usable_key_answers_every_call_with_a_503() -> None:
    payments = _payments(deployed(), clock=None)  # type: ignore[arg-type]

    assert isinstance(payments, UnconfiguredPayments)
    with pytest.raises(PaymentProviderUnavailable, match="not configured"):
        payments.get_subscription("sub_1")


def test_a_webhook_secret_must_be_a_signing_secret() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        deployed(
            stripe_webhook_secret=SecretStr("secret")
        ).stripe_webhook_secret_value()
    verifier = _webhooks(deployed(stripe_webhook_secret=SecretStr("whsec_abc")))
    assert type(verifier).__name__ == "StripeWebhookVerifier"


def test_the_clock_offset_file_is_refused_outside_the_local_stage() -> None:
    with pytest.raises(ValidationError, match="local stage only"):
        deployed(clock_offset_file="/tmp/offset")


def test_the_default_plans_have_free_and_usd_and_eur_prices_per_interval() -> None:
    catalog = load_plan_catalog(Settings())

    assert catalog.free.key == "free"
    for plan in catalog.plans:
        if not plan.is_paid:
            continue
        assert {(p.interval.value, p.currency) for p in plan.prices} == {
            ("month", "usd"),
            ("month", "eur"),
            ("year", "usd"),
            ("year", "eur"),
        }
    assert DEFAULT_PLANS_FILE.name == "plans.json"


def test_a_plans_file_of_the_wrong_shape_is_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "plans.json"
    bad.write_text(
        '{"plans": [{"key": "free", "name": "Free", "prices": []}, '
        '{"key": "pro", "name": "Pro", "prices": [{"id": "p", '
        '"interval": "week", "currency": "usd", "unit_amount": 1}]}]}'
    )

    with pytest.raises(ValidationError, match="interval"):
        load_plan_catalog(Settings(plans_file=str(bad)))


def test_a_plans_file_without_the_free_plan_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "plans.json"
    bad.write_text('{"plans": [{"key": "pro", "name": "Pro"}]}')

    with pytest.raises(InvalidPlanCatalog, match="free"):
        load_plan_catalog(Settings(plans_file=str(bad)))


def test_a_legacy_price_keeps_its_plan_and_must_name_a_paid_plan(
    tmp_path: Path,
) -> None:
    plans = tmp_path / "plans.json"
    base = (
        '{"plans": [{"key": "free", "name": "Free"}, {"key": "pro", "name": "Pro", '
        '"prices": [{"id": "price_new", "interval": "month", "currency": "usd", '
        '"unit_amount": 1}]}], "legacy": %s}'
    )
    plans.write_text(
        base
        % '{"price_old": "pro", "price_old_y": {"plan": "pro", "interval": "year"}}'
    )

    catalog = load_plan_catalog(Settings(plans_file=str(plans)))

    assert catalog.plan_of_price("price_old") == (catalog.get("pro"), Interval.MONTH)
    assert catalog.plan_of_price("price_old_y") == (catalog.get("pro"), Interval.YEAR)
    assert catalog.by_price("price_old") is None  # not for sale
    plans.write_text(base % '{"price_old": "free"}')
    with pytest.raises(InvalidPlanCatalog, match="legacy"):
        load_plan_catalog(Settings(plans_file=str(plans)))


def test_a_per_seat_plan_is_read_with_its_seat_limit(tmp_path: Path) -> None:
    plans = tmp_path / "plans.json"
    plans.write_text(
        '{"plans": [{"key": "free", "name": "Free"}, {"key": "team", "name": "Team", '
        '"per_seat": true, "limits": {"seats": 10}, "prices": [{"id": "price_t", '
        '"interval": "month", "currency": "usd", "unit_amount": 800}]}]}'
    )

    catalog = load_plan_catalog(Settings(plans_file=str(plans)))

    team = catalog.get("team")
    assert team is not None
    assert team.per_seat
    assert team.seat_limit == 10
    assert not catalog.free.per_seat


@pytest.mark.parametrize("limits", ['{"export_rows": 5}', '{"seats": 0}'])
def test_a_per_seat_plan_without_a_seat_limit_is_refused_clearly(
    tmp_path: Path, limits: str
) -> None:
    plans = tmp_path / "plans.json"
    plans.write_text(
        '{"plans": [{"key": "free", "name": "Free"}, {"key": "team", "name": "Team", '
        f'"per_seat": true, "limits": {limits}}}]}}'
    )

    with pytest.raises(InvalidPlanCatalog, match="per-seat plan 'team' needs"):
        load_plan_catalog(Settings(plans_file=str(plans)))


def test_the_shipped_plans_sell_team_per_seat_and_leave_the_others_flat() -> None:
    catalog = load_plan_catalog(Settings())

    assert [p.key for p in catalog.plans if p.per_seat] == ["team"]
    team = catalog.get("team")
    assert team is not None
    assert (team.seat_limit or 0) >= 1
