"""The app under CloudFormation's 500 resources per template: each endpoint's
resources in its path area's nested stack (``infra_cdk.groups``), every template
under the ceiling, and the nested templates the assets ``cdk synth`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.catalog import ENDPOINTS, Endpoint
from infra_cdk.count import count_templates, nested_templates
from infra_cdk.groups import CEILING, CLOUDFORMATION_LIMIT, SITE, endpoint_group
from tests.infra.conftest import NESTED_STACK, Synth, flatten

pytest.importorskip("aws_cdk")


def _endpoint(path: str) -> Endpoint:
    return Endpoint(name="new", method="GET", path=path, module="functions.http.new")


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/api/v1/account/login", "Account"),
        ("/api/v1/orgs/{org_id}/billing/checkout", "Orgs"),
        ("/api/v1/users", "Users"),
        ("/api/v1/audit-log", "AuditLog"),
        ("/api/v1/", SITE),
        ("/api/v1/{anything}", SITE),
        ("/", SITE),
        ("/docs/assets/{file}", SITE),
    ],
)
def test_an_endpoint_goes_to_the_group_of_its_paths_area(path: str, group: str) -> None:
    assert endpoint_group(_endpoint(path)) == group


def test_the_ceiling_leaves_room_below_cloudformations_limit() -> None:
    assert CEILING <= CLOUDFORMATION_LIMIT - 100


def test_every_template_is_under_the_ceiling(synth: Synth) -> None:
    counts = count_templates(synth.outdir, synth.template_path.name.split(".")[0])
    assert len(counts) > 1
    over = [
        f"{c.name}: {c.resources} resources (split this group in infra_cdk.groups)"
        if c.name != "parent"
        else f"parent: {c.resources} resources (move more into nested stacks)"
        for c in counts
        if c.resources > CEILING
    ]
    assert over == [], f"{synth.stage.name}: templates over {CEILING}: {over}"
    assert sum(c.resources for c in counts) == len(synth.resources)


def test_every_template_is_within_cloudformations_parameter_and_output_limits(
    synth: Synth,
) -> None:
    """A nested stack takes a parameter per parent value its resources use and gives
    an output per value the parent reads (the dashboard's function names)."""
    for path in synth.template_paths:
        template = json.loads(path.read_text())
        assert len(template.get("Parameters", {})) <= 200, path.name
        assert len(template.get("Outputs", {})) <= 200, path.name


def _nested_resources(synth: Synth) -> dict[str, dict[str, Any]]:
    """The parent's nested stack logical id -> that template's resources."""
    parent = json.loads(synth.template_path.read_text())
    return {
        logical_id: json.loads(path.read_text())["Resources"]
        for logical_id, path in nested_templates(synth.outdir, parent).items()
    }


def test_each_endpoints_function_route_and_alarms_are_in_its_groups_stack(
    synth: Synth,
) -> None:
    parent = json.loads(synth.template_path.read_text())
    nested = _nested_resources(synth)
    by_function_name = {
        resource["Properties"]["FunctionName"]: (stack_id, resources)
        for stack_id, resources in nested.items()
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    for endpoint in ENDPOINTS:
        name = f"{synth.stage.prefix}-{endpoint.name.replace('_', '-')}"
        assert name in by_function_name, f"{name} is not in a nested stack"
        stack_id, resources = by_function_name[name]
        assert stack_id.startswith(f"Api{endpoint_group(endpoint)}Endpoints"), name
        types = {r["Type"] for r in resources.values()}
        assert {
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::Logs::LogGroup",
            "AWS::ApiGatewayV2::Route",
            "AWS::ApiGatewayV2::Integration",
            "AWS::Lambda::Permission",
            "AWS::CloudWatch::Alarm",
        } <= types
        alarms = {
            r["Properties"]["AlarmName"]
            for r in resources.values()
            if r["Type"] == "AWS::CloudWatch::Alarm"
        }
        assert {f"{name}-errors", f"{name}-throttles", f"{name}-p99-duration"} <= (
            alarms
        )
    kept = {r["Type"] for r in parent["Resources"].values()}
    assert {
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::DynamoDB::Table",
        "AWS::SNS::Topic",
        "AWS::CloudWatch::Dashboard",
        "AWS::Lambda::LayerVersion",
    } <= kept
    assert "AWS::ApiGatewayV2::Route" not in kept


def test_the_parent_deploys_each_nested_template_cdk_synth_wrote_as_an_asset(
    synth: Synth,
) -> None:
    parent = json.loads(synth.template_path.read_text())
    manifest = json.loads(
        synth.template_path.with_name(
            synth.template_path.name.replace(".template.json", ".assets.json")
        ).read_text()
    )
    by_file = {
        asset["source"]["path"]: destination["objectKey"]
        for asset in manifest["files"].values()
        for destination in asset["destinations"].values()
    }
    stacks = {k: v for k, v in parent["Resources"].items() if v["Type"] == NESTED_STACK}
    paths = nested_templates(synth.outdir, parent)
    assert set(paths) == set(stacks)
    assert {p for p in synth.template_paths if p != synth.template_path} == set(
        paths.values()
    )
    for logical_id, path in paths.items():
        assert path.name.endswith(".nested.template.json")
        assert path.is_file()
        url = json.dumps(stacks[logical_id]["Properties"]["TemplateURL"])
        assert by_file[path.name] in url, logical_id


def _parent(parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table"},
            "Inner": {
                "Type": NESTED_STACK,
                "Properties": {"Parameters": parameters},
            },
            "Dashboard": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {"Name": {"Fn::GetAtt": ["Inner", "Outputs.FnName"]}},
            },
        }
    }


def _nested(resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "Parameters": {"refTable": {"Type": "String"}},
        "Resources": resources,
        "Outputs": {"FnName": {"Value": {"Ref": "Fn"}}},
    }


def test_the_flattened_view_names_the_parents_resources_and_the_nested_outputs() -> (
    None
):
    parent = _parent({"refTable": {"Fn::GetAtt": ["Table", "Arn"]}})
    nested = _nested(
        {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"T": {"Ref": "refTable"}},
            }
        }
    )
    flat = flatten(parent, {"Inner": nested})["Resources"]
    assert flat["Fn"]["Properties"]["T"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert flat["Dashboard"]["Properties"]["Name"] == {"Ref": "Fn"}
    assert set(flat) == {"Table", "Inner", "Dashboard", "Fn"}


def test_the_flattened_view_refuses_a_logical_id_in_two_templates() -> None:
    parent = _parent({"refTable": {"Ref": "Table"}})
    nested = _nested({"Table": {"Type": "AWS::SQS::Queue"}})
    with pytest.raises(AssertionError, match="Table is in two templates"):
        flatten(parent, {"Inner": nested})


def test_the_count_command_prints_each_template_of_what_cdk_synth_wrote(
    synth: Synth, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra_cdk import count

    stage = synth.stage.name
    assert count.main(["--outdir", str(synth.outdir), stage]) == 0
    lines = capsys.readouterr().out.splitlines()
    total = len(synth.resources)
    assert (
        lines[0]
        == f"{stage}: {total} resources in {len(synth.template_paths)} templates"
    )
    printed = {line.split()[0]: int(line.split()[1]) for line in lines[1:-1]}
    assert printed["parent"] == len(
        json.loads(synth.template_path.read_text())["Resources"]
    )
    assert set(printed) == {"parent"} | {
        f"{endpoint_group(e)}Endpoints" for e in ENDPOINTS
    }
