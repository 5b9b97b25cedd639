from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from tests.conftest import ROOT


def test_defaults_follow_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "HOST", "PORT", "ERP_ADMINS", "TZ", "QBWC_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///var/costcodes.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 3000)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.erp_admins == ()
    assert settings.qbwc_username == "costcodes" and settings.qbwc_password is None
    assert settings.digest_cron == "0 9 * * 1-5" and settings.tz == "UTC"
    assert settings.qbwc_max_body_bytes == 256 * 1024 * 1024
    assert not settings.slack_configured
    assert settings.missing_slack_settings()[0] == "SLACK_BOT_TOKEN"


def test_erp_admins_is_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_ADMINS", " U012AB, S0GROUP ,")
    assert Settings(_env_file=None).erp_admins == ("U012AB", "S0GROUP")  # type: ignore[call-arg]


def test_erp_admins_refuses_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_ADMINS", "U1,ann@example.com")
    with pytest.raises(ValidationError, match="not understood: ann@example.com"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    monkeypatch.setenv("QBWC_PASSWORD", "qb-very-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "very-secret" not in shown
    assert settings.slack_configured


def test_env_file_is_read(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORT", raising=False)
    env = tmp_path / ".env"  # type: ignore[operator]
    env.write_text("PORT=4123\nQBWC_MAX_BODY_MB=2\n")
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.port == 4123 and settings.qbwc_max_body_bytes == 2 * 1024 * 1024


def test_blank_lines_from_env_example_mean_unset(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.slack_bot_token is None and settings.erp_admins == ()
    assert settings.digest_channel is None and not settings.slack_configured
