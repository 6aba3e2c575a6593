"""The README's recipe holds: a new authenticated GET is three files (the use case,
the endpoint module, its tests), and everything else follows from its declaration.

The recipe is followed in a copy of the repository, so nothing here touches the real
tree; the checks run in a subprocess whose imports come from the copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("core", "functions", "infra_cdk", "events", "README.md")

USE_CASE = """
from __future__ import annotations

from dataclasses import dataclass

from core.application.ports import UserRepository
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class GetGreeting:
    users: UserRepository

    def execute(self, user: User) -> str:
        return f"hello, {self.users.get(user.id).username.value}"
"""

ENDPOINT = '''
"""The logged-in user's greeting."""

from functions.runtime import api


@api.endpoint("GET /api/v1/account/greeting", api.p.AUTHENTICATED, budget=2)
def greeting(ctx: api.LoggedIn) -> dict[str, str]:
    return {"text": ctx.container.get_greeting().execute(ctx.user)}
'''

# Run in the copy: what the catalog, the sample event, the CDK app's view of the
# catalog and the handler (on a container of in-memory fakes) make of the new module.
CHECKS = """
import json
from dataclasses import asdict

from functions.catalog import BY_NAME
from functions.sample_events import sample_event
from infra_cdk.stack import ENDPOINTS as CDK_ENDPOINTS

endpoint = BY_NAME["greeting"]
found = {"catalog": asdict(endpoint), "event": sample_event(endpoint)}
found["cdk"] = [e.permissions for e in CDK_ENDPOINTS if e.name == "greeting"]

from core.domain.user import Role
from functions.http import greeting
from functions.runtime.container import Container, use_container
from functions.runtime.settings import Settings
from tests.fakes import (
    FakeClock, FakePasswordHasher, FakeTokenCodec, InMemoryRateLimiter,
    InMemorySessionStore, InMemoryUserRepository, SequentialIds,
)

# Only the ports this request reaches: the container resolves fields on demand.
clock, users = FakeClock(), InMemoryUserRepository()
container = Container.__new__(Container)
vars(container).update(
    settings=Settings(), users=users, sessions=InMemorySessionStore(users),
    tokens=FakeTokenCodec(clock), clock=clock, hasher=FakePasswordHasher(),
    ids=SequentialIds(), attempts=InMemoryRateLimiter(),
)
use_container(container)
container.registrar().register("jane.doe", "jane@example.com", "pass word 1", Role.USER)
token = container.log_in().execute("jane.doe", "pass word 1", None).token
event = sample_event(endpoint, f"access_token={token}")
reply = greeting.handler(event, None)
found["reply"] = {"status": reply["statusCode"], "body": json.loads(reply["body"])}
found["statuses"] = sorted(greeting.router.routes[0].responses)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, repo / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(source, repo / name)
    (repo / "tests").mkdir()
    for name in ("__init__.py", "fakes.py"):
        shutil.copy(ROOT / "tests" / name, repo / "tests" / name)
    # The recipe's two source files (the third, its tests, is this file).
    queries = repo / "core" / "application" / "queries"
    (queries / "get_greeting.py").write_text(USE_CASE.lstrip(), encoding="utf-8")
    endpoint = repo / "functions" / "http" / "greeting.py"
    endpoint.write_text(ENDPOINT.lstrip(), encoding="utf-8")
    return repo


def run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_new_authenticated_get_is_derived_from_its_module_alone(copy: Path) -> None:
    done = run(copy, "-c", textwrap.dedent(CHECKS))

    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    catalog = found["catalog"]
    assert (catalog["method"], catalog["path"]) == ("GET", "/api/v1/account/greeting")
    assert catalog["module"] == "functions.http.greeting"
    assert catalog["permissions"] == ["users:read", "sessions:read", "sessions:write"]
    assert catalog["budget"] == 2
    assert catalog["requires_session"] is True
    assert catalog["summary"] == "The logged-in user's greeting."
    event = found["event"]
    assert event["routeKey"] == "GET /api/v1/account/greeting"
    assert event["rawPath"] == "/api/v1/account/greeting"
    assert found["cdk"] == [catalog["permissions"]]
    assert found["reply"] == {"status": 200, "body": {"text": "hello, jane.doe"}}
    assert found["statuses"] == [401, 413, 503]


def test_the_readme_check_names_the_new_endpoint_until_the_table_is_regenerated(
    copy: Path,
) -> None:
    stale = run(copy, "-m", "functions.catalog", "readme", "--check")

    assert stale.returncode == 1
    assert "python -m functions.catalog readme" in stale.stdout

    assert run(copy, "-m", "functions.catalog", "readme").returncode == 0
    assert run(copy, "-m", "functions.catalog", "readme", "--check").returncode == 0
    readme = (copy / "README.md").read_text(encoding="utf-8")
    row = "| GET `/api/v1/account/greeting` | logged in | 200: The logged-in user's"
    assert row in readme
