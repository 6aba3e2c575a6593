"""Lambda packaging without Docker: the dependency layer and the code asset.

``python -m infra_cdk.build`` (``make build``) writes three directories that the CDK
app deploys as they are:

- ``build/layer/python/``: the locked runtime dependencies (``requirements/lambda.txt``)
  installed as CPython 3.12 manylinux2014 aarch64 wheels, with hashes checked;
- ``build/layer-stripe/python/``: the stripe SDK (``requirements/lambda-stripe.txt``),
  a second layer that only the functions calling Stripe get; what the SDK drags in
  (``requests`` and its own dependencies) is left out, and what the first layer has
  already (``typing_extensions``, ``urllib3``) is not shipped twice;
- ``build/code/``: ``core/`` and ``functions/`` and nothing else of the repository.

Both are precompiled with CPython 3.12 (``--invalidation-mode unchecked-hash``):
Lambda's file system is read-only, so byte code has to ship, and unchecked-hash .pyc
files stay valid whatever timestamps the zip gives their sources. A stamp of the
inputs' hash skips an asset whose inputs did not change.

``python -m infra_cdk.build lock`` (``make lock``) regenerates the lock files from
``pyproject.toml``: ``[project] dependencies`` and the ``billing`` extra (the
stripe layer's, resolved against the first lock's pins), by pip for that platform.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "build"
LAYER_DIR = BUILD_DIR / "layer"
CODE_DIR = BUILD_DIR / "code"
LOCK_FILE = ROOT / "requirements" / "lambda.txt"
STRIPE_LAYER_DIR = BUILD_DIR / "layer-stripe"
STRIPE_LOCK_FILE = ROOT / "requirements" / "lambda-stripe.txt"
# The pyproject.toml extra that the stripe layer ships.
STRIPE_EXTRA = "billing"
# What the stripe SDK requires but never uses here: it imports requests only if
# present, and core.adapters.stripe hands it an HTTP client on urllib3.
STRIPE_LAYER_DROPPED = frozenset({"requests", "charset-normalizer", "certifi"})
PYPROJECT = ROOT / "pyproject.toml"

# What ships as function code: the shared core and the entry points, nothing else.
CODE_PACKAGES = ("core", "functions")
# Lambda unpacks function code to /var/task and layers to /opt: .pyc files name those.
CODE_MOUNT = "/var/task"
LAYER_MOUNT = "/opt"

PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.12"
PIP_TARGET_ARGS = (
    "--platform",
    PLATFORM,
    "--python-version",
    PYTHON_VERSION,
    "--implementation",
    "cp",
    "--only-binary=:all:",
)
# Never in the layer: PyJWT's HS256 needs no cryptography; nothing here validates
# e-mail with email-validator; the stripe SDK has a layer of its own.
FORBIDDEN_DISTRIBUTIONS = frozenset({"cryptography", "email-validator", "stripe"})
FORBIDDEN_PACKAGES = ("cryptography", "email_validator", "stripe")
# The AWS services the code calls (pynamodb: dynamodb; Powertools Parameters:
# secretsmanager; the adapters: sqs, sesv2, s3). botocore ships the models of over
# 400; the layer keeps these, which is most of botocore's size
# (tests/infra/test_assets.py holds the code to this list).
BOTOCORE_SERVICES = ("dynamodb", "s3", "secretsmanager", "sesv2", "sqs")
# Each layer's cap (Lambda allows 250 MB unzipped for a function and its layers).
LAYER_LIMIT_MB = 50.0
IGNORED_SOURCES = ("__pycache__", "*.pyc", "*.pyo")
BYTECODE_TAG = "cpython-312"


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class AssetStats:
    name: str
    path: Path
    files: int
    bytes: int
    rebuilt: bool

    @property
    def megabytes(self) -> float:
        return self.bytes / 1_000_000

    def line(self) -> str:
        state = "built" if self.rebuilt else "up to date"
        return (
            f"{self.name:<6} {self.path.relative_to(ROOT)}: {self.megabytes:.1f} MB "
            f"unzipped, {self.files} files ({state})"
        )


# --- Python 3.12 ------------------------------------------------------------------


def _is_python312(candidate: str) -> bool:
    try:
        result = subprocess.run(  # noqa: S603 - a local interpreter, no shell
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.strip() == PYTHON_VERSION


def find_python312() -> str:
    """``$PYTHON312``, ``python3.12`` on PATH, or a pyenv-installed 3.12."""
    candidates: list[str] = []
    if os.environ.get("PYTHON312"):
        candidates.append(os.environ["PYTHON312"])
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(os.path.join(pyenv_root, "versions", "3.12*", "bin", "python3.12")),
        reverse=True,
    )
    candidates += ["/usr/local/bin/python3.12", "/usr/bin/python3.12"]
    for candidate in candidates:
        if _is_python312(candidate):
            return candidate
    raise BuildError(
        "Python 3.12 is needed to precompile the Lambda assets: install it "
        "(for example `pyenv install 3.12`) or set PYTHON312 to its path"
    )


# --- helpers ----------------------------------------------------------------------


def _run(args: Sequence[str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        output = "\n".join(part for part in (result.stdout, result.stderr) if part)
        raise BuildError(f"{what} failed ({result.returncode}):\n{output}")


def _files(root: Path) -> Iterable[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def _hash_files(paths: Iterable[Path], digest: hashlib._Hash) -> None:
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")


def _source_files(package: str) -> list[Path]:
    return [
        path
        for path in _files(ROOT / package)
        if "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")
    ]


def stats(name: str, path: Path, rebuilt: bool) -> AssetStats:
    files = list(_files(path))
    return AssetStats(
        name, path, len(files), sum(f.stat().st_size for f in files), rebuilt
    )


def _stamp_path(asset: Path) -> Path:
    return asset.parent / f".{asset.name}.stamp"


def _up_to_date(asset: Path, fingerprint: str) -> bool:
    stamp = _stamp_path(asset)
    return asset.is_dir() and stamp.is_file() and stamp.read_text() == fingerprint


def _compile(python312: str, directory: Path, mount: str) -> None:
    _run(
        [
            python312,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(directory),
            "-p",
            mount,
            str(directory),
        ],
        f"compileall of {directory}",
    )


def fingerprint(inputs: Iterable[Path], python312_version: str) -> str:
    digest = hashlib.sha256()
    digest.update(python312_version.encode())
    _hash_files([Path(__file__).resolve(), *inputs], digest)
    return digest.hexdigest()


def _python_version(python312: str) -> str:
    result = subprocess.run(  # noqa: S603
        [python312, "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


# --- the assets -------------------------------------------------------------------


def build_layer(python312: str, *, force: bool = False) -> AssetStats:
    """The first layer: every function's dependencies."""
    return _build_layer(
        python312, "layer", LAYER_DIR, LOCK_FILE, force=force, no_deps=False
    )


