"""The move of a deployed stage to the narrow users indexes, step by step
(``infra_cdk.index_rollout``): each deploy within CloudFormation's limit of one
index created or deleted per table update, and the code never Querying an index
the table does not have, or one its role may not Query."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.adapters.dynamodb.models import (
    PREVIOUS_INDEX_NAMES,
    SessionItem,
    TaskItem,
    UserItem,
    bind_tables,
    table_connection,
)
from functions.permissions import INDEX_PERMISSIONS
from infra_cdk.constructs.data import indexes_during
from infra_cdk.index_rollout import ROLLOUT_STEPS, IndexRollout, rollout
from infra_cdk.stages import STAGES
from infra_cdk.tables_from_models import IndexSpec, table_specs
from tests.infra.conftest import Synth, synthesize

STEPS: list[int | None] = [*range(1, ROLLOUT_STEPS + 1), None]


def _users_indexes(state: IndexRollout) -> dict[str, IndexSpec]:
    (users,) = [spec for spec in table_specs() if spec.key == "users"]
    return {index.name: index for index in indexes_during(users, state)}


def _deployed_before() -> dict[str, IndexSpec]:
    """The users indexes of a stage deployed before the move: the same keys under
    the old names, projecting whole items."""
    return {
        previous: IndexSpec(
            name=previous,
            partition_key=index.partition_key,
            sort_key=index.sort_key,
            projection="ALL",
        )
        for index in _users_indexes(rollout(None)).values()
        for previous in [PREVIOUS_INDEX_NAMES[index.name]]
    }


def test_each_deploy_creates_or_deletes_one_index_at_most() -> None:
    before = _deployed_before()
    for step in STEPS:
        after = _users_indexes(rollout(step))
        changed = set(before) ^ set(after)
        assert len(changed) <= 1, (step, sorted(changed))
        # An index kept across a deploy keeps its shape (CloudFormation cannot
        # change one in place either).
        for name in set(before) & set(after):
            assert before[name] == after[name], (step, name)
        before = after
    assert set(before) == set(PREVIOUS_INDEX_NAMES)


def test_the_code_queries_only_indexes_the_table_has_and_its_role_may_query() -> None:
    for step in STEPS:
        state = rollout(step)
        on_table = set(_users_indexes(state))
        for table, index_names in INDEX_PERMISSIONS.values():
            if table != "users":
                continue
            for name in index_names:
                queried = PREVIOUS_INDEX_NAMES[name] if state.query_previous else name
                assert queried in on_table, (step, queried)
                assert queried in state.names_of(name), (step, queried)
                assert set(state.names_of(name)) <= on_table, step


def test_the_old_indexes_project_whole_items_until_deleted_and_the_new_never() -> None:
    for step in STEPS:
        for name, index in _users_indexes(rollout(step)).items():
            if name in PREVIOUS_INDEX_NAMES:
                assert index.projection in ("KEYS_ONLY", "INCLUDE"), name
                assert "password_hash" not in index.non_key_attributes
            else:
                assert index.projection == "ALL", name


def test_a_step_outside_the_rollout_is_refused() -> None:
    for step in (0, ROLLOUT_STEPS + 1):
        with pytest.raises(ValueError, match="indexStep"):
            rollout(step)


def test_binding_the_previous_indexes_points_the_queries_at_them() -> None:
    bound = (
        UserItem.Meta.table_name,
        SessionItem.Meta.table_name,
        getattr(UserItem.Meta, "region", None) or "us-east-1",
    )
    tasks = TaskItem.Meta.table_name
    try:
        bind_tables(*bound, tasks_table=tasks, previous_indexes=True)
        assert UserItem.by_created_at.Meta.index_name == "users_by_created_at"
        meta = table_connection(UserItem).get_meta_table()
        assert all(meta.has_index_name(old) for old in PREVIOUS_INDEX_NAMES.values())

        bind_tables(*bound, tasks_table=tasks)
        assert UserItem.by_created_at.Meta.index_name == "users_by_created_at_v2"
        meta = table_connection(UserItem).get_meta_table()
        assert all(meta.has_index_name(new) for new in PREVIOUS_INDEX_NAMES)
    finally:
        bind_tables(*bound, tasks_table=tasks)


def _users_table(synth: Synth) -> dict[str, Any]:
    (users,) = [
        resource["Properties"]
        for resource in synth.of_type("AWS::DynamoDB::Table").values()
        if resource["Properties"]["TableName"].endswith("-users")
    ]
    return users


def _query_resources(synth: Synth, function: str) -> set[str]:
    """The index names the function's role may Query."""
    (role,) = [
        props["Role"]["Fn::GetAtt"][0]
        for props in (
            f["Properties"] for f in synth.of_type("AWS::Lambda::Function").values()
        )
        if props.get("FunctionName")
        == f"{synth.stage.prefix}-{function.replace('_', '-')}"
    ]
    names = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] != "dynamodb:Query":
                continue
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                names.add(json.dumps(resource).rsplit("/index/", 1)[-1].strip('"]} '))
    return names


def test_a_stage_synthesized_at_a_step_has_both_indexes_and_queries_the_old_ones(
    tmp_path_factory: pytest.TempPathFactory,
    assets: Any,
) -> None:
    """``-c indexStep=2`` reaches the table, the functions' variables and their
    grants (one synth of dev: the wiring, beside the plan's own tests above)."""
    synth = synthesize(
        STAGES["dev"], tmp_path_factory.mktemp("cdk-step"), {"indexStep": "2"}
    )

    names = sorted(
        i["IndexName"] for i in _users_table(synth)["GlobalSecondaryIndexes"]
    )
    assert names == sorted(
        [
            *PREVIOUS_INDEX_NAMES.values(),
            "users_by_created_at_v2",
            "users_by_username_v2",
        ]
    )
    functions = [
        f["Properties"] for f in synth.of_type("AWS::Lambda::Function").values()
    ]
    ours = [f for f in functions if f.get("FunctionName", "").startswith("strata-dev-")]
    assert ours
    for function in ours:
        assert (
            function["Environment"]["Variables"]["STRATA_PREVIOUS_USER_INDEXES"]
            == "true"
        )
    # The admin's listing may Query the new listing indexes made so far and the old.
    assert _query_resources(synth, "list_users") == {
        "users_by_created_at",
        "users_by_username",
        "users_by_created_at_v2",
        "users_by_username_v2",
    }
