"""The local stack end to end: `strata dev` in a subprocess, real HTTP, real cookies.

Each user gets its own httpx client, so its own cookie jar, like separate browsers.
Everything is plain http on loopback, which is why local cookies are not Secure:
httpx (like a browser) would not send a Secure cookie over http.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from functions.catalog import ENDPOINTS
from local.harness import free_ports
from tests.e2e.conftest import REPO, DevProcess, StartDev, cli

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-password-1"
COOKIE = "access_token"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def new_client(stack: DevProcess) -> httpx.Client:
    return httpx.Client(base_url=stack.url, timeout=10.0, trust_env=False)


def create_superadmin(
    stack: DevProcess, username: str, email: str, password: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli(
            "create-superadmin",
            "--username",
            username,
            "--email",
            email,
            "--password-stdin",
        ),
        input=password + "\n",
        cwd=REPO,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def session_cookie(response: httpx.Response) -> dict[str, str]:
    """The attributes of the Set-Cookie for the session, lower-cased names."""
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = name_value.partition("=")
        if name == COOKIE:
            parsed = {"": value}
            for attribute in attributes:
                key, _, val = attribute.partition("=")
                parsed[key.lower()] = val
            return parsed
    raise AssertionError(f"no {COOKIE} cookie in {response.headers}")


@pytest.fixture(scope="module")
def superadmin(stack: DevProcess) -> Credentials:
    result = create_superadmin(stack, "root.admin", "root@example.com", PASSWORD)
    assert result.returncode == 0, result.stderr
    return Credentials("root.admin", PASSWORD)


Login = Callable[[Credentials], httpx.Client]


@pytest.fixture
def log_in(stack: DevProcess) -> Iterator[Login]:
    """Log a user in on a client of its own; every client is closed at teardown."""
    clients: list[httpx.Client] = []

    def login(who: Credentials) -> httpx.Client:
        client = new_client(stack)
        clients.append(client)
        response = client.post(
            "/api/v1/account/login",
            json={"username": who.username, "password": who.password},
        )
        assert response.status_code == 204, response.text
        return client

    yield login
    for client in clients:
        client.close()


@pytest.fixture
def anonymous(stack: DevProcess) -> Iterator[httpx.Client]:
    with new_client(stack) as client:
        yield client


def sign_up(client: httpx.Client, username: str) -> Credentials:
    response = client.post(
        "/api/v1/account/signup",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["username"] == username
    return Credentials(username, PASSWORD)


def login_status(stack: DevProcess, who: Credentials) -> httpx.Response:
    with new_client(stack) as client:
        return client.post(
            "/api/v1/account/login",
            json={"username": who.username, "password": who.password},
        )


# --- the server itself ------------------------------------------------------------


def test_dev_prints_the_api_url_and_the_swagger_ui_once_ready(
    stack: DevProcess,
) -> None:
    output = stack.output()

    assert f"{stack.url} - Swagger UI: {stack.url}/docs" in output
    assert f"http://127.0.0.1:{stack.aws_port}" in output
    assert "Traceback" not in output


def test_docs_are_served_and_the_openapi_document_lists_every_catalog_route(
    anonymous: httpx.Client,
) -> None:
    docs = anonymous.get("/docs")
    redoc = anonymous.get("/redoc")
    schema = anonymous.get("/openapi.json")

    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert redoc.status_code == 200
    for script in re.findall(r'src="(/docs/assets/[^"]+)"', docs.text + redoc.text):
        assert anonymous.get(script).status_code == 200, script
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for endpoint in ENDPOINTS:
        if endpoint.in_docs:
            assert endpoint.method.lower() in paths.get(endpoint.path, {}), endpoint


def test_the_root_redirects_to_the_docs(anonymous: httpx.Client) -> None:
    response = anonymous.get("/")

    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/docs"


# --- the management command against the running stack ------------------------------


def test_create_superadmin_makes_a_super_admin_who_can_log_in(
    superadmin: Credentials, log_in: Login
) -> None:
    client = log_in(superadmin)

    me = client.get("/api/v1/account/me")

    assert me.status_code == 200
    assert me.json()["role"] == "super_admin"


def test_create_superadmin_twice_for_one_username_is_a_clear_error(
    stack: DevProcess, superadmin: Credentials
) -> None:
    result = create_superadmin(
        stack, superadmin.username, "another@example.com", PASSWORD
    )

    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"strata: the username '{superadmin.username}' is taken"
    )


# --- accounts and sessions ----------------------------------------------------------


def test_log_in_sets_an_httponly_lax_session_cookie_that_is_not_secure_locally(
    stack: DevProcess, anonymous: httpx.Client
) -> None:
    who = sign_up(anonymous, "cookie.user")

    response = anonymous.post(
        "/api/v1/account/login",
        json={"username": who.username, "password": who.password},
    )

    assert response.status_code == 204
    cookie = session_cookie(response)
    assert cookie[""]
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert "secure" not in cookie
    assert anonymous.cookies.get(COOKIE) == cookie[""]
    me = anonymous.get("/api/v1/account/me")
    assert me.status_code == 200
    assert me.json()["username"] == "cookie.user"
    assert me.json()["role"] == "user"


def test_listing_users_page_by_page_returns_every_user_exactly_once(
    anonymous: httpx.Client, superadmin: Credentials, log_in: Login
) -> None:
    signed_up = {sign_up(anonymous, f"pager.{n}").username for n in range(3)}
    admin = log_in(superadmin)

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(100):  # a bound, so a cursor that never ends fails instead
        params: dict[str, Any] = {"limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        page = admin.get("/api/v1/users", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) == 1
        seen.extend(item["username"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    everyone = admin.get("/api/v1/users", params={"limit": 100})
    assert everyone.json()["next_cursor"] is None
    all_names = [item["username"] for item in everyone.json()["items"]]
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(all_names)
    assert signed_up | {superadmin.username} <= set(seen)


def test_a_super_admin_grants_and_revokes_admin_rights(
    anonymous: httpx.Client, superadmin: Credentials, log_in: Login
) -> None:
    user = sign_up(anonymous, "rising.star")
    root = log_in(superadmin)
    star = log_in(user)
    assert star.get("/api/v1/users").status_code == 403

    granted = root.patch(f"/api/v1/users/{user.username}/grant-admin")

    assert granted.status_code == 204
    assert star.get("/api/v1/account/me").json()["role"] == "admin"
    assert star.get("/api/v1/users").status_code == 200

    revoked = root.patch(f"/api/v1/users/{user.username}/revoke-admin")

    assert revoked.status_code == 204
    assert star.get("/api/v1/account/me").json()["role"] == "user"
    assert star.get("/api/v1/users").status_code == 403


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    stack: DevProcess, anonymous: httpx.Client, log_in: Login
) -> None:
    user = sign_up(anonymous, "careful.user")
    here = log_in(user)
    elsewhere = log_in(user)
    new_password = "a-brand-new-password"

    changed = here.patch(
        f"/api/v1/users/{user.username}/password",
        json={"password": new_password, "current_password": user.password},
    )

    assert changed.status_code == 204, changed.text
    assert here.get("/api/v1/account/me").status_code == 200
    assert elsewhere.get("/api/v1/account/me").status_code == 401
    assert login_status(stack, user).status_code == 401
    assert (
        login_status(stack, Credentials(user.username, new_password)).status_code == 204
    )


def test_an_admin_changes_a_subordinates_password_and_ends_their_sessions(
    stack: DevProcess,
    anonymous: httpx.Client,
    superadmin: Credentials,
    log_in: Login,
) -> None:
    admin_user = sign_up(anonymous, "team.lead")
    user = sign_up(anonymous, "team.member")
    root = log_in(superadmin)
    assert root.patch(f"/api/v1/users/{admin_user.username}/grant-admin").is_success
    lead = log_in(admin_user)
    member = log_in(user)
    new_password = "set-by-the-team-lead"

    changed = lead.patch(
        f"/api/v1/users/{user.username}/password", json={"password": new_password}
    )

    assert changed.status_code == 204, changed.text
    assert member.get("/api/v1/account/me").status_code == 401
    assert login_status(stack, user).status_code == 401
    assert (
        login_status(stack, Credentials(user.username, new_password)).status_code == 204
    )


def test_deactivation_ends_open_sessions_at_once_and_activation_lets_log_in_again(
    stack: DevProcess,
    anonymous: httpx.Client,
    superadmin: Credentials,
    log_in: Login,
) -> None:
    user = sign_up(anonymous, "leaving.soon")
    root = log_in(superadmin)
    victim = log_in(user)
    assert victim.get("/api/v1/account/me").status_code == 200

    deactivated = root.patch(f"/api/v1/users/{user.username}/deactivate")

    assert deactivated.status_code == 204
    assert victim.get("/api/v1/account/me").status_code == 401
    refused = login_status(stack, user)
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_inactive"

    activated = root.patch(f"/api/v1/users/{user.username}/activate")

    assert activated.status_code == 204
    back = log_in(user)
    assert back.get("/api/v1/account/me").status_code == 200


def test_logout_clears_the_cookie_and_the_old_token_answers_401(
    stack: DevProcess, anonymous: httpx.Client, log_in: Login
) -> None:
    user = sign_up(anonymous, "short.visit")
    client = log_in(user)
    old_token = client.cookies.get(COOKIE)
    assert old_token

    response = client.post("/api/v1/account/logout")

    assert response.status_code == 204
    cleared = session_cookie(response)
    assert cleared[""] in ("", '""')
    assert cleared.get("max-age") == "0"
    assert client.cookies.get(COOKIE) is None
    assert client.get("/api/v1/account/me").status_code == 401
    with httpx.Client(
        base_url=stack.url, cookies={COOKIE: old_token}, trust_env=False
    ) as replay:
        assert replay.get("/api/v1/account/me").status_code == 401


# --- starting and stopping ------------------------------------------------------------


@pytest.mark.parametrize("busy", ["api", "moto"])
def test_dev_fails_fast_with_a_clear_message_when_a_port_is_busy(
    start_dev: StartDev, busy: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy_port = int(taken.getsockname()[1])
        other = free_ports(1)[0]
        ports = (busy_port, other) if busy == "api" else (other, busy_port)

        dev = start_dev(*ports)
        status = dev.process.wait(timeout=30)

    output = dev.output()
    assert status != 0
    assert f"port {busy_port} on 127.0.0.1 is already in use" in output
    assert ("set PORT" if busy == "api" else "set AWS_ENDPOINT_PORT") in output
    assert "Traceback" not in output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_dev_shuts_down_cleanly_and_frees_both_ports(
    start_dev: StartDev, sig: signal.Signals
) -> None:
    dev = start_dev()
    dev.wait_ready()

    status = dev.interrupt(sig)

    output = dev.output()
    assert status == 0, output
    assert "strata dev stopped" in output
    assert "Traceback" not in output
    for port in (dev.port, dev.aws_port):
        with socket.socket() as sock:
            # As a server binds: connections the server closed may linger in
            # TIME_WAIT, which does not make a port busy; a listener would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


def test_dev_records_its_addresses_while_it_serves_and_removes_them_when_stopped(
    start_dev: StartDev,
) -> None:
    dev = start_dev()
    dev.wait_ready()

    recorded = json.loads(dev.stack_file.read_text(encoding="utf-8"))
    assert recorded["api_url"] == dev.url
    assert recorded["aws_endpoint_url"] == dev.aws_endpoint
    assert recorded["stripe_emulator_url"] == dev.stripe_url
    assert recorded["outbox_dir"] == str(dev.outbox)
    assert dev.interrupt() == 0
    assert not dev.stack_file.exists()


def test_invoke_runs_on_the_stacks_clock_so_its_fresh_cookie_is_accepted(
    start_dev: StartDev,
) -> None:
    dev = start_dev()
    dev.wait_ready()
    # From another terminal, as a person would: the stack file is all it has.
    env = {
        k: v
        for k, v in dev.env.items()
        if k not in ("AWS_ENDPOINT_PORT", "STRATA_STRIPE_EMULATOR_URL")
    }

    def strata(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli(*args), cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    assert strata("stripe", "advance", "--days", "2").returncode == 0
    with new_client(dev) as client:
        client.post(
            "/api/v1/account/signup",
            json={
                "username": "clock.user",
                "email": "c@example.com",
                "password": PASSWORD,
            },
        )
        login = client.post(
            "/api/v1/account/login",
            json={"username": "clock.user", "password": PASSWORD},
        )
        assert login.status_code == 204, login.text
        token = client.cookies[COOKIE]

    me = strata("invoke", "me", "--cookie", token)

    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["statusCode"] == 200


def test_dev_with_reload_serves_again_after_a_code_file_changes(
    start_dev: StartDev,
) -> None:
    dev = start_dev(None, None, "--reload")
    dev.wait_ready()
    watched = REPO / "local" / "frontend" / "__init__.py"
    before = watched.stat()
    try:
        # A newer modification time is a change to uvicorn's reloader; the content
        # stays as it is, and so does the time, once the test is over.
        os.utime(watched, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
        deadline = time.monotonic() + 30
        while dev.output().count("Strata API on") < 2:
            assert time.monotonic() < deadline, dev.output()
            time.sleep(0.2)
    finally:
        os.utime(watched, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert "Reloading" in dev.output()
    with new_client(dev) as client:
        assert client.get("/api/v1/").status_code == 200
