"""The cdk-nag check can fail: the same wiring reports a finding where one exists."""

from __future__ import annotations

import json
from pathlib import Path

from infra_cdk.app import add_checks


def test_cdk_nag_reports_a_non_compliant_bucket_through_the_apps_own_wiring(
    tmp_path: Path,
) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    app = App(
        context={"@aws-cdk/core:failSynthOnValidationErrors": False},
        outdir=str(tmp_path),
    )
    s3.Bucket(Stack(app, "Careless"), "Open")  # no access logs, no TLS-only policy
    add_checks(app)
    app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {
        violation["ruleName"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    }
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_cdk_nag_reports_a_finding_inside_a_nested_stack(tmp_path: Path) -> None:
    """The app's endpoints live in nested stacks: the checks see into them."""
    from aws_cdk import App, NestedStack, Stack
    from aws_cdk import aws_s3 as s3

    app = App(
        context={"@aws-cdk/core:failSynthOnValidationErrors": False},
        outdir=str(tmp_path),
    )
    s3.Bucket(NestedStack(Stack(app, "Careless"), "Inner"), "Open")
    add_checks(app)
    app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert ("AwsSolutions-S1", "Careless/Inner/Open/Resource") in found


def test_an_endpoint_role_in_a_nested_stack_may_hold_export_objects(
    tmp_path: Path,
) -> None:
    """The acknowledgment of ``<export bucket ARN>/*`` names the ARN as cdk-nag sees
    it in the role's stack (a parameter in a nested one): no finding is left."""
    from aws_cdk import App, NestedStack, Stack
    from aws_cdk import aws_iam as iam

    from infra_cdk.app import cdk_json_context
    from infra_cdk.constructs.storage import Storage
    from infra_cdk.stages import get_stage

    app = App(
        context=cdk_json_context()
        | {"@aws-cdk/core:failSynthOnValidationErrors": False},
        outdir=str(tmp_path),
    )
    parent = Stack(app, "Parent")
    storage = Storage(parent, "Storage", stage=get_stage("dev"))
    roles = []
    for scope in (parent, NestedStack(parent, "Endpoints")):
        role = iam.Role(
            scope, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
        )
        role.add_to_policy(storage.grants["exports:read"]())
        storage.acknowledge_object_grants(role)
        roles.append(role)
    add_checks(app)
    app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert report["pluginReports"] == [] or all(
        plugin["violations"] == [] for plugin in report["pluginReports"]
    )
    nested = storage.objects_finding_in(roles[1])
    assert nested != storage.objects_finding_in(roles[0])
    assert "referenceto" in nested
