"""The Lambda assets that ``make build`` writes, and the lock they come from."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from functions.catalog import ENDPOINTS
from functions.runtime.docs import ASSETS
from infra_cdk import build

Assets = tuple[build.AssetStats, build.AssetStats, build.AssetStats]

# The stripe SDK ships in its own layer, for the functions that call Stripe only.
FORBIDDEN = ("cryptography", "email_validator", "stripe")
# What the SDK requires but never imports here (it gets an HTTP client on urllib3).
NOT_IN_THE_STRIPE_LAYER = ("requests", "charset_normalizer", "certifi")
NOT_SHIPPED = ("tests", "local", "infra_cdk")


def _pyc_for(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_code_asset_holds_only_core_and_functions(
    assets: Assets,
) -> None:
    _, code, _ = assets
    assert sorted(p.name for p in code.path.iterdir()) == ["core", "functions"]
    for path in code.path.rglob("*"):
        assert not set(path.relative_to(code.path).parts) & set(NOT_SHIPPED), path


def test_code_asset_has_every_handler_module(
    assets: Assets,
) -> None:
    _, code, _ = assets
    for endpoint in ENDPOINTS:
        source = code.path / (endpoint.module.replace(".", "/") + ".py")
        assert source.is_file(), endpoint.module
        # ``@api.endpoint`` gives the module its ``handler`` (runtime/endpoint.py).
        assert re.search(r"^@api\.endpoint\(", source.read_text(), re.M), (
            endpoint.module
        )


def test_code_asset_ships_the_default_plans_file(
    assets: Assets,
) -> None:
    """No stage sets STRATA_PLANS_FILE: the functions read the plans.json that ships
    beside functions/runtime/plans.py, at /var/task in Lambda."""
    _, code, _ = assets
    source = Path(build.ROOT, "functions", "runtime", "plans.json")
    shipped = code.path / "functions" / "runtime" / "plans.json"
    assert shipped.read_bytes() == source.read_bytes()


def test_every_python_file_ships_its_unchecked_hash_pyc(
    assets: Assets,
) -> None:
    for asset in assets:
        sources = _python_files(asset.path)
        assert sources, asset.name
        missing = [s for s in sources if not _pyc_for(s).is_file()]
        assert not missing, f"{asset.name}: no cpython-312 .pyc for {missing[:5]}"
        for source in sources[:: max(1, len(sources) // 50)]:
            header = _pyc_for(source).read_bytes()[:16]
            # PEP 552 flags word: bit 0 = hash-based, bit 1 = check_source (off).
            assert int.from_bytes(header[4:8], "little") == 0b01, source


def test_layer_is_small_and_free_of_the_packages_it_must_not_carry(
    assets: Assets,
) -> None:
    layer, _, _ = assets
    site = layer.path / "python"
    assert sorted(p.name for p in layer.path.iterdir()) == ["python"]
    for package in FORBIDDEN:
        assert not (site / package).exists(), package
        assert not list(site.glob(f"{package}-*.dist-info")), package
    needed = ("fastapi", "mangum", "pydantic", "pydantic_core", "pynamodb", "jwt")
    for package in (*needed, "urllib3"):
        assert (site / package).is_dir(), package
    assert list((site / "pydantic_core").glob("*cpython-312-aarch64-linux-gnu.so"))
    assert list((site / "bcrypt").glob("*.abi3.so"))
    assert layer.megabytes < build.LAYER_LIMIT_MB


def test_the_layer_ships_boto3_with_its_own_botocore_and_only_the_models_used(
    assets: Assets,
) -> None:
    layer, _, _ = assets
    site = layer.path / "python"
    (boto3,) = site.glob("boto3-*.dist-info")
    (botocore,) = site.glob("botocore-*.dist-info")
    # boto3 X.Y.Z is released with botocore X.Y.Z and requires it exactly.
    assert boto3.name.split("-")[1] == botocore.name.split("-")[1]
    models = sorted(
        p.name for p in (site / "botocore" / "data").iterdir() if p.is_dir()
    )
    assert models == sorted(build.BOTOCORE_SERVICES)
    # Room under the cap for what comes next.
    assert layer.megabytes < build.LAYER_LIMIT_MB * 0.8


def test_every_aws_service_the_code_calls_keeps_its_botocore_model() -> None:
    root = Path(build.ROOT)
    sources = [
        path.read_text()
        for package in ("core", "functions")
        for path in (root / package).rglob("*.py")
    ]
    named = {
        match
        for text in sources
        for match in re.findall(
            r"(?:LazyClient|create_client)\(\s*\"([a-z0-9-]+)\"", text
        )
    }
    assert named  # the pattern still finds the clients
    # pynamodb's client is dynamodb; Powertools Parameters' is secretsmanager.
    assert named | {"dynamodb", "secretsmanager"} <= set(build.BOTOCORE_SERVICES)


def test_pruning_botocore_keeps_the_services_used_and_its_shared_files(
    tmp_path: Path,
) -> None:
    data = tmp_path / "botocore" / "data"
    for service in ("dynamodb", "ec2", "sqs", "iot"):
        (data / service).mkdir(parents=True)
    (data / "endpoints.json").write_text("{}")

    assert build.prune_botocore(tmp_path) == 2

    assert sorted(p.name for p in data.iterdir()) == [
        "dynamodb",
        "endpoints.json",
        "sqs",
    ]


def test_the_stripe_layer_holds_the_sdk_alone_within_the_cap(
    assets: Assets,
) -> None:
    layer, _, stripe_layer = assets
    site = stripe_layer.path / "python"
    assert sorted(p.name for p in site.iterdir()) == [
        "stripe",
        "stripe-16.1.0.dist-info",
    ]
    for package in NOT_IN_THE_STRIPE_LAYER:
        assert not (site / package).exists(), package
        assert not (layer.path / "python" / package).exists(), package
    # What the SDK needs at run time is the first layer's.
    for package in ("typing_extensions.py", "urllib3"):
        assert (layer.path / "python" / package).exists(), package
    assert stripe_layer.megabytes <= build.LAYER_LIMIT_MB


def test_the_stripe_lock_pins_the_sdk_with_a_hash_and_nothing_the_first_ships() -> None:
    text = build.STRIPE_LOCK_FILE.read_text()
    pins = dict(
        re.findall(
            r"^([a-z0-9-]+)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.M
        )
    )
    assert pins == {"stripe": "16.1.0"}
    for line in build.stripe_layer_requirements():
        requirement = Requirement(line)
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)])


def test_layer_carries_every_docs_asset_with_scripts_and_styles_gzipped(
    assets: Assets,
) -> None:
    layer, _, _ = assets
    static = layer.path / "python" / "fastapi_offline" / "static"
    shipped = {p.name for p in static.iterdir()}

    for name in ASSETS:
        packed = name.endswith((".js", ".css"))
        assert (f"{name}.gz" if packed else name) in shipped, name
        assert not packed or name not in shipped, name


def test_build_is_skipped_when_inputs_are_unchanged(
    assets: Assets,
) -> None:
    again = build.build()
    assert [a.rebuilt for a in again] == [False, False, False]
    assert [(a.files, a.bytes) for a in again] == [(a.files, a.bytes) for a in assets]


def test_lock_pins_every_package_with_a_hash_and_nothing_forbidden() -> None:
    text = build.LOCK_FILE.read_text()
    pins = re.findall(
        r"^([a-z0-9-]+)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.M
    )
    requirement_lines = [
        line for line in text.splitlines() if line and not line.startswith((" ", "#"))
    ]
    assert len(pins) == len(requirement_lines) > 0
    versions = dict(pins)
    assert not set(versions) & {"cryptography", "email-validator", "stripe"}
    assert versions["boto3"] == versions["botocore"]  # one pair, released together
    assert "urllib3" in versions  # core.adapters.stripe's HTTP client
    # pyproject.toml changed without `make lock`? Every direct pin must satisfy it.
    for line in build.runtime_dependencies():
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in versions, line
        assert requirement.specifier.contains(versions[name]), (line, versions[name])


def test_build_prunes_a_forbidden_package_a_dependency_dragged_in(
    tmp_path: Path,
) -> None:
    for name in ("stripe", "stripe-16.1.0.dist-info", "urllib3"):
        (tmp_path / name).mkdir()
    assert sorted(build.prune_forbidden(tmp_path)) == [
        "stripe",
        "stripe-16.1.0.dist-info",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["urllib3"]
    assert "stripe" in build.FORBIDDEN_DISTRIBUTIONS  # and the lock refuses it


def test_the_layers_boto3_builds_a_client_for_every_service_kept(
    assets: Assets,
) -> None:
    import os
    import subprocess
    import sys

    layer, _, _ = assets
    site = layer.path / "python"
    script = (
        "import boto3, botocore.session\n"
        f"assert boto3.__file__.startswith({str(site)!r}), boto3.__file__\n"
        "session = botocore.session.get_session()\n"
        f"for service in {build.BOTOCORE_SERVICES!r}:\n"
        "    session.create_client(service, region_name='us-east-1')\n"
        "boto3.client('secretsmanager', region_name='us-east-1')\n"
        "try:\n"
        "    session.create_client('ec2', region_name='us-east-1')\n"
        "except botocore.exceptions.UnknownServiceError:\n"
        "    print('pruned')\n"
    )
    # -S: no site-packages, so only the layer (pure-Python boto3 and botocore
    # import on any platform) and the standard library are on the path.
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pruned"
