"""Reading the JWT key, the password pepper and the Stripe secrets from Secrets
Manager.

Functions get only the secrets' ARNs in their environment, never the values. The
composition root calls ``resolve_secrets`` once per cold start; the values then live
in the container for the life of the instance.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from core.application.errors import DependencyUnavailable
from functions.runtime.settings import SECRET_FIELDS, STRIPE_SECRET_FIELDS, Settings

# Powertools' own cache; the container keeps the values anyway, this only spares a
# second fetch if something asks the provider again.
CACHE_SECONDS = 3600


def resolve_secrets(settings: Settings, client: Any = None) -> Settings:
    """``settings`` with every secret that is named by an ARN read through
    Powertools Parameters; unchanged when none is (local stage, tests)."""
    wanted = {
        name: getattr(settings, f"{name}_arn")
        for name in (*SECRET_FIELDS, *STRIPE_SECRET_FIELDS)
        if getattr(settings, f"{name}_arn")
    }
    if not wanted:
        return settings
    # Imported here: only functions that hold secret ARNs pay for it.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    if client is None:
        # A botocore client: boto3 is never asked to build a session or a client.
        import botocore.session

        client = botocore.session.get_session().create_client(
            "secretsmanager", region_name=settings.region
        )
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
    )

    provider = SecretsProvider(boto3_client=client)
    try:
        values = {
            name: SecretStr(str(provider.get(arn, max_age=CACHE_SECONDS)))
            for name, arn in wanted.items()
        }
    except GetParameterError as exc:
        # A 503 for the request, and the next request of this instance tries again.
        raise DependencyUnavailable("the service's secrets are unavailable") from exc
    resolved = settings.model_copy(update=values)
    resolved.check_secrets()
    return resolved