def build_stripe_layer(python312: str, *, force: bool = False) -> AssetStats:
    """The stripe SDK's layer, for the functions that call Stripe. Installed
    without dependencies: the lock names what is shipped, and the rest of what
    the SDK requires is in the first layer or deliberately absent."""
    return _build_layer(
        python312,
        "stripe",
        STRIPE_LAYER_DIR,
        STRIPE_LOCK_FILE,
        force=force,
        no_deps=True,
    )


def _build_layer(
    python312: str,
    name: str,
    layer_dir: Path,
    lock_file: Path,
    *,
    force: bool,
    no_deps: bool,
) -> AssetStats:
    if not lock_file.is_file():
        raise BuildError(f"{lock_file.relative_to(ROOT)} is missing: run `make lock`")
    stamp = fingerprint([lock_file], _python_version(python312))
    if not force and _up_to_date(layer_dir, stamp):
        return stats(name, layer_dir, rebuilt=False)
    shutil.rmtree(layer_dir, ignore_errors=True)
    _stamp_path(layer_dir).unlink(missing_ok=True)
    target = layer_dir / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--require-hashes",
            *(["--no-deps"] if no_deps else []),
            *PIP_TARGET_ARGS,
            "--target",
            str(target),
            "-r",
            str(lock_file),
        ],
        f"pip install of the {name} layer",
    )
    shutil.rmtree(target / "bin", ignore_errors=True)
    pruned = prune_forbidden(target, keep=("stripe",) if no_deps else ())
    if pruned:
        print(f"{name}: removed {', '.join(pruned)} (dragged in by a dependency)")
    dropped = prune_botocore(target)
    if dropped:
        print(
            f"{name}: kept botocore's models of {', '.join(BOTOCORE_SERVICES)}, "
            f"dropped {dropped} others"
        )
    compress_docs_assets(target)
    _compile(python312, layer_dir, LAYER_MOUNT)
    result = stats(name, layer_dir, rebuilt=True)
    if result.megabytes > LAYER_LIMIT_MB:
        raise BuildError(
            f"the {name} layer is {result.megabytes:.1f} MB, over {LAYER_LIMIT_MB} MB"
        )
    _stamp_path(layer_dir).write_text(stamp)
    return result


