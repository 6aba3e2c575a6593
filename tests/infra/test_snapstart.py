"""SnapStart, a per-stage setting: on a stage that turns it on, every function of
ours is snapshotted on its published versions and every trigger (API Gateway, the
task queue, the schedules) invokes its ``live`` alias; on the others, nothing of it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra_cdk.stages import STAGES
from tests.infra.conftest import Synth

pytest.importorskip("aws_cdk")


def _ours(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        logical_id: function
        for logical_id, function in synth.of_type("AWS::Lambda::Function").items()
        if function["Properties"]["Handler"].startswith("functions.")
    }


def _aliases(synth: Synth) -> dict[str, dict[str, Any]]:
    """Each function's ``live`` alias, by the function's logical id."""
    found: dict[str, dict[str, Any]] = {}
    for logical_id, alias in synth.of_type("AWS::Lambda::Alias").items():
        props = alias["Properties"]
        assert props["Name"] == "live"
        function = props["FunctionName"]["Ref"]
        assert function not in found, function
        found[function] = {"id": logical_id, **props}
    return found


def _mentions(value: Any, logical_id: str) -> bool:
    text = json.dumps(value)
    return f'"Ref": "{logical_id}"' in text or f'"Fn::GetAtt": ["{logical_id}"' in text


def test_prod_turns_snapstart_on_and_the_other_stages_leave_it_off() -> None:
    assert {name: stage.snap_start for name, stage in STAGES.items()} == {
        "dev": False,
        "staging": False,
        "prod": True,
    }


def test_snapstart_applies_to_published_versions_of_every_function_or_none(
    synth: Synth,
) -> None:
    ours = _ours(synth)
    assert ours
    for logical_id, function in ours.items():
        props = function["Properties"]
        expected = {"ApplyOn": "PublishedVersions"} if synth.stage.snap_start else None
        assert props.get("SnapStart") == expected, logical_id
        # What SnapStart for Python needs: the 3.12 runtime (arm64 is supported).
        assert props["Runtime"] == "python3.12"
        assert "FileSystemConfigs" not in props
        assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512


def test_with_snapstart_each_function_has_a_live_alias_on_its_published_version(
    synth: Synth,
) -> None:
    aliases = _aliases(synth)
    versions = synth.of_type("AWS::Lambda::Version")
    if not synth.stage.snap_start:
        assert aliases == {}
        assert versions == {}
        return
    assert set(aliases) == set(_ours(synth))
    for function, alias in aliases.items():
        version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert versions[version_id]["Properties"]["FunctionName"] == {"Ref": function}


def test_every_trigger_invokes_the_alias_when_snapstart_is_on(synth: Synth) -> None:
    """API routes, the queue's event source, the schedules and their permissions:
    with SnapStart, each names the alias (a restore needs a published version);
    without, the function."""
    aliases = _aliases(synth)
    ours = _ours(synth)
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    rules = synth.of_type("AWS::Events::Rule")
    invoke_configs = synth.of_type("AWS::Lambda::EventInvokeConfig")
    permissions = {
        k: p
        for k, p in synth.of_type("AWS::Lambda::Permission").items()
        if p["Properties"]["Principal"]
        in ("apigateway.amazonaws.com", "events.amazonaws.com")
    }
    for found in (integrations, mappings, rules, invoke_configs, permissions):
        assert found
    triggers = [
        *(i["Properties"]["IntegrationUri"] for i in integrations.values()),
        *(m["Properties"]["FunctionName"] for m in mappings.values()),
        *(t["Arn"] for r in rules.values() for t in r["Properties"]["Targets"]),
        *(p["Properties"]["FunctionName"] for p in permissions.values()),
    ]
    qualifiers = [c["Properties"]["Qualifier"] for c in invoke_configs.values()]
    if synth.stage.snap_start:
        triggers += qualifiers
    else:
        # The scheduler's on-failure destination covers what it invokes.
        assert set(qualifiers) == {"$LATEST"}
    for trigger in triggers:
        names_alias = any(_mentions(trigger, a["id"]) for a in aliases.values())
        names_function = any(_mentions(trigger, f) for f in ours)
        assert names_alias is synth.stage.snap_start, trigger
        assert names_function is not synth.stage.snap_start, trigger
