"""cdk-nag (AWS Solutions) and cfn-lint on every stage, and the CLI synth itself."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="needs the infra extras: make test")

from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import NESTED_STACK, Synth, read_flattened

ROOT = Path(__file__).resolve().parents[2]
# Rules that may be acknowledged, and where: anything new needs a decision here too.
ACKNOWLEDGEABLE = {
    "AwsSolutions-APIG4",  # routes: the app authenticates with its session cookie
    "AwsSolutions-L1",  # functions: python3.12 pinned with the build
    # roles: X-Ray needs "*", and BatchGetSecretValue (no resource type)
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-SMG4",  # secrets: rotation would log out / break all passwords
    "AwsSolutions-DDB3",  # tables, dev only: no PITR for disposable data
    # The export bucket's server access log bucket: logging it would need another.
    "AwsSolutions-S1",
    # The schedule's dead letter queue is one for Lambda and EventBridge, which
    # cdk-nag does not see (it looks for queues' redrive policies only).
    "AwsSolutions-SQS3",
}
# The same rule for one resource: the roles that put or get export objects hold
# <export bucket ARN>/* (objects are named by task id), and nothing else may. In a
# nested stack (an endpoint's) the ARN is the parameter the parent passes.
EXPORT_OBJECTS = re.compile(
    r"AwsSolutions-IAM5\[Resource::<(StorageExportsBucket\w{8}\.Arn"
    r"|referencetostrata\w+StorageExportsBucket\w{8}Arn)>/\*\]"
)
ACKNOWLEDGEABLE_PATTERNS = (EXPORT_OBJECTS,)
# cfn-lint warnings accepted, with why: anything else fails.
ACCEPTED_WARNINGS = {
    # Lambda's L2 adds DependsOn on the role it also references with GetAtt.
    "W3005",
}


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    report = synth.validation_report
    violations = [
        (violation["ruleName"], violation["severity"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert violations == []


def _acknowledgments(synth: Synth) -> list[tuple[str, str, str]]:
    found = []
    for logical_id, resource in synth.resources.items():
        for rule in (
            resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        ):
            found.append((logical_id, rule["id"], rule["reason"]))
    return found


def test_every_acknowledgment_is_a_known_rule_with_a_specific_reason(
    synth: Synth,
) -> None:
    acknowledgments = _acknowledgments(synth)
    assert acknowledgments, "the nag plugin should record its acknowledgments"
    for logical_id, rule, reason in acknowledgments:
        assert rule in ACKNOWLEDGEABLE or any(
            pattern.fullmatch(rule) for pattern in ACKNOWLEDGEABLE_PATTERNS
        ), (logical_id, rule)
        assert len(reason) >= 60, (logical_id, rule, reason)
        if rule == "AwsSolutions-S1":
            assert logical_id.startswith("StorageAccessLogsBucket"), logical_id
        if rule == "AwsSolutions-SQS3":
            assert logical_id.startswith("JobsScheduleDeadLetterQueue"), logical_id
        if EXPORT_OBJECTS.fullmatch(rule):
            assert "Role" in logical_id, logical_id
        if rule == "AwsSolutions-IAM5[Resource::*]":
            _assert_wildcards_explained(synth, logical_id, reason)
    rules = {rule for _, rule, _ in acknowledgments}
    assert ("AwsSolutions-DDB3" in rules) is (not synth.stage.point_in_time_recovery)


def _assert_wildcards_explained(synth: Synth, logical_id: str, reason: str) -> None:
    """A role's (or its policy's) "*" acknowledgment names each action it holds on
    "*", and says why a batch read of secrets reads no secret beyond those granted
    by ARN."""
    resource = synth.resources[logical_id]
    policies = (
        [resource]
        if resource["Type"] == "AWS::IAM::Policy"
        else [
            policy
            for policy in synth.of_type("AWS::IAM::Policy").values()
            if {"Ref": logical_id} in policy["Properties"]["Roles"]
        ]
    )
    on_any = {
        action
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == "*"
        for action in (
            statement["Action"]
            if isinstance(statement["Action"], list)
            else [statement["Action"]]
        )
    }
    assert ("xray:PutTraceSegments" in on_any) is ("X-Ray" in reason), logical_id
    batch = "secretsmanager:BatchGetSecretValue"
    assert (batch in on_any) is (batch in reason), logical_id
    if batch in on_any:
        assert "GetSecretValue on each secret" in reason, logical_id


def test_cfn_lint_finds_no_error(synth: Synth) -> None:
    """On the parent template and each nested stack's, as written."""
    assert len(synth.template_paths) > 1, "the nested stacks' templates"
    matches = [
        match
        for path in synth.template_paths
        for match in lint_file(path, ManualArgs(regions=["us-east-1"]))
    ]
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
    unexpected = [
        f"{m.rule.id} {m.message}"
        for m in matches
        if m.rule.id not in ACCEPTED_WARNINGS
    ]
    assert unexpected == []


def test_cdk_cli_synthesizes_dev_offline_like_the_tests(
    synth_by_stage: dict[str, Synth], tmp_path: Path
) -> None:
    """cdk.json, the npm-installed CLI and the app agree with the in-process synth."""
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    assert cdk.exists(), "run `npm ci` (make test does)"
    env = os.environ | {
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    result = subprocess.run(
        [
            str(cdk),
            "synth",
            "-c",
            "stage=dev",
            "--quiet",
            "--no-notices",
            "-o",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The CLI adds its version-reporting resource (to each template, so the nested
    # templates' hashes in their URLs differ too); everything else, parent and
    # nested stacks, is identical.
    cli, paths = read_flattened(
        tmp_path / "strata-dev.template.json", drop=("CDKMetadata",)
    )
    assert len(paths) == len(synth_by_stage["dev"].template_paths)
    assert _without_template_urls(cli["Resources"]) == _without_template_urls(
        synth_by_stage["dev"].resources
    )


def _without_template_urls(resources: dict[str, Any]) -> dict[str, Any]:
    return {
        logical_id: (
            resource
            | {
                "Properties": {
                    k: v
                    for k, v in resource["Properties"].items()
                    if k != "TemplateURL"
                }
            }
            if resource["Type"] == NESTED_STACK
            else resource
        )
        for logical_id, resource in resources.items()
    }
