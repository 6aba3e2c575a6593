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
