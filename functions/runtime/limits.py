"""The account flows' rate limits, from the settings."""

from __future__ import annotations

from datetime import timedelta

from core.application.limits import EmailPolicy, LoginPolicy
from functions.runtime.settings import Settings


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(seconds=settings.login_window_seconds),
        client_max_failures=settings.login_client_max_failures,
        client_window=timedelta(seconds=settings.login_client_window_seconds),
    )


def email_policy(settings: Settings) -> EmailPolicy:
    return EmailPolicy(
        per_address=settings.email_per_address,
        address_window=timedelta(seconds=settings.email_address_window_seconds),
        per_client=settings.email_per_client,
        client_window=timedelta(seconds=settings.email_client_window_seconds),
    )
