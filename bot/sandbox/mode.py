"""Sandbox mode: when no Slack setting is given, the server plays Slack and QuickBooks itself.

It fills in Slack settings that point the app at its own stand-in (a random signing secret, so
signature checks stay on), generates a Web Connector password if none is set, loads the example
data into an empty database, and gives the simulated QuickBooks the same example GL accounts.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import select

from bot.accounts import chart as accounts
from bot.config import Settings
from bot.core import Core
from bot.costcodes import intake
from bot.costcodes.domain import Surface
from bot.sandbox.example_data import COST_CODES, EXAMPLES, example_accounts
from bot.store import db
from bot.store.models import CostCode, GLAccount

log = logging.getLogger(__name__)

ACTOR = "sandbox:examples"
_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})


def wanted(settings: Settings) -> bool:
    """Sandbox mode is for a server given no Slack setting at all (a partial one is a mistake)."""
    return (
        settings.slack_bot_token is None
        and settings.slack_signing_secret is None
        and settings.slack_app_token is None
    )


def base_url(settings: Settings) -> str:
    """How the server reaches itself (the Slack stand-in, /slack/events and /qbwc)."""
    host = "127.0.0.1" if settings.host in _ANY_ADDRESS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def sandbox_settings(settings: Settings) -> Settings:
    """Slack settings that lead back to this server; every secret is new for this run."""
    update: dict[str, object] = {
        "slack_bot_token": SecretStr("xoxb-sandbox"),
        "slack_signing_secret": SecretStr(secrets.token_hex(32)),
        "slack_api_url": f"{base_url(settings)}/sandbox/api/",
        "erp_admins": (),  # the sandbox user is a workspace admin, so may act
    }
    if settings.qbwc_password is None:
        update["qbwc_password"] = SecretStr(secrets.token_urlsafe(18))
    return settings.model_copy(update=update)


def sandbox_services(services: Core) -> Core:
    return dataclasses.replace(services, settings=sandbox_settings(services.settings))


async def seed_examples(services: Core, examples: Path = EXAMPLES) -> None:
    """Example GL accounts and cost codes, each only into an empty table."""
    async with db.session_scope(services.sessions) as session:
        account_count = (await session.exec(select(func.count()).select_from(GLAccount))).one()
        code_count = (await session.exec(select(func.count()).select_from(CostCode))).one()
        chart = example_accounts(examples)
        if account_count == 0 and chart:
            counts = await accounts.apply_chart(session, chart)
            log.info("sandbox: loaded %d example GL accounts", counts.new)
        codes = examples / COST_CODES.name
        if code_count == 0 and codes.is_file():
            rows, problems = intake.read_file(codes)
            report = await intake.apply_rows(
                session, rows, actor=ACTOR, surface=Surface.CLI, source="sandbox:examples"
            )
            log.info(
                "sandbox: loaded %d example cost codes (%d refused)",
                len(report.added),
                len(problems),
            )
