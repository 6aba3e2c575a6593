"""Offline checks of the CDK app: one in-process synth per stage per test session.

Each stage is synthesized once, with the cdk-nag AWS Solutions checks registered and
``failSynthOnValidationErrors`` off so that the validation report can be read and
asserted on. No AWS credentials and no network: the environment is a fixed fake.

The app is a parent stack and nested stacks (``infra_cdk.groups``); the tests read
one flattened template (``Synth.template``): the parent's resources and every
nested template's, each nested parameter replaced by what the parent passes it and
each parent reference to a nested output by the output's value, so a function's
role still names the table itself and a route still names its function.

The CDK libraries are imported lazily: without the ``infra`` extras, the test modules
skip themselves (``make test`` installs the extras).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra_cdk import build
from infra_cdk.count import nested_templates
from infra_cdk.stages import STAGES, StageConfig

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

# Before anything loads jsii: it reads these when its Node process starts.
os.environ.update(
    CDK_DEFAULT_ACCOUNT="123456789012",
    CDK_DEFAULT_REGION="us-east-1",
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    AWS_EC2_METADATA_DISABLED="true",
)

Resources = dict[str, dict[str, Any]]


NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class Synth:
    stage: StageConfig
    outdir: Path
    # The parent stack's template, as written.
    template_path: Path
    # The parent and nested templates flattened into one (see the module docstring).
    template: dict[str, Any]
    validation_report: dict[str, Any]
    assertions: Template
    # The parent's and every nested stack's template file, as written.
    template_paths: tuple[Path, ...] = ()

    @property
    def resources(self) -> Resources:
        resources: Resources = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> Resources:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}


@pytest.fixture(scope="session")
def assets() -> tuple[build.AssetStats, build.AssetStats, build.AssetStats]:
    """The built layer, code and stripe layer (``make build``; a no-op here when
    up to date)."""
    return build.build()


@pytest.fixture(scope="session")
def synth_cache(
    assets: tuple[build.AssetStats, build.AssetStats, build.AssetStats],
) -> dict[str, Synth]:
    """Synthesized stages, filled on first use: at most one synth per stage."""
    return {}


def synthesize(
    stage: StageConfig, outdir: Path, extra_context: dict[str, Any] | None = None
) -> Synth:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra_cdk.app import add_checks, add_stack, cdk_json_context, stack_name

    context = (
        cdk_json_context()
        | {
            # Report nag findings instead of raising, so the tests can list them.
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            # What the CLI turns on: construct paths and asset paths in the metadata.
            "aws:cdk:enable-path-metadata": True,
            "aws:cdk:enable-asset-metadata": True,
        }
        | (extra_context or {})
    )
    app = App(context=context, outdir=str(outdir))
    add_stack(app, stage.name)
    add_checks(app)
    app.synth()
    template_path = outdir / f"{stack_name(stage.name)}.template.json"
    template, template_paths = read_flattened(template_path)
    return Synth(
        stage=stage,
        outdir=outdir,
        template_path=template_path,
        template_paths=template_paths,
        template=template,
        validation_report=json.loads((outdir / "validation-report.json").read_text()),
        assertions=Template.from_json(template),
    )


def _substitute(value: Any, replace: Callable[[dict[str, Any]], Any | None]) -> Any:
    """``value`` with every dict for which ``replace`` returns something replaced."""
    if isinstance(value, dict):
        replaced = replace(value)
        if replaced is not None:
            return replaced
        return {k: _substitute(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, replace) for v in value]
    return value


def flatten(
    parent: dict[str, Any], nested: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One template of the parent's and the nested templates' resources (by the
    parent's logical id of each nested stack): a nested ``{"Ref": <parameter>}`` is
    the expression the parent passes, a parent ``{"Fn::GetAtt": [<nested>,
    "Outputs.<X>"]}`` the nested output's value; logical ids stay unique."""
    resolved: dict[str, dict[str, Any]] = {}

    def parent_reference(node: dict[str, Any]) -> Any | None:
        target = node.get("Fn::GetAtt")
        if (
            isinstance(target, list)
            and len(target) == 2
            and target[0] in nested
            and str(target[1]).startswith("Outputs.")
        ):
            output = str(target[1]).removeprefix("Outputs.")
            return resolve(target[0])["Outputs"][output]["Value"]
        return None

    def resolve(logical_id: str) -> dict[str, Any]:
        if logical_id not in resolved:
            template = nested[logical_id]
            passed = parent["Resources"][logical_id]["Properties"].get("Parameters", {})
            declared = set(template.get("Parameters", {}))
            assert declared == set(passed), (logical_id, declared ^ set(passed))
            values = {k: _substitute(v, parent_reference) for k, v in passed.items()}

            def parameter(node: dict[str, Any]) -> Any | None:
                name = node.get("Ref")
                return values.get(name) if isinstance(name, str) else None

            resolved[logical_id] = _substitute(template, parameter)
            text = json.dumps(resolved[logical_id].get("Resources", {}))
            for name in declared:
                assert f"${{{name}}}" not in text, (logical_id, name)
        return resolved[logical_id]

    resources = _substitute(parent["Resources"], parent_reference)
    for logical_id in nested:
        for child_id, resource in resolve(logical_id)["Resources"].items():
            assert child_id not in resources, f"{child_id} is in two templates"
            resources[child_id] = resource
    return {
        **parent,
        "Resources": resources,
        "Outputs": _substitute(parent.get("Outputs", {}), parent_reference),
    }


