"""The pieces of the CDK app that need no synth: stages, table specs, route paths."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

pytest.importorskip("aws_cdk", reason="needs the infra extras: make test")

from core.adapters.dynamodb import models
from functions.runtime.settings import Settings
from infra_cdk.constructs import retention
from infra_cdk.constructs.api import route_path
from infra_cdk.stages import DEFAULT_STAGE, STAGES, billing_environment, get_stage
from infra_cdk.tables_from_models import (
    TABLE_KEYS,
    IndexSpec,
    KeyAttribute,
    spec_from_model,
    table_key,
    table_specs,
)

ROOT = Path(__file__).resolve().parents[2]


def test_cdk_json_runs_the_app_with_the_project_virtualenv() -> None:
    config = json.loads((ROOT / "cdk.json").read_text())
    assert config["app"] == ".venv/bin/python -m infra_cdk.app"
    assert "stage" not in config["context"]  # chosen with -c stage=NAME, dev by default


def test_stages() -> None:
    assert set(STAGES) == {"dev", "staging", "prod"}
    assert get_stage(None).name == DEFAULT_STAGE == "dev"
    assert get_stage("prod") is STAGES["prod"]
    with pytest.raises(ValueError, match="unknown stage 'qa'"):
        get_stage("qa")
    prod = STAGES["prod"]
    assert prod.retain_data
    assert prod.point_in_time_recovery
    assert prod.deletion_protection
    assert not STAGES["dev"].retain_data
    # Tracing costs cold-start time: on where an operator follows requests, off in
    # dev; no stage is mid-way through the index rollout by default.
    assert prod.tracing
    assert STAGES["staging"].tracing
    assert not STAGES["dev"].tracing
    assert all(stage.index_rollout_step is None for stage in STAGES.values())
    for stage in STAGES.values():
        assert "*" not in stage.cors_origins
        retention(stage.log_retention_days)  # a period CloudWatch Logs accepts
        # The runtime must accept the TTL the stage hands it.
        Settings.model_validate({"session_ttl_seconds": stage.session_ttl_seconds})
        # ... and the billing settings, through the variables it reads.
        settings = Settings.from_env(billing_environment(stage))
        if stage.billing_grace_days is not None:
            assert settings.billing_grace_days == stage.billing_grace_days
        if stage.billing_proration_behavior is not None:
            assert settings.billing_proration_behavior == (
                stage.billing_proration_behavior
            )


def test_billing_environment_names_only_what_the_stage_defines() -> None:
    dev = STAGES["dev"]
    assert billing_environment(replace(dev)) == {}
    assert billing_environment(replace(dev, billing_grace_days=0)) == {
        "STRATA_BILLING_GRACE_DAYS": "0"
    }
    assert billing_environment(
        replace(dev, billing_grace_days=3, billing_proration_behavior="none")
    ) == {
        "STRATA_BILLING_GRACE_DAYS": "3",
        "STRATA_BILLING_PRORATION_BEHAVIOR": "none",
    }
    with pytest.raises(ValueError, match="billing_proration_behavior"):
        Settings.from_env({"STRATA_BILLING_PRORATION_BEHAVIOR": "sometimes"})


def test_retention_refuses_a_period_cloudwatch_does_not_have() -> None:
    with pytest.raises(ValueError, match="log retention 10 days"):
        retention(10)


@pytest.mark.parametrize(
    ("catalog_path", "route"),
    [
        ("/", "/"),
        ("/api/v1/", "/api/v1"),
        ("/api/v1/users/{username}/password", "/api/v1/users/{username}/password"),
    ],
)
def test_route_path(catalog_path: str, route: str) -> None:
    assert route_path(catalog_path) == route


def test_table_specs_follow_the_project_models() -> None:
    specs = {spec.key: spec for spec in table_specs()}
    assert set(specs) == {"users", "sessions", "tasks", "orgs"}
    assert specs["tasks"].partition_key == KeyAttribute("id", "S")
    assert specs["tasks"].ttl_attribute == "expires_at"
    assert specs["tasks"].env_var == "STRATA_TASKS_TABLE"
    assert specs["users"].partition_key == KeyAttribute("pk", "S")
    assert [i.name for i in specs["users"].indexes] == [
        "subscribed_users_v2",
        "unverified_users_v2",
        "users_by_created_at_v2",
        "users_by_username_v2",
    ]
    (subscribed,) = [
        i for i in specs["users"].indexes if i.name == "subscribed_users_v2"
    ]
    assert subscribed == IndexSpec(
        name="subscribed_users_v2",
        partition_key=KeyAttribute("billing_pk", "S"),
        sort_key=KeyAttribute("created_at", "S"),
        projection="KEYS_ONLY",
    )
    (by_name,) = [i for i in specs["users"].indexes if i.name == "users_by_username_v2"]
    assert by_name.projection == "INCLUDE"
    assert set(by_name.non_key_attributes) == {
        "id",
        "username",
        "email",
        "role",
        "is_active",
        "email_verified",
        "created_at",
    }
    assert specs["sessions"].ttl_attribute == "expires_at"
    assert specs["sessions"].env_var == "STRATA_SESSIONS_TABLE"
    assert (specs["orgs"].partition_key, specs["orgs"].sort_key) == (
        KeyAttribute("pk", "S"),
        KeyAttribute("sk", "S"),
    )
    assert specs["orgs"].ttl_attribute == "expires_at"
    assert [i.name for i in specs["orgs"].indexes] == [
        "invitations_by_token",
        "orgs_by_member",
    ]


class _ByScore(GlobalSecondaryIndex["_Scores"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_score"
        projection = IncludeProjection(["label"])

    board = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class _Scores(Model):
    class Meta:
        table_name = "strata-scores"

    board = UnicodeAttribute(hash_key=True)
    player = UnicodeAttribute(range_key=True)
    score = NumberAttribute()
    label = UnicodeAttribute()
    gone_at = TTLAttribute()
    by_score = _ByScore()


def test_table_keys_agree_with_bind_tables() -> None:
    """``bind_tables`` is the runtime's word on which model lives in which table: the
    table specs must put every model where it does, whatever names are bound."""
    assert set(TABLE_KEYS) == set(models.TABLE_MODELS)
    saved = [
        (m, m.Meta.table_name, getattr(m.Meta, "region", None))
        for m in models.ALL_MODELS
    ]
    try:
        models.bind_tables(
            "probe-users",
            "probe-sessions",
            "us-east-1",
            tasks_table="probe-tasks",
            orgs_table="probe-orgs",
        )
        for model, key in TABLE_KEYS.items():
            assert model.Meta.table_name == f"probe-{key}", model.__name__
        assert {spec.key for spec in table_specs()} == set(TABLE_KEYS.values())
    finally:
        for model, name, region in saved:
            meta: Any = model.Meta
            meta.table_name, meta.region = name, region
        models.reconnect()


def test_spec_from_model_reads_range_keys_types_include_projections_and_ttl() -> None:
    spec = spec_from_model(_Scores, "scores")
    assert spec.key == "scores"
    assert spec.partition_key == KeyAttribute("board", "S")
    assert spec.sort_key == KeyAttribute("player", "S")
    assert spec.ttl_attribute == "gone_at"
    assert spec.indexes == (
        IndexSpec(
            name="by_score",
            partition_key=KeyAttribute("board", "S"),
            sort_key=KeyAttribute("score", "N"),
            projection="INCLUDE",
            non_key_attributes=("label",),
        ),
    )


class _Marker(Model):
    class Meta:
        table_name = "strata-scores"

    board = UnicodeAttribute(hash_key=True)


class _Counter(Model):
    class Meta:
        table_name = "strata-scores"

    board = UnicodeAttribute(hash_key=True)
    player = UnicodeAttribute(range_key=True)
    ends_at = TTLAttribute()


def test_models_sharing_a_table_must_agree_with_its_owner() -> None:
    keys = {_Scores: "scores"}
    with pytest.raises(
        ValueError, match=r"_Marker shares the scores table.*primary key"
    ):
        table_specs([_Scores], [_Scores, _Marker], keys)
    with pytest.raises(ValueError, match=r"_Counter shares the scores table.*TTL"):
        table_specs([_Scores], [_Scores, _Counter], keys)
    with pytest.raises(ValueError, match="_Marker: no table key"):
        table_key(_Marker, keys)


# --- Stripe's secrets, imported -----------------------------------------------------

_KEY_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:strata/prod/stripe-AbC123"
)


def _secrets_template(**stage_changes: Any) -> dict[str, Any]:
    from aws_cdk import App, Environment, Stack
    from aws_cdk.assertions import Template

    from infra_cdk.constructs.secrets import Secrets

    stack = Stack(
        App(), "Probe", env=Environment(account="123456789012", region="us-east-1")
    )
    secrets = Secrets(stack, "Secrets", stage=replace(STAGES["dev"], **stage_changes))
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    template["_env"] = stack.resolve(secrets.permission_env)
    # Resolved through the stack, as the functions' policies are.
    template["_grants"] = {
        permission: stack.resolve(factory().to_statement_json())
        for permission, factory in secrets.grants.items()
    }
    return template


def _arn(suffix: str) -> dict[str, Any]:
    """The webhook secret's ARN, imported by name (the partition is the stack's)."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":secretsmanager:us-east-1:123456789012:secret:strata/prod/webhook"
                + suffix,
            ],
        ]
    }


