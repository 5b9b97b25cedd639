"""The one place the bot's settings are read from the environment or `.env` (DESIGN §4)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/costcodes.db"


class Settings(BaseSettings):
    """Every setting the bot reads; secrets are `SecretStr`, so logs and reprs never show them."""

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=0, le=65535)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    erp_admins: Annotated[tuple[str, ...], NoDecode] = ()

    qbwc_username: str = "costcodes"
    qbwc_password: SecretStr | None = None
    qbwc_max_body_mb: int = Field(default=256, ge=1)

    export_stale_minutes: int = Field(default=15, ge=1)
    """Say so in the thread when the Web Connector has not picked an export up by then."""
    qbwc_silence_hours_exporting: float = Field(default=2, gt=0)
    """While an export runs: a Web Connector silent this long is said once in its channel."""
    qbwc_silence_hours: float = Field(default=24, gt=0)
    """Otherwise: silent this long, the connection shows as waiting for the Web Connector."""

    digest_channel: str | None = None
    digest_cron: str = "0 9 * * 1-5"
    tz: str = "UTC"

    procore_client_id: str | None = None
    """Without it the Procore link is off and nothing calls Procore (DESIGN §8)."""
    procore_client_secret: SecretStr | None = None
    procore_company_id: int | None = None
    procore_api_url: str = "https://api.procore.com"
    procore_login_url: str = "https://login.procore.com"
    procore_cost_code_list_id: int | None = None
    procore_webhook_token: SecretStr | None = None
    procore_reconcile_minutes: int = Field(default=60, ge=1)

    @field_validator("erp_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("erp_admins")
    @classmethod
    def _check_admin_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [item for item in value if item[:1] not in ("U", "W", "S")]
        if bad:
            raise ValueError(
                "ERP_ADMINS takes Slack user IDs (U…) and user-group IDs (S…); "
                f"not understood: {', '.join(bad)}"
            )
        return value

    @model_validator(mode="after")
    def _check_procore(self) -> Settings:
        if self.procore_client_id is None:
            return self
        missing = [
            name
            for name, value in (
                ("PROCORE_CLIENT_SECRET", self.procore_client_secret),
                ("PROCORE_COMPANY_ID", self.procore_company_id),
            )
            if value is None
        ]
        if missing:
            raise ValueError(
                f"PROCORE_CLIENT_ID is set, so the Procore link also needs {' and '.join(missing)}"
            )
        return self

    @property
    def procore_enabled(self) -> bool:
        return self.procore_client_id is not None

    @property
    def qbwc_max_body_bytes(self) -> int:
        return self.qbwc_max_body_mb * 1024 * 1024

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    def missing_slack_settings(self) -> list[str]:
        """Names of the settings still needed before Slack can reach the bot."""
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if self.slack_signing_secret is None and self.slack_app_token is None:
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        return missing


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
