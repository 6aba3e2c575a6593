"""Reading the JWT key, the password pepper and the Stripe secrets from Secrets
Manager.

Functions get only the secrets' ARNs in their environment, never the values. The
composition root calls ``resolve_secrets`` once per cold start (in Lambda, during
init); the values then live in the container for the life of the instance.

One round trip per function: a function holding two to four secrets reads them with
one ``BatchGetSecretValue``, one holding one secret with ``GetSecretValue``, through
a plain botocore client (Powertools' provider read one secret per call). Secrets
Manager authorizes a batch secret by secret: the caller needs
``secretsmanager:GetSecretValue`` on each one it names (granted per ARN), and the
batch action itself, which has no resource type (so ``*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from core.application.errors import DependencyUnavailable
from functions.runtime.settings import SECRET_FIELDS, STRIPE_SECRET_FIELDS, Settings


class SecretNotRead(LookupError):
    """A secret the batch did not return: its id and Secrets Manager's error code."""


def holds_secrets(settings: Settings) -> bool:
    """Whether ``settings`` name a secret to read (by ARN)."""
    return any(
        getattr(settings, f"{name}_arn")
        for name in (*SECRET_FIELDS, *STRIPE_SECRET_FIELDS)
    )


def resolve_secrets(settings: Settings, client: Any = None) -> Settings:
    """``settings`` with every secret that is named by an ARN read from Secrets
    Manager in one call; unchanged when none is (local stage, tests)."""
    wanted = {
        name: getattr(settings, f"{name}_arn")
        for name in (*SECRET_FIELDS, *STRIPE_SECRET_FIELDS)
        if getattr(settings, f"{name}_arn")
    }
    if not wanted:
        return settings
    # Imported here: only functions that hold secret ARNs pay for them.
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if client is None:
            # A botocore client: boto3 is never asked to build a session or one.
            import botocore.session

            client = botocore.session.get_session().create_client(
                "secretsmanager", region_name=settings.region
            )
        read = read_secrets(client, list(wanted.values()))
    except (BotoCoreError, ClientError, SecretNotRead) as exc:
        # The ids are in the chained cause (the logs), not in the answer.
        # A 503 for the request, and the next request of this instance tries again.
        raise DependencyUnavailable("the service's secrets are unavailable") from exc
    values = {name: SecretStr(read[secret_id]) for name, secret_id in wanted.items()}
    resolved = settings.model_copy(update=values)
    resolved.check_secrets()
    return resolved


def read_secrets(client: Any, secret_ids: list[str]) -> dict[str, str]:
    """Each secret's string, by the id asked for (an ARN, or a name): one
    GetSecretValue for one secret, else one BatchGetSecretValue (up to 20). A
    secret not read is ``SecretNotRead``, named by its id, never by a value."""
    if len(secret_ids) == 1:
        (secret_id,) = secret_ids
        return {secret_id: _string(client.get_secret_value(SecretId=secret_id))}
    answer = client.batch_get_secret_value(SecretIdList=secret_ids)
    errors = answer.get("Errors") or []
    if errors:
        failed = ", ".join(
            f"{e.get('SecretId')} ({e.get('ErrorCode')})" for e in errors
        )
        raise SecretNotRead(f"secrets not readable: {failed}")
    found: dict[str, str] = {}
    for entry in answer.get("SecretValues") or []:
        for secret_id in secret_ids:
            if _names(entry, secret_id):
                found[secret_id] = _string(entry)
    missing = [secret_id for secret_id in secret_ids if secret_id not in found]
    if missing:
        raise SecretNotRead(f"secrets not returned: {', '.join(missing)}")
    return found


def _names(entry: Mapping[str, Any], secret_id: str) -> bool:
    """Whether ``entry`` (a batch answer's) is the secret ``secret_id`` asks for:
    its complete ARN, its name, or its partial ARN (a secret imported by name, the
    six random characters after the hyphen left out)."""
    arn = str(entry.get("ARN", ""))
    return secret_id in (arn, entry.get("Name")) or (
        secret_id.startswith("arn:") and arn.startswith(secret_id + "-")
    )


def _string(entry: Mapping[str, Any]) -> str:
    value = entry.get("SecretString")
    if not isinstance(value, str):
        # Strata's secrets are strings; a binary one is a misconfiguration.
        raise SecretNotRead("a secret holds no string")
    return value