def test_a_stage_may_import_existing_stripe_secrets_by_arn_or_name() -> None:
    template = _secrets_template(
        stripe_api_key_secret=_KEY_ARN, stripe_webhook_secret="strata/prod/webhook"
    )
    kinds = [r["Type"] for r in template["Resources"].values()]
    # Only the generated JWT key and pepper: imported secrets are never written.
    assert kinds.count("AWS::SecretsManager::Secret") == 2
    (pepper,) = template["_env"].pop("secrets:pepper").values()
    assert pepper["Ref"].startswith("SecretsPasswordPepper")
    assert template["_env"] == {
        "stripe:api": {"STRATA_STRIPE_API_KEY_ARN": _KEY_ARN},
        "stripe:webhook": {"STRATA_STRIPE_WEBHOOK_SECRET_ARN": _arn("")},
    }
    assert template["_grants"]["stripe:api"] == {
        "Action": "secretsmanager:GetSecretValue",
        "Effect": "Allow",
        "Resource": _KEY_ARN,
    }
    # By name: the six random characters of the full ARN, and no "*".
    assert template["_grants"]["stripe:webhook"]["Resource"] == _arn("-??????")


def test_placeholders_are_created_when_the_stage_names_no_stripe_secret() -> None:
    template = _secrets_template()
    placeholders = [
        r["Properties"]["SecretString"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::Secret"
        and "SecretString" in r["Properties"]
    ]
    assert len(placeholders) == 2
    assert all(p.startswith("PLACEHOLDER") for p in placeholders)


@pytest.mark.parametrize(
    "configured",
    [
        # An ARN without the six random characters: a policy on it matches nothing.
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:strata/prod/stripe",
        "not a secret name",
    ],
)
def test_an_unusable_stripe_secret_reference_fails_the_synth(configured: str) -> None:
    with pytest.raises(ValueError, match="StripeApiKey"):
        _secrets_template(stripe_api_key_secret=configured)


def test_every_secondary_index_is_queried_through_exactly_one_permission() -> None:
    from functions.permissions import INDEX_PERMISSIONS
    from infra_cdk.tables_from_models import table_specs

    indexes = sorted(
        (spec.key, index.name) for spec in table_specs() for index in spec.indexes
    )
    named = sorted(
        (table, index) for table, names in INDEX_PERMISSIONS.values() for index in names
    )

    assert named == indexes
