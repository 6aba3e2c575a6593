"""The pieces of the CDK app that need no synth: stages, table specs, route paths."""

from __future__ import annotations

import json
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
from infra_cdk.stages import DEFAULT_STAGE, STAGES, get_stage
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
    for stage in STAGES.values():
        assert "*" not in stage.cors_origins
        retention(stage.log_retention_days)  # a period CloudWatch Logs accepts
        # The runtime must accept the TTL the stage hands it.
        Settings.model_validate({"session_ttl_seconds": stage.session_ttl_seconds})


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
    assert set(specs) == {"users", "sessions", "tasks"}
    assert specs["tasks"].partition_key == KeyAttribute("id", "S")
    assert specs["tasks"].ttl_attribute == "expires_at"
    assert specs["tasks"].env_var == "STRATA_TASKS_TABLE"
    assert specs["users"].partition_key == KeyAttribute("pk", "S")
    assert [i.name for i in specs["users"].indexes] == [
        "unverified_users",
        "users_by_created_at",
        "users_by_username",
    ]
    assert specs["sessions"].ttl_attribute == "expires_at"
    assert specs["sessions"].env_var == "STRATA_SESSIONS_TABLE"


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
            "probe-users", "probe-sessions", "us-east-1", tasks_table="probe-tasks"
        )
        for model, key in TABLE_KEYS.items():
            assert model.Meta.table_name == f"probe-{key}", model.__name__
        assert {spec.key for spec in table_specs()} == set(TABLE_KEYS.values())
    finally:
        for model, name, region in saved:
            meta: Any = model.Meta
            meta.table_name, meta.region = name, region
            model._connection = None


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
