"""Only the billing functions load the stripe SDK: it ships in their layer alone,
so any other function importing it would fail in Lambda (and pay its import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from functions.catalog import ENDPOINTS, STRIPE_API, STRIPE_WEBHOOK
from local.harness import free_port

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: each endpoint that does not declare Stripe, imported
# and invoked with its sample event (with a live session where the route needs
# one) on the composition root with the in-memory fakes of its AWS ports, then
# sys.modules looked at. Stripe's settings are the local stage's: a billing
# function would build its provider and load the SDK.
SCRIPT = textwrap.dedent(
    """
    import importlib
    import json
    import sys
    from dataclasses import replace

    from core.domain.user import Role
    from functions.catalog import BY_NAME
    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings
    from functions.sample_events import sample_event
    from local.harness import FakeLambdaContext
    from tests.fakes import storage_fakes

    container = replace(build_container(get_settings()), **storage_fakes())
    use_container(container)
    container.registrar().register(
        "jane.doe", "jane@example.com", "pass word 1", Role.ADMIN
    )
    found = {}
    for name in sys.argv[1:]:
        endpoint = BY_NAME[name]
        cookie = None
        if endpoint.requires_session:
            token = container.log_in().execute("jane.doe", "pass word 1", None).token
            cookie = f"access_token={token}"
        module = importlib.import_module(endpoint.module)
        reply = module.handler(
            sample_event(endpoint, cookie), FakeLambdaContext("strata-test")
        )
        found[name] = {
            "status": reply["statusCode"],
            "stripe": sorted(m for m in sys.modules if m.partition(".")[0] == "stripe"),
        }
    print(json.dumps(found))
    """
)


def declares_stripe(permissions: tuple[str, ...], stripe_calls: int) -> bool:
    return bool({STRIPE_API, STRIPE_WEBHOOK} & set(permissions)) or stripe_calls > 0


def test_no_function_that_does_not_declare_stripe_loads_the_sdk() -> None:
    names = [e.name for e in ENDPOINTS if not declares_stripe(e.permissions, e.stripe)]
    assert len(names) > 10
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_")
    }
    environment.update(
        PYTHONDONTWRITEBYTECODE="1",
        STRATA_STAGE="local",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        # Nothing listens there: the AWS ports are fakes, and Stripe is never
        # called by these functions.
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        STRATA_STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *names],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(found) == sorted(names)
    # Each was invoked to an answer, not a crash.
    assert all(reply["status"] < 500 for reply in found.values()), found
    assert {
        name: reply["stripe"] for name, reply in found.items() if reply["stripe"]
    } == {}


def test_a_billing_function_does_load_it() -> None:
    # The other side of the check above: the same script sees the SDK load.
    environment = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "STRATA_STAGE": "local",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from functions.runtime.settings import get_settings\n"
            "from functions.runtime.container import build_container\n"
            "payments = build_container(get_settings()).payments\n"
            "assert 'stripe' not in sys.modules\n"
            "payments.create_portal\n"
            "print('stripe' in sys.modules)",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "True"
