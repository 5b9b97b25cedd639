"""The composition root: every collaborator of the server built once, here and nowhere else.

Features receive the frozen `Core` and what they work with as constructor arguments, and their
constructors only store them. This module builds them in order, registers the refresher's
renderers and the hooks between them, and lists every scheduled job. What is not configured is
not built: without Slack settings there are no Slack parts at all (`App.slack` is None), without
PROCORE_CLIENT_ID no Procore link. Only the CLI, `bot.server.build_web_app` and tests import it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.index import AccountIndex
from bot.core import Core
from bot.costcodes.slack_import import SlackImport
from bot.digests import replies, service
from bot.digests.jobs import DigestJobs
from bot.digests.service import Digests, Post
from bot.export.replies import STATUS_KIND, ExportReporter
from bot.home import service as home_service
from bot.home.service import HomeTabs
from bot.jobs import build_scheduler, every
from bot.procore import link
from bot.procore.link import ProcoreLink
from bot.review import listing
from bot.review.bulk import BulkReview
from bot.review.pageturns import PageTurns
from bot.review.picksave import PickSaver
from bot.review.service import Review
from bot.slack import bolt
from bot.slack.permissions import Permissions
from bot.slack.refresher import Refresher
from bot.store.reads import ReadSessions
from bot.webconnector.backend import QbwcBackend

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60


@dataclass(frozen=True)
class SlackParts:
    """Everything that talks to Slack: built together when Slack is configured, else not at all."""

    client: AsyncWebClient
    """The one Web API client of the process (one workspace)."""
    reads: ReadSessions
    refresher: Refresher
    permissions: Permissions
    """One cache of who may act, shared by every surface that asks."""
    reporter: ExportReporter
    accounts: AccountIndex
    review: Review
    home: HomeTabs
    imports: SlackImport
    digests: Digests
    bolt: AsyncApp


@dataclass(frozen=True)
class App:
    """The server's collaborators; `bot.server` gives them routes and lifetimes."""

    core: Core
    qbwc: QbwcBackend
    scheduler: AsyncIOScheduler
    slack: SlackParts | None
    """None: Slack is not configured, so nothing of it was built."""
    procore: ProcoreLink | None
    """None: the Procore link is off (no PROCORE_CLIENT_ID)."""


def build_app(core: Core, *, refresh_in_background: bool = True) -> App:
    """Every collaborator, once; `refresh_in_background=False`: tests flush the refresher."""
    settings = core.settings
    scheduler = build_scheduler(settings.tz)
    slack = None
    if settings.slack_configured:
        slack = build_slack(core, scheduler, refresh_in_background=refresh_in_background)
    else:
        log.info("reminder digests are off: Slack is not connected")
    qbwc = QbwcBackend(core, listeners=[slack.reporter.on_progress] if slack else [])
    procore = ProcoreLink(core) if settings.procore_enabled else None
    app = App(core=core, qbwc=qbwc, scheduler=scheduler, slack=slack, procore=procore)
    schedule_jobs(app)
    return app


def build_slack(
    core: Core, scheduler: AsyncIOScheduler, *, refresh_in_background: bool = True
) -> SlackParts:
    """The Slack collaborators in the order they need each other, then the hooks between them."""
    settings = core.settings
    client = bolt.make_client(settings)
    reads = ReadSessions(settings.database_url, core.sessions)
    refresher = _refresher(core, client, reads, background=refresh_in_background)
    permissions = Permissions(client, settings.erp_admins, core.clock)
    reporter = ExportReporter(core, client, refresher)
    review = _review(core, client, refresher, permissions, reporter, reads)
    home = HomeTabs(core, client, review)
    imports = SlackImport(core, client, permissions)
    post = replies.poster(client)
    digests = build_digests(core, post=post, permissions=permissions, scheduler=scheduler)
    _register(core, refresher, reporter, review)
    listening = bolt.create_app(
        settings,
        client=client,
        core=core,
        review=review,
        home=home,
        imports=imports,
        digests=digests,
    )
    return SlackParts(
        client=client,
        reads=reads,
        refresher=refresher,
        permissions=permissions,
        reporter=reporter,
        accounts=review.accounts,
        review=review,
        home=home,
        imports=imports,
        digests=digests,
        bolt=listening,
    )


def _refresher(
    core: Core, client: AsyncWebClient, reads: ReadSessions, *, background: bool
) -> Refresher:
    return Refresher(
        sessions=core.sessions,
        client=client,
        clock=core.clock,
        run_in_background=background,
        reads=reads,
    )


def _register(core: Core, refresher: Refresher, reporter: ExportReporter, review: Review) -> None:
    """What each part does for the others: the refresher's renderers, the sync reply's hook."""
    refresher.register(listing.KIND, listing.list_renderer(core.clock))
    refresher.register(STATUS_KIND, reporter.render_status)
    reporter.before_sync_reply(review.accounts.refresh)  # the pickers must show the synced chart


def _review(
    core: Core,
    client: AsyncWebClient,
    refresher: Refresher,
    permissions: Permissions,
    reporter: ExportReporter,
    reads: ReadSessions,
) -> Review:
    return Review(
        core,
        client=client,
        refresher=refresher,
        permissions=permissions,
        reporter=reporter,
        reads=reads,
        accounts=AccountIndex(reads.sessions),
        bulk=BulkReview(core, client, refresher, permissions),
        saver=PickSaver(core.sessions),
        turns=PageTurns(core.sessions),
    )


def build_digests(
    core: Core, *, post: Post, permissions: Permissions, scheduler: AsyncIOScheduler
) -> Digests:
    """The digest service and its cron jobs, which wake it for each channel's slots."""

    async def run_due(channel: str) -> bool:
        return await digests.run_due(channel)  # `digests` is bound below, before any job runs

    jobs = DigestJobs(scheduler, run_due)
    digests = Digests(core, post=post, permissions=permissions, jobs=jobs)
    return digests


def schedule_jobs(app: App) -> None:
    """Every periodic job of the server, in one list (the digests' cron jobs follow the table)."""
    scheduler = app.scheduler
    every(scheduler, "qbwc-sweep", app.qbwc.expire_silent_sessions, seconds=SWEEP_SECONDS)
    if app.slack is not None:
        slack = app.slack
        # Also soon after start-up: a final reply a crash left unposted goes out then.
        every(
            scheduler,
            "export-replies",
            slack.reporter.tick,
            seconds=SWEEP_SECONDS,
            soon_after_start=True,
        )
        every(scheduler, "home-tabs", slack.home.refresh, seconds=home_service.POLL_SECONDS)
        every(
            scheduler,
            "digest-resync",
            slack.digests.resync,
            seconds=service.RESYNC_SECONDS,
        )
    if app.procore is not None:
        minutes = app.core.settings.procore_reconcile_minutes
        every(scheduler, "procore-reconcile", app.procore.reconcile_job, seconds=minutes * 60)
        every(scheduler, "procore-tick", app.procore.tick, seconds=link.TICK_SECONDS)
