"""``python -m tools.bench [--runs 7] [--invocations 500] [--smoke]``."""

from tools.bench.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
