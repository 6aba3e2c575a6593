"""Cold import time of HTTP handler modules beside a bare FastAPI + Mangum app.

Each figure is one fresh Python process timing ``import <module>`` (which builds the
endpoint's app and its Mangum handler); the runs alternate between the subjects so
machine noise hits them alike. Prints a markdown table of medians.

    python -m local.coldstart [--runs 5] [MODULE ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BARE_APP = """
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/")
def root() -> dict[str, str]:
    return {"status": "ok"}


handler = Mangum(app, lifespan="off")
"""

_PROBE = (
    "import time, importlib, sys\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print((time.perf_counter() - t) * 1000)\n"
)

DEFAULT_MODULES = ("functions.http.me", "functions.http.health")


def import_ms(module: str, extra_path: str) -> float:
    env_path = [extra_path, *sys.path]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path[:0] = {env_path!r}\n" + _PROBE,
            module,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("modules", nargs="*", default=list(DEFAULT_MODULES))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "strata_bare_app.py").write_text(BARE_APP)
        subjects = ["strata_bare_app", *args.modules]
        samples: dict[str, list[float]] = {s: [] for s in subjects}
        for run in range(args.runs):
            for subject in subjects:
                samples[subject].append(import_ms(subject, tmp))
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    floor = statistics.median(samples["strata_bare_app"])
    print(
        f"Cold import, median of {args.runs} fresh processes (Python "
        f"{sys.version.split()[0]}):\n"
    )
    print("| module | median ms | min ms | max ms | vs bare FastAPI + Mangum |")
    print("|---|---|---|---|---|")
    for subject in subjects:
        values = samples[subject]
        median = statistics.median(values)
        name = "bare FastAPI + Mangum" if subject == "strata_bare_app" else subject
        print(
            f"| {name} | {median:.0f} | {min(values):.0f} | {max(values):.0f} "
            f"| {median / floor:.2f}x |"
        )
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util as u; print(' '.join(m for m in "
            "('cryptography', 'email_validator') if u.find_spec(m)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if loaded:
        print(
            f"\nNote: this environment has {loaded}, which FastAPI or PyJWT import "
            "when present; neither is a dependency of Strata itself."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
