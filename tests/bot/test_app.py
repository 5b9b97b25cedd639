"""The composition root (bot.app): what is built with and without Slack, once, and nothing more."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app
from bot.core import Core
from bot.costcodes.slack_import import SlackImport
from bot.digests.service import Digests
from bot.export.replies import ExportReporter
from bot.home.service import HomeTabs
from bot.jobs import START_DELAY
from bot.review.bulk import BulkReview
from bot.review.service import Review
from bot.server import serve
from bot.slack.bolt import make_client
from bot.slack.refresher import Refresher
from bot.webconnector.backend import QbwcBackend
from tests.builders import serving
from tests.conftest import ROOT, make_settings

SLACK = {"slack_bot_token": "xoxb-test", "slack_signing_secret": "secret"}


def with_slack(core: Core, **settings: object) -> Core:
    return dataclasses.replace(
        core, settings=make_settings(core.settings.database_url, **{**SLACK, **settings})
    )


def job_ids(app: App) -> set[str]:
    return {job.id for job in app.scheduler.get_jobs()}


async def test_without_slack_settings_no_slack_part_exists_and_qbwc_and_healthz_serve(
    services: Core,
) -> None:
    app = build_app(services)
    assert app.slack is None and app.procore is None
    assert app.qbwc.listeners == []
    assert job_ids(app) == {"qbwc-sweep"}
    async with serving(serve(app)) as client:
        assert (await client.get("/healthz")).status == 200
        wsdl = await client.get("/qbwc?wsdl")
        assert wsdl.status == 200 and "sendRequestXML" in await wsdl.text()
        assert (await client.post("/slack/events", data=b"x")).status == 404


async def test_with_slack_settings_every_collaborator_is_built_once_and_shared(
    services: Core,
) -> None:
    app = build_app(with_slack(services))
    parts = app.slack
    assert parts is not None
    review = parts.review
    # One Permissions (one cache of who may act) for every surface that asks.
    assert review.permissions is parts.permissions
    assert review.bulk.permissions is parts.permissions
    assert parts.digests.permissions is parts.permissions
    assert parts.imports._permissions is parts.permissions
    # One client, one refresher, one read engine, one reporter.
    assert parts.bolt.client is parts.client is review.client is parts.reporter.client
    assert review.refresher is parts.refresher is parts.reporter.refresher
    assert review.bulk.refresher is parts.refresher and review.bulk.client is parts.client
    assert review.reads is parts.reads and review.accounts is parts.accounts
    assert review.reporter is parts.reporter
    assert parts.home._review is review and parts.home._client is parts.client
    # The hooks between them, registered by the root.
    assert app.qbwc.listeners == [parts.reporter.on_progress]
    assert set(parts.refresher._renderers) == {"list", "status"}
    assert parts.reporter._before_sync_reply == [parts.accounts.refresh]
    assert parts.digests.jobs.scheduler is app.scheduler
    assert job_ids(app) == {"qbwc-sweep", "export-replies", "home-tabs", "digest-resync"}
    # What a crash left unposted (a final export reply) goes out soon after a restart.
    replies = app.scheduler.get_job("export-replies")
    assert replies is not None
    soon = replies.next_run_time - datetime.now(UTC)
    assert timedelta(0) < soon <= START_DELAY
    await parts.reads.close()


async def test_the_slack_parts_are_served_and_closed_with_the_server(services: Core) -> None:
    app = build_app(with_slack(services, slack_api_url="http://127.0.0.1:9/api/"))
    assert app.slack is not None
    async with serving(serve(app)) as client:
        assert app.slack.client.session is not None  # the one pool, opened on start-up
        answer = await client.post("/slack/events", data=b"{}")
        assert answer.status == 401  # the route is there, and checks signatures
    assert app.slack.client.session is None


class Inert:
    """Stands for any collaborator: a constructor that used its argument would fail on it."""


def _built(kind: type, inert: Inert, listeners: list[Any]) -> Any:
    if kind is Review:
        return Review(
            inert,  # type: ignore[arg-type]
            client=inert,
            refresher=inert,
            permissions=inert,
            reporter=inert,
            reads=inert,
            accounts=inert,
            bulk=inert,
        )
    if kind is Digests:
        return Digests(inert, post=inert, permissions=inert, jobs=inert)  # type: ignore[arg-type]
    if kind is QbwcBackend:
        return QbwcBackend(inert, listeners=listeners)  # type: ignore[arg-type]
    return kind(inert, inert, inert, *([inert] if kind is BulkReview else []))


@pytest.mark.parametrize(
    "kind", [Review, ExportReporter, HomeTabs, SlackImport, BulkReview, Digests, QbwcBackend]
)
def test_constructors_only_store_their_arguments(kind: type) -> None:
    inert, listeners = Inert(), [Inert()]
    built = _built(kind, inert, listeners)
    stored = [value for value in vars(built).values() if value is inert]
    assert stored, f"{kind.__name__} kept none of its arguments"


async def test_building_a_reporter_or_review_registers_nothing(services: Core) -> None:
    core = with_slack(services)
    client = make_client(core.settings)
    refresher = Refresher(sessions=core.sessions, client=client, clock=core.clock)
    reporter = ExportReporter(core, client, refresher)
    Review(
        core,
        client=client,
        refresher=refresher,
        permissions=Inert(),  # type: ignore[arg-type]
        reporter=reporter,
        reads=Inert(),  # type: ignore[arg-type]
        accounts=Inert(),  # type: ignore[arg-type]
        bulk=Inert(),  # type: ignore[arg-type]
    )
    assert refresher._renderers == {} and reporter._before_sync_reply == []


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at run time or for type checking."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["bot/server.py", "bot/app.py", "bot/core.py"])
def test_only_the_cli_knows_the_sandbox(module: str) -> None:
    """Sandbox mode is the CLI's decision (`serve`); the server side never imports it."""
    assert not {name for name in imported(ROOT / module) if name.startswith("bot.sandbox")}
    assert "bot.sandbox" in imported(ROOT / "bot/cli.py")  # the checker sees the CLI's import
