"""The account Lambdas (and the two public ones), invoked with HTTP API v2 events."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.domain.user import Role
from functions.runtime.settings import Settings
from tests.conftest import DynamoCalls
from tests.functions.conftest import PASSWORD, Api, assert_problem

# -- root and health -------------------------------------------------------------------


def test_root_redirects_to_the_docs(api: Api) -> None:
    reply = api.call("root")

    assert reply.status == 307
    assert reply.headers["location"] == "/docs"


def test_health_says_the_api_is_alive_without_touching_storage(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    reply = api.call("health")

    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert dynamo_calls.total == 0


# -- sign-up ---------------------------------------------------------------------------


def test_sign_up_creates_an_account_and_answers_201_with_id_username_and_email(
    api: Api,
) -> None:
    reply = api.call(
        "signup",
        json_body={
            "username": "Alice.B",
            "email": "Alice@Example.com",
            "password": PASSWORD,
        },
    )

    assert reply.status == 201, reply.text
    body = reply.json()
    assert set(body) == {"id", "username", "email"}
    assert body["username"] == "Alice.B"
    assert body["email"] == "Alice@Example.com"
    stored = api.container.users.get(body["id"])
    assert stored is not None
    assert stored.role is Role.USER
    assert PASSWORD not in stored.password_hash
    assert reply.headers["cache-control"] == "no-store"


def test_sign_up_with_a_taken_username_in_another_case_is_a_409_username_taken(
    api: Api,
) -> None:
    api.user("alice01")

    reply = api.call(
        "signup",
        json_body={
            "username": "ALICE01",
            "email": "new@example.com",
            "password": PASSWORD,
        },
    )

    assert_problem(reply, 409, "username_taken")


def test_sign_up_with_a_taken_email_answers_like_a_new_account(api: Api) -> None:
    # Issue 12: sign-up cannot be used to find out who is registered; the owner
    # is emailed instead (see the email flow tests).
    api.user("alice01")

    taken = api.call(
        "signup",
        json_body={
            "username": "other01",
            "email": "ALICE01@example.com",
            "password": PASSWORD,
        },
    )
    new = api.call(
        "signup",
        json_body={
            "username": "other02",
            "email": "nobody02@example.com",
            "password": PASSWORD,
        },
    )

    assert (taken.status, new.status) == (201, 201)
    assert set(taken.json()) == set(new.json()) == {"id", "username", "email"}
    assert taken.json()["email"] == "ALICE01@example.com"
    assert api.container.users.get_by_username("other01") is None


def test_sign_up_with_a_badly_formed_username_is_a_422_pointing_at_the_username(
    api: Api,
) -> None:
    reply = api.call(
        "signup",
        json_body={"username": "a..b!", "email": "a@example.com", "password": PASSWORD},
    )

    body = assert_problem(reply, 422, "invalid_username")
    assert body["errors"][0]["loc"] == ["body", "username"]


def test_sign_up_with_a_short_password_is_a_422_invalid_password(api: Api) -> None:
    reply = api.call(
        "signup",
        json_body={
            "username": "alice01",
            "email": "a@example.com",
            "password": "short",
        },
    )

    assert_problem(reply, 422, "invalid_password")
    assert api.container.users.get_by_username("alice01") is None


def test_a_logged_in_user_cannot_sign_up_again(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call(
        "signup",
        json_body={
            "username": "second01",
            "email": "s@example.com",
            "password": PASSWORD,
        },
        cookies=[cookie],
    )

    assert_problem(reply, 403, "already_authenticated")
    assert api.container.users.get_by_username("second01") is None


# -- log-in ----------------------------------------------------------------------------


def test_log_in_answers_204_and_sets_an_http_only_lax_session_cookie_for_the_root_path(
    api: Api,
) -> None:
    api.user("alice01")

    reply = api.call("login", json_body={"username": "Alice01", "password": PASSWORD})

    assert reply.status == 204, reply.text
    assert reply.text == ""
    (cookie,) = reply.cookies
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith("access_token=ey")
    assert "HttpOnly" in attributes
    assert "SameSite=lax" in attributes
    assert "Path=/" in attributes
    assert f"Max-Age={api.container.settings.session_ttl_seconds}" in attributes
    # The local stage serves plain HTTP on loopback; every other stage adds Secure.
    assert "Secure" not in attributes


def test_outside_the_local_stage_the_session_cookie_is_secure(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.user("alice01")
    deployed = Settings(
        stage="prod",
        jwt_secret=SecretStr("j" * 40),
        password_pepper=SecretStr("p" * 40),
        bcrypt_rounds=4,
    )
    monkeypatch.setattr(api.container, "settings", deployed)

    reply = api.call("login", json_body={"username": "alice01", "password": PASSWORD})

    assert reply.status == 204, reply.text
    (cookie,) = reply.cookies
    assert "Secure" in [part.strip() for part in cookie.split(";")]


def test_log_in_with_a_wrong_password_is_a_401_invalid_credentials_and_no_cookie(
    api: Api,
) -> None:
    api.user("alice01")

    reply = api.call(
        "login", json_body={"username": "alice01", "password": "wrong-one"}
    )

    assert_problem(reply, 401, "invalid_credentials")
    assert reply.cookies == []


def test_log_in_as_nobody_is_the_same_401_invalid_credentials(api: Api) -> None:
    for username in ("nobody01", "not a username!"):
        reply = api.call(
            "login", json_body={"username": username, "password": PASSWORD}
        )

        assert_problem(reply, 401, "invalid_credentials")


def test_a_deactivated_user_cannot_log_in(api: Api) -> None:
    user = api.user("alice01")
    api.container.users.save(user.deactivated())

    reply = api.call("login", json_body={"username": "alice01", "password": PASSWORD})

    assert_problem(reply, 403, "account_inactive")
    assert reply.cookies == []


def test_a_logged_in_user_cannot_log_in_again(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call(
        "login",
        json_body={"username": "alice01", "password": PASSWORD},
        cookies=[cookie],
    )

    assert_problem(reply, 403, "already_authenticated")


def test_log_in_with_a_stale_cookie_is_allowed(api: Api) -> None:
    cookie = api.as_("alice01")
    assert api.call("logout", cookies=[cookie]).status == 204

    reply = api.call(
        "login",
        json_body={"username": "alice01", "password": PASSWORD},
        cookies=[cookie],
    )

    assert reply.status == 204, reply.text
    assert reply.cookie("access_token")


# -- me --------------------------------------------------------------------------------


def test_me_with_the_session_cookie_answers_200_with_the_account(api: Api) -> None:
    user = api.user("alice01", Role.ADMIN)
    cookie = api.log_in("alice01")

    reply = api.call("me", cookies=[cookie])

    assert reply.status == 200, reply.text
    assert reply.json() == {
        "id": user.id,
        "username": "alice01",
        "email": "alice01@example.com",
        "role": "admin",
        "is_active": True,
        "created_at": user.created_at.isoformat(),
        "email_verified": False,
        "plan": "free",
        "subscription_status": None,
        "current_period_end": None,
        "cancel_at_period_end": False,
        "entitlements": {
            "features": [],
            "limits": {"seats": 1, "export_rows": 0},
            "grace_until": None,
        },
    }
    assert reply.headers["cache-control"] == "no-store"
    # Fresh sessions are not renewed.
    assert reply.cookies == []


def test_me_shows_the_plan_its_status_and_entitlements_of_a_subscriber(
    api: Api,
) -> None:
    user = api.user("alice01")
    subscribed = api.subscribe(user, "pro")
    cookie = api.log_in("alice01")

    body = api.call("me", cookies=[cookie]).json()

    subscription = subscribed.billing.subscription
    assert subscription is not None
    assert body["plan"] == "pro"
    assert body["subscription_status"] == "active"
    assert body["cancel_at_period_end"] is False
    assert body["current_period_end"] is not None
    assert body["entitlements"]["features"] == ["users_export"]
    assert body["entitlements"]["limits"]["seats"] == 5


def test_me_without_a_cookie_is_a_401_not_authenticated(api: Api) -> None:
    assert_problem(api.call("me"), 401, "not_authenticated")


def test_me_with_a_garbage_cookie_is_a_401_not_authenticated(api: Api) -> None:
    reply = api.call("me", cookies=["access_token=garbage"])

    assert_problem(reply, 401, "not_authenticated")


def test_me_reads_the_session_cookie_among_others(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call("me", cookies=["theme=dark", cookie, "lang=en"])

    assert reply.status == 200, reply.text


# -- log-out ---------------------------------------------------------------------------


def test_log_out_answers_204_clears_the_cookie_and_ends_the_session(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call("logout", cookies=[cookie])

    assert reply.status == 204, reply.text
    (cleared,) = reply.cookies
    attributes = [part.strip() for part in cleared.split(";")]
    assert attributes[0] in ('access_token=""', "access_token=")
    assert "Max-Age=0" in attributes
    assert "Path=/" in attributes
    assert "HttpOnly" in attributes
    # The old cookie is worthless from now on, even kept by a client.
    assert_problem(api.call("me", cookies=[cookie]), 401, "not_authenticated")


def test_log_out_ends_only_that_session(api: Api) -> None:
    api.user("alice01")
    laptop, phone = api.log_in("alice01"), api.log_in("alice01")

    assert api.call("logout", cookies=[laptop]).status == 204

    assert api.call("me", cookies=[phone]).status == 200


def test_log_out_without_a_session_is_a_401(api: Api) -> None:
    reply = api.call("logout")

    assert_problem(reply, 401, "not_authenticated")
    assert reply.cookies == []


@pytest.mark.parametrize(
    "email", ["alice\u200b@example.com", "alice@\uff45xample.com", "a,b@example.com"]
)
def test_sign_up_with_a_look_alike_email_is_a_422_pointing_at_the_email(
    api: Api, email: str
) -> None:
    reply = api.call(
        "signup",
        json_body={"username": "alice01", "email": email, "password": PASSWORD},
    )

    body = assert_problem(reply, 422, "invalid_email")
    assert body["errors"][0]["loc"] == ["body", "email"]
    assert api.container.users.get_by_username("alice01") is None
