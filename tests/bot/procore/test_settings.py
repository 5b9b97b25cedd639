"""PROCORE_* settings: off by default, and a half-set link refuses to start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings


def test_the_link_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROCORE_CLIENT_ID", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not settings.procore_enabled
    assert settings.procore_api_url == "https://api.procore.com"
    assert settings.procore_login_url == "https://login.procore.com"
    assert settings.procore_reconcile_minutes == 60


def test_a_client_id_alone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCORE_CLIENT_ID", "abc")
    with pytest.raises(ValidationError, match="PROCORE_CLIENT_SECRET and PROCORE_COMPANY_ID"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCORE_CLIENT_ID", "abc")
    monkeypatch.setenv("PROCORE_CLIENT_SECRET", "procore-very-secret")
    monkeypatch.setenv("PROCORE_COMPANY_ID", "4000000000123")
    monkeypatch.setenv("PROCORE_WEBHOOK_TOKEN", "hook-very-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.procore_enabled and settings.procore_company_id == 4000000000123
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "very-secret" not in shown
