"""``python -m local.bench [--runs 7] [--invocations 500] [--smoke]``."""

from local.bench.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