def read_flattened(
    template_path: Path, *, drop: tuple[str, ...] = ()
) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """The flattened view of the parent template at ``template_path`` and its nested
    templates beside it (without the logical ids in ``drop``, from each), and the
    paths of all of them."""

    def read(path: Path) -> dict[str, Any]:
        template: dict[str, Any] = json.loads(path.read_text())
        for logical_id in drop:
            template["Resources"].pop(logical_id, None)
        return template

    parent = read(template_path)
    nested_paths = nested_templates(template_path.parent, parent)
    template = flatten(
        parent, {logical_id: read(path) for logical_id, path in nested_paths.items()}
    )
    return template, (template_path, *sorted(nested_paths.values()))


def _synth(
    cache: dict[str, Synth], name: str, factory: pytest.TempPathFactory
) -> Synth:
    if name not in cache:
        cache[name] = synthesize(STAGES[name], factory.mktemp(f"cdk-{name}"))
    return cache[name]


@pytest.fixture(scope="session", params=sorted(STAGES))
def synth(
    request: pytest.FixtureRequest,
    synth_cache: dict[str, Synth],
    tmp_path_factory: pytest.TempPathFactory,
) -> Synth:
    """The stage's synthesized app; every test that takes it runs once per stage."""
    return _synth(synth_cache, request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def synth_by_stage(
    synth_cache: dict[str, Synth], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Synth]:
    """Every stage at once, for tests that compare stages."""
    return {name: _synth(synth_cache, name, tmp_path_factory) for name in STAGES}


def invoked_function(synth: Synth, trigger: Any) -> str:
    """The logical id of the function a trigger's target names: the function
    itself (``Fn::GetAtt``/``Ref``), or, on a stage with SnapStart, its ``live``
    alias (``tests/infra/test_snapstart.py`` checks which a stage uses)."""
    aliases = synth.of_type("AWS::Lambda::Alias")
    functions = synth.of_type("AWS::Lambda::Function")
    text = json.dumps(trigger)
    for alias_id, alias in aliases.items():
        if f'"Ref": "{alias_id}"' in text:
            function_id: str = alias["Properties"]["FunctionName"]["Ref"]
            return function_id
    found = [
        function_id
        for function_id in functions
        if f'"Ref": "{function_id}"' in text
        or f'"Fn::GetAtt": ["{function_id}"' in text
    ]
    assert len(found) == 1, trigger
    return found[0]