def prune_botocore(target: Path) -> int:
    """Remove botocore's service models but ``BOTOCORE_SERVICES``' (a client for
    another service then fails to build, clearly: UnknownServiceError); how many
    went."""
    data = target / "botocore" / "data"
    if not data.is_dir():
        return 0
    dropped = 0
    for service in data.iterdir():
        if service.is_dir() and service.name not in BOTOCORE_SERVICES:
            shutil.rmtree(service)
            dropped += 1
    return dropped


# Swagger UI's and ReDoc's files (functions.runtime.docs serves them): 2.8 MB as
# shipped, a third of that gzipped, which is how browsers take them anyway.
DOCS_ASSETS = ("fastapi_offline/static/*.js", "fastapi_offline/static/*.css")


def compress_docs_assets(target: Path) -> None:
    """Replace each docs asset under ``target`` by its gzip (``name.gz``)."""
    for pattern in DOCS_ASSETS:
        for path in sorted(target.glob(pattern)):
            packed = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
            path.with_name(path.name + ".gz").write_bytes(packed)
            path.unlink()


def prune_forbidden(target: Path, keep: tuple[str, ...] = ()) -> list[str]:
    """Remove the ``FORBIDDEN_PACKAGES`` (but ``keep``) a dependency dragged in
    (the lock check keeps them out; this is the belt to its braces)."""
    removed = []
    for package in FORBIDDEN_PACKAGES:
        if package in keep:
            continue
        for path in [target / package, *target.glob(f"{package}-*.dist-info")]:
            if path.exists():
                shutil.rmtree(path)
                removed.append(path.name)
    return removed


def build_code(python312: str, *, force: bool = False) -> AssetStats:
    sources = [path for package in CODE_PACKAGES for path in _source_files(package)]
    stamp = fingerprint(sources, _python_version(python312))
    if not force and _up_to_date(CODE_DIR, stamp):
        return stats("code", CODE_DIR, rebuilt=False)
    shutil.rmtree(CODE_DIR, ignore_errors=True)
    _stamp_path(CODE_DIR).unlink(missing_ok=True)
    for package in CODE_PACKAGES:
        shutil.copytree(
            ROOT / package,
            CODE_DIR / package,
            ignore=shutil.ignore_patterns(*IGNORED_SOURCES),
        )
    _compile(python312, CODE_DIR, CODE_MOUNT)
    _stamp_path(CODE_DIR).write_text(stamp)
    return stats("code", CODE_DIR, rebuilt=True)


def build(*, force: bool = False) -> tuple[AssetStats, AssetStats, AssetStats]:
    """The first layer, the code and the stripe layer."""
    python312 = find_python312()
    BUILD_DIR.mkdir(exist_ok=True)
    return (
        build_layer(python312, force=force),
        build_code(python312, force=force),
        build_stripe_layer(python312, force=force),
    )


# --- the lock file ----------------------------------------------------------------


def runtime_dependencies() -> list[str]:
    with PYPROJECT.open("rb") as file:
        project = tomllib.load(file)["project"]
    return list(project["dependencies"])


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


Pin = tuple[str, str, str, bool]  # name, version, sha256, requested directly


