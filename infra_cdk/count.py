"""Resources per CloudFormation template, for every stage (or the ones named).

``python -m infra_cdk.count [stage ...]`` synthesizes each stage offline (after
``make build``) and prints the parent stack's count and each nested stack's, against
CloudFormation's limit of 500 and the tests' ``infra_cdk.groups.CEILING``; it exits 1
when a template is over the ceiling. ``--outdir cdk.out/<stage> <stage>`` reads what
``cdk synth`` wrote instead (``make synth`` prints that after each stage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra_cdk.groups import CEILING, CLOUDFORMATION_LIMIT
from infra_cdk.stages import STAGES

NESTED_STACK = "AWS::CloudFormation::Stack"
ASSET_PATH = "aws:asset:path"
CDK_PATH = "aws:cdk:path"


@dataclass(frozen=True, slots=True)
class TemplateCount:
    """One template of a synthesized stage: ``name`` is ``parent`` or the nested
    stack's construct id (``AccountEndpoints``)."""

    name: str
    path: Path
    resources: int


def nested_templates(outdir: Path, parent: dict[str, Any]) -> dict[str, Path]:
    """The parent's nested stack resources (logical id) -> the template ``cdk synth``
    wrote for each (an asset beside the parent's, named in its metadata)."""
    found = {}
    for logical_id, resource in parent["Resources"].items():
        if resource["Type"] != NESTED_STACK:
            continue
        asset = resource.get("Metadata", {}).get(ASSET_PATH)
        if not asset:
            raise ValueError(
                f"{logical_id}: no {ASSET_PATH} metadata; synthesize with "
                "aws:cdk:enable-asset-metadata (the CLI's default)"
            )
        found[logical_id] = outdir / asset
    return found


NESTED_RESOURCE = ".NestedStackResource"


def nested_name(resource: dict[str, Any], logical_id: str) -> str:
    """``AccountEndpoints`` from the construct path
    ``.../Api/AccountEndpoints.NestedStack/AccountEndpoints.NestedStackResource``,
    else the logical id."""
    last = str(resource.get("Metadata", {}).get(CDK_PATH, "")).rsplit("/", 1)[-1]
    return (
        last.removesuffix(NESTED_RESOURCE)
        if last.endswith(NESTED_RESOURCE)
        else logical_id
    )


def count_templates(outdir: Path, stack_name: str) -> list[TemplateCount]:
    """The parent's count first, then each nested stack's, by name."""
    parent_path = outdir / f"{stack_name}.template.json"
    parent = json.loads(parent_path.read_text())
    counts = [TemplateCount("parent", parent_path, len(parent["Resources"]))]
    nested = nested_templates(outdir, parent)
    for logical_id, path in sorted(nested.items()):
        resources = json.loads(path.read_text())["Resources"]
        name = nested_name(parent["Resources"][logical_id], logical_id)
        counts.append(TemplateCount(name, path, len(resources)))
    return counts


def synthesize(stage_name: str, outdir: Path) -> Path:
    """The stage's app, as ``cdk synth`` writes it, into ``outdir``."""
    os.environ.setdefault("CDK_DEFAULT_ACCOUNT", "123456789012")
    os.environ.setdefault("CDK_DEFAULT_REGION", "us-east-1")
    from aws_cdk import App

    from infra_cdk.app import add_stack, cdk_json_context

    context = cdk_json_context() | {
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }
    app = App(context=context, outdir=str(outdir))
    add_stack(app, stage_name)
    app.synth()
    return outdir


def report(stage_name: str, counts: list[TemplateCount]) -> bool:
    """Print a stage's counts; whether any template is over the ceiling."""
    total = sum(c.resources for c in counts)
    print(f"{stage_name}: {total} resources in {len(counts)} templates")
    over = False
    for count in counts:
        flag = " OVER THE CEILING" if count.resources > CEILING else ""
        over = over or bool(flag)
        print(f"  {count.name:<24} {count.resources:>4}{flag}")
    return over


def main(argv: list[str]) -> int:
    from infra_cdk.app import stack_name

    parser = argparse.ArgumentParser(prog="python -m infra_cdk.count")
    parser.add_argument(
        "stages", nargs="*", help=f"of {sorted(STAGES)}; all by default"
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        help="read what `cdk synth` wrote there (one stage) instead of synthesizing",
    )
    args = parser.parse_args(argv)
    stages: list[str] = args.stages or sorted(STAGES)
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"no stage named {unknown}: {sorted(STAGES)}")
    if args.outdir is not None and len(stages) != 1:
        parser.error("--outdir reads one stage: name it")
    over = False
    for stage_name in stages:
        if args.outdir is not None:
            counts = count_templates(args.outdir, stack_name(stage_name))
        else:
            with tempfile.TemporaryDirectory(prefix=f"count-{stage_name}-") as tmp:
                outdir = synthesize(stage_name, Path(tmp))
                counts = count_templates(outdir, stack_name(stage_name))
        over = report(stage_name, counts) or over
    limit = CLOUDFORMATION_LIMIT
    print(f"(ceiling {CEILING} per template; CloudFormation's limit {limit})")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
