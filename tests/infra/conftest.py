"""Offline checks of the CDK app: one in-process synth per stage per test session.

Each stage is synthesized once, with the cdk-nag AWS Solutions checks registered and
``failSynthOnValidationErrors`` off so that the validation report can be read and
asserted on. No AWS credentials and no network: the environment is a fixed fake.

The CDK libraries are imported lazily: without the ``infra`` extras, the test modules
skip themselves (``make test`` installs the extras).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra_cdk import build
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


@dataclass(frozen=True)
class Synth:
    stage: StageConfig
    outdir: Path
    template_path: Path
    template: dict[str, Any]
    validation_report: dict[str, Any]
    assertions: Template

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
    template = json.loads(template_path.read_text())
    return Synth(
        stage=stage,
        outdir=outdir,
        template_path=template_path,
        template=template,
        validation_report=json.loads((outdir / "validation-report.json").read_text()),
        assertions=Template.from_json(template),
    )


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