def _resolve(requirements: Sequence[str], constraints: Sequence[Pin] = ()) -> list[Pin]:
    """What pip installs for ``requirements`` on the Lambda platform (within the
    ``constraints``' versions), with each wheel's hash."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        constraint_path = Path(tmp) / "constraints.txt"
        constraint_path.write_text(
            "".join(f"{name}=={version}\n" for name, version, *_ in constraints)
        )
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--dry-run",
                "--ignore-installed",
                *PIP_TARGET_ARGS,
                "--report",
                str(report_path),
                # Nothing is installed (--dry-run); older pips want a target for
                # another platform all the same.
                "--target",
                str(Path(tmp) / "target"),
                "-c",
                str(constraint_path),
                *requirements,
            ],
            "pip's resolution of the runtime dependencies",
        )
        report = json.loads(report_path.read_text())
    pins: list[Pin] = []
    for item in report["install"]:
        name = _normalize(item["metadata"]["name"])
        hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
        if "sha256" not in hashes:
            raise BuildError(f"{name}: pip reported no sha256 for its wheel")
        pins.append(
            (name, item["metadata"]["version"], hashes["sha256"], item["requested"])
        )
    return pins


def stripe_layer_requirements() -> list[str]:
    with PYPROJECT.open("rb") as file:
        project = tomllib.load(file)["project"]
    return list(project["optional-dependencies"][STRIPE_EXTRA])


def _write_lock(path: Path, header: Sequence[str], pins: Sequence[Pin]) -> None:
    lines = [*header, ""]
    for name, version, sha256, direct in sorted(pins):
        comment = "  # pyproject.toml" if direct else ""
        lines.append(f"{name}=={version} \\")
        lines.append(f"    --hash=sha256:{sha256}{comment}")
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def lock() -> list[Path]:
    """Resolve the runtime dependencies for the Lambda platform and pin them with
    their wheels' hashes; then the stripe layer's, against those pins."""
    pins = _resolve(runtime_dependencies())
    forbidden = sorted({name for name, *_ in pins} & FORBIDDEN_DISTRIBUTIONS)
    if forbidden:
        raise BuildError(f"the runtime dependencies pull in {forbidden}: keep them out")
    _write_lock(
        LOCK_FILE,
        [
            "# The Lambda dependency layer, locked. Generated by `make lock`",
            "# (python -m infra_cdk.build lock) from pyproject.toml's [project]",
            f"# dependencies, resolved by pip for CPython {PYTHON_VERSION} on "
            f"{PLATFORM},",
            "# wheels only. `make build` installs exactly these files "
            "(--require-hashes).",
            "# Do not edit.",
        ],
        pins,
    )
    # The first layer's versions hold for the second: one urllib3, one
    # typing_extensions at run time.
    shipped = {name for name, *_ in pins}
    stripe_pins = [
        pin
        for pin in _resolve(stripe_layer_requirements(), constraints=pins)
        if pin[0] not in shipped and pin[0] not in STRIPE_LAYER_DROPPED
    ]
    _write_lock(
        STRIPE_LOCK_FILE,
        [
            "# The stripe SDK's Lambda layer, locked. Generated by `make lock` from",
            f"# pyproject.toml's [{STRIPE_EXTRA}] extra, resolved by pip for CPython "
            f"{PYTHON_VERSION}",
            f"# on {PLATFORM} within requirements/lambda.txt's versions; what that",
            "# layer ships is left out, and so is what the SDK requires but never",
            f"# imports here ({', '.join(sorted(STRIPE_LAYER_DROPPED))}). "
            "`make build` installs",
            "# exactly these files (--require-hashes --no-deps). Do not edit.",
        ],
        stripe_pins,
    )
    return [LOCK_FILE, STRIPE_LOCK_FILE]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra_cdk.build", description=__doc__
    )
    parser.add_argument(
        "command", nargs="?", choices=("build", "lock"), default="build"
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if up to date"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            for path in lock():
                print(f"wrote {path.relative_to(ROOT)}")
            return 0
        for asset in build(force=args.force):
            print(asset.line())
    except BuildError as error:
        print(f"build: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
