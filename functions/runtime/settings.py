"""Settings, read from ``STRATA_*`` environment variables once per cold start."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_STAGE = "local"
# Only the local stage may run on these; every other stage must be given secrets.
_LOCAL_JWT_SECRET = "local-only-jwt-secret-never-use-it-in-aws-0123456789"
_LOCAL_PEPPER = "local-only-pepper-never-use-it-in-aws"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRATA_", frozen=True)

    stage: str = LOCAL_STAGE
    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("STRATA_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    users_table: str = "strata-local-users"
    sessions_table: str = "strata-local-sessions"
    jwt_secret: SecretStr = SecretStr("")
    password_pepper: SecretStr = SecretStr("")
    session_ttl_seconds: int = Field(default=1800, ge=60, le=30 * 24 * 3600)
    session_renew_threshold: float = Field(default=0.2, gt=0, lt=1)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    password_min_length: int = Field(default=8, ge=1, le=128)

    @model_validator(mode="after")
    def _secrets_outside_local(self) -> Settings:
        if self.stage == LOCAL_STAGE:
            return self
        for name in ("jwt_secret", "password_pepper"):
            if len(getattr(self, name).get_secret_value()) < 32:
                raise ValueError(
                    f"STRATA_{name.upper()} must be set (32+ characters) "
                    f"outside the {LOCAL_STAGE!r} stage"
                )
        return self

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    @property
    def cookie_secure(self) -> bool:
        return not self.is_local

    def jwt_secret_value(self) -> str:
        return self.jwt_secret.get_secret_value() or _LOCAL_JWT_SECRET

    def pepper_value(self) -> str:
        return self.password_pepper.get_secret_value() or _LOCAL_PEPPER


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
