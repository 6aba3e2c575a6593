"""The CDK app: ``cdk synth -c stage=dev|staging|prod`` (``make synth``).

``cdk.json`` runs this module with the project's virtualenv. Every synth runs the
cdk-nag AWS Solutions checks; an unacknowledged finding fails it.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra_cdk.stack import Assets, StrataStack
from infra_cdk.stages import DEFAULT_STAGE, get_stage

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The feature flags and settings in ``cdk.json``, for apps made outside the CLI
    (the tests) so that they synthesize exactly what ``cdk synth`` does."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def stack_name(stage_name: str) -> str:
    return f"strata-{stage_name}"


def add_stack(
    app: App, stage_name: str, *, assets: Assets | None = None
) -> StrataStack:
    stage = get_stage(stage_name)
    step = app.node.try_get_context("indexStep")
    if step is not None:
        stage = replace(stage, index_rollout_step=int(step))
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    return StrataStack(
        app,
        stack_name(stage.name),
        stage=stage,
        assets=assets,
        env=Environment(account=account, region=region) if account and region else None,
    )


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )


def main() -> None:
    app = App()
    stage_name = app.node.try_get_context("stage") or DEFAULT_STAGE
    add_stack(app, str(stage_name))
    add_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
