"""mypy follows only the aws_cdk modules the CDK app uses (pyproject.toml says why):
a module the app starts to use must join that list, or its calls go unchecked."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules_the_app_uses() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "infra_cdk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "aws_cdk":
                used |= {
                    f"aws_cdk.{a.name}" for a in node.names if a.name.startswith("aws_")
                }
                used.add("aws_cdk")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "aws_cdk."
            ):
                used.add(node.module or "")
            elif isinstance(node, ast.Import):
                used |= {a.name for a in node.names if a.name.startswith("aws_cdk")}
    return used


def followed_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    return {
        module
        for override in config["overrides"]
        if override.get("follow_imports") == "normal"
        for module in override["module"]
    }


def test_mypy_follows_every_aws_cdk_module_the_cdk_app_imports() -> None:
    used = modules_the_app_uses()
    assert "aws_cdk.aws_lambda" in used  # the scan sees the app's imports
    assert used - followed_modules() == set()


def test_mypy_skips_the_aws_cdk_modules_the_app_does_not_use() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    skipped = [o for o in config["overrides"] if o.get("follow_imports") == "skip"]
    assert any("aws_cdk.*" in o["module"] for o in skipped)
    assert followed_modules() - modules_the_app_uses() - {"aws_cdk"} == set()
