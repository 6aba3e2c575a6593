"""In AWS the JWT key and the pepper are read from Secrets Manager at cold start."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from typing import Any

import botocore.session
import pytest
from pydantic import ValidationError

from core.domain.session import Session
from functions.runtime.container import build_container
from functions.runtime.secrets import resolve_secrets
from functions.runtime.settings import Settings

JWT_SECRET = "j" * 64
PEPPER = "p" * 64


@pytest.fixture
def secretsmanager(moto_endpoint: str) -> Any:
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset).close()  # noqa: S310
    return botocore.session.get_session().create_client(
        "secretsmanager", region_name="us-east-1"
    )


def deployed_settings(
    client: Any, jwt: str = JWT_SECRET, pepper: str = PEPPER
) -> Settings:
    jwt_arn = client.create_secret(Name="strata-dev-jwt", SecretString=jwt)["ARN"]
    pepper_arn = client.create_secret(Name="strata-dev-pepper", SecretString=pepper)[
        "ARN"
    ]
    return Settings.from_env(
        {
            "STRATA_STAGE": "dev",
            "STRATA_JWT_SECRET_ARN": jwt_arn,
            "STRATA_PASSWORD_PEPPER_ARN": pepper_arn,
            "STRATA_BCRYPT_ROUNDS": "4",
        }
    )


def test_outside_local_the_settings_need_a_secret_or_its_arn() -> None:
    with pytest.raises(ValidationError, match="STRATA_JWT_SECRET_ARN"):
        Settings.from_env({"STRATA_STAGE": "dev"})


def test_the_secrets_named_by_arn_are_read_once_into_the_settings(
    secretsmanager: Any,
) -> None:
    settings = deployed_settings(secretsmanager)
    assert settings.jwt_secret.get_secret_value() == ""

    resolved = resolve_secrets(settings)

    assert resolved.jwt_secret_value() == JWT_SECRET
    assert resolved.pepper_value() == PEPPER


def test_the_container_signs_tokens_with_the_secret_from_secrets_manager(
    secretsmanager: Any, tables: None
) -> None:
    import jwt

    container = build_container(deployed_settings(secretsmanager))
    now = container.clock.now().replace(microsecond=0)
    token = container.tokens.issue(Session("s1", "u1", now, now + timedelta(minutes=5)))

    assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["sid"] == "s1"


def test_a_secret_too_short_to_be_secret_is_refused_at_cold_start(
    secretsmanager: Any,
) -> None:
    settings = deployed_settings(secretsmanager, jwt="short")

    with pytest.raises(ValueError, match="32"):
        resolve_secrets(settings)


def test_locally_no_secret_is_fetched() -> None:
    class Refuse:
        def get_secret_value(self, **_: Any) -> Any:
            raise AssertionError("no secret may be fetched locally")

    settings = Settings.from_env({})

    assert resolve_secrets(settings, client=Refuse()) is settings


def test_secret_values_never_show_in_the_settings_repr(secretsmanager: Any) -> None:
    resolved = resolve_secrets(deployed_settings(secretsmanager))

    assert JWT_SECRET not in repr(resolved)
    assert PEPPER not in json.dumps(resolved.model_dump(mode="json"))


def test_a_secret_that_cannot_be_read_is_a_dependency_failure_not_a_crash(
    secretsmanager: Any,
) -> None:
    from core.application.errors import DependencyUnavailable

    settings = Settings.from_env(
        {
            "STRATA_STAGE": "dev",
            "STRATA_JWT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:"
            "secret:missing-AbCdEf",
            "STRATA_PASSWORD_PEPPER_ARN": "arn:aws:secretsmanager:us-east-1:"
            "123456789012:secret:missing-too-AbCdEf",
        }
    )

    with pytest.raises(DependencyUnavailable):
        resolve_secrets(settings)


def test_a_function_not_given_the_pepper_builds_but_refuses_to_hash_a_password(
    secretsmanager: Any, tables: None
) -> None:
    """Only the functions that hash or check passwords hold ``secrets:pepper``; any
    other is deployed without it, and must never hash with a stand-in pepper."""
    from core.application.errors import DependencyUnavailable

    jwt_arn = secretsmanager.create_secret(Name="jwt", SecretString=JWT_SECRET)["ARN"]
    settings = Settings.from_env(
        {"STRATA_STAGE": "dev", "STRATA_JWT_SECRET_ARN": jwt_arn}
    )

    container = build_container(settings)

    assert container.settings.pepper_value() is None
    with pytest.raises(DependencyUnavailable):
        container.hasher.hash("correct-horse-battery")
    with pytest.raises(DependencyUnavailable):
        container.hasher.verify("correct-horse-battery", "$2b$04$whatever")


def test_a_pepper_too_short_to_be_secret_is_refused_at_cold_start(
    secretsmanager: Any,
) -> None:
    settings = deployed_settings(secretsmanager, pepper="short")

    with pytest.raises(ValueError, match="password_pepper"):
        resolve_secrets(settings)


def _operations(client: Any) -> list[str]:
    """The Secrets Manager operations ``client`` makes from now on."""
    made: list[str] = []

    def record(model: Any, **_: Any) -> None:
        made.append(model.name)

    client.meta.events.register("before-call.secretsmanager", record)
    return made


def stripe_webhook_settings(client: Any) -> Settings:
    """The webhook's three secrets: the JWT key and Stripe's two."""
    create = client.create_secret
    return Settings.from_env(
        {
            "STRATA_STAGE": "dev",
            "STRATA_JWT_SECRET_ARN": create(Name="jwt", SecretString=JWT_SECRET)["ARN"],
            "STRATA_STRIPE_API_KEY_ARN": create(
                Name="stripe-key", SecretString="sk_test_" + "k" * 40
            )["ARN"],
            # A secret imported by name has a partial ARN: no random suffix.
            "STRATA_STRIPE_WEBHOOK_SECRET_ARN": create(
                Name="stripe/webhook", SecretString="whsec_" + "w" * 40
            )["ARN"][: -len("-AbCdEf")],
        }
    )


def test_a_function_holding_three_secrets_reads_them_in_one_batch_call(
    secretsmanager: Any,
) -> None:
    settings = stripe_webhook_settings(secretsmanager)
    made = _operations(secretsmanager)

    resolved = resolve_secrets(settings, client=secretsmanager)

    assert made == ["BatchGetSecretValue"]
    assert resolved.jwt_secret_value() == JWT_SECRET
    assert resolved.stripe_api_key_value() == "sk_test_" + "k" * 40
    assert resolved.stripe_webhook_secret_value() == "whsec_" + "w" * 40
    assert resolved.pepper_value() is None


def test_a_function_holding_one_secret_reads_it_with_get_secret_value(
    secretsmanager: Any,
) -> None:
    jwt_arn = secretsmanager.create_secret(Name="jwt", SecretString=JWT_SECRET)["ARN"]
    settings = Settings.from_env(
        {"STRATA_STAGE": "dev", "STRATA_JWT_SECRET_ARN": jwt_arn}
    )
    made = _operations(secretsmanager)

    resolved = resolve_secrets(settings, client=secretsmanager)

    assert made == ["GetSecretValue"]
    assert resolved.jwt_secret_value() == JWT_SECRET


def test_one_unreadable_secret_of_a_batch_fails_the_read_and_names_only_its_id(
    secretsmanager: Any,
) -> None:
    from core.application.errors import DependencyUnavailable

    jwt_arn = secretsmanager.create_secret(Name="jwt", SecretString=JWT_SECRET)["ARN"]
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    settings = Settings.from_env(
        {
            "STRATA_STAGE": "dev",
            "STRATA_JWT_SECRET_ARN": jwt_arn,
            "STRATA_PASSWORD_PEPPER_ARN": missing,
        }
    )

    with pytest.raises(DependencyUnavailable) as raised:
        resolve_secrets(settings, client=secretsmanager)

    # The answer says only that secrets are unavailable; the id is in the cause,
    # which the logs carry.
    assert raised.value.message == "the service's secrets are unavailable"
    assert "gone" in str(raised.value.__cause__)
    assert JWT_SECRET not in str(raised.value.__cause__)
