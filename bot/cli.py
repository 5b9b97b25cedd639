"""The `costcodes` command line: the operator's surface, with the same rules and audit as Slack.

`serve` is also where sandbox mode is decided: the server itself never knows of the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.accounts import rebind
from bot.config import Settings, get_settings
from bot.connection import views
from bot.connection.words import full_text
from bot.core import Core, open_core
from bot.costcodes import intake
from bot.costcodes.assign import assign_pattern
from bot.costcodes.domain import STATE_LABELS, Surface
from bot.errors import CostCodeError
from bot.export import start as export
from bot.logs import configure
from bot.progress import ProgressBar
from bot.store import app_settings, db
from qbd import qwc

log = logging.getLogger(__name__)

EXIT_OK, EXIT_SOME_REJECTED, EXIT_UNUSABLE = 0, 1, 2
PROGRESS_FROM_ROWS = 1000


def operator() -> str:
    """The audit actor for the CLI: the operating-system user who ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


async def _with_services(settings: Settings, work: Callable[[Core], Awaitable[int]]) -> int:
    services = await open_core(settings)
    try:
        return await work(services)
    finally:
        await services.close()


async def cmd_import(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    path = Path(args.file)
    try:
        rows, problems = intake.read_file(path)
    except intake.FileUnusable as exc:
        err.write(f"Nothing was imported: {exc.message}.\n")
        return EXIT_UNUSABLE

    async def work(services: Core) -> int:
        bar = ProgressBar(err, "Importing") if len(rows) > PROGRESS_FROM_ROWS else None
        report = await intake.import_in_transaction(
            services.sessions,
            rows,
            problems,
            actor=operator(),
            surface=Surface.CLI,
            name=path.name,
            progress=bar,
        )
        out.writelines(f"{line}\n" for line in intake.report_lines(report))
        return report.exit_code

    return await _with_services(settings, work)


async def cmd_status(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    async def work(services: Core) -> int:
        async with db.session_scope(services.sessions) as session:
            summary = await views.status_summary(
                session, now=services.clock(), settings=services.settings
            )
        counts = summary.counts
        width = max(len(label) for label in STATE_LABELS.values())
        for state, count in counts.items():
            out.write(f"{STATE_LABELS[state]:<{width}}  {count:>7,}\n")
        out.write(f"{'Total':<{width}}  {sum(counts.values()):>7,}\n")
        contact = summary.last_contact
        when = contact.strftime("%Y-%m-%d %H:%M UTC") if contact else "never"
        out.write(f"Web Connector last contact: {when}\n")
        if summary.connection is not None:
            view = summary.connection
            out.write(f"QuickBooks: {view.label} — {full_text(view)}\n")
        if summary.procore is not None:
            out.write(f"{summary.procore.words} (details: costcodes procore status)\n")
        return EXIT_OK

    return await _with_services(settings, work)


async def cmd_serve(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    from bot import server

    async def work(services: Core) -> int:
        server.freeze_startup_heap()
        await serve(services, sandbox=not args.no_sandbox)
        return EXIT_OK

    return await _with_services(settings, work)


async def serve(core: Core, *, sandbox: bool = True) -> None:
    """Serve until cancelled; given no Slack setting at all, as the local sandbox (bot.sandbox)."""
    # Imported here: the other commands need neither the server nor the simulators.
    from aiohttp import web

    from bot import sandbox as sandbox_mode
    from bot import server
    from bot.app import build_app

    server.log_missing_slack(core)
    mount: server.Mount | None = None
    if sandbox and sandbox_mode.wanted(core.settings):
        core, local = await sandbox_mode.prepare(core)

        def mount_sandbox(web_app: web.Application) -> None:
            local.mount(web_app)  # the page, its controls and the Slack stand-in
            log.info("sandbox mode: try the bot at %s/sandbox", local.base_url)

        mount = mount_sandbox
    await server.run(build_app(core), mount=mount)


async def cmd_qwc(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    async def work(services: Core) -> int:
        async with db.session_scope(services.sessions) as session:
            owner_id = await app_settings.get_or_create(session, "qbwc_owner_id", qwc.new_guid)
            file_id = await app_settings.get_or_create(session, "qbwc_file_id", qwc.new_guid)
        url = args.url.rstrip("/")
        base = url.rsplit("/qbwc", 1)[0] if url.endswith("/qbwc") else url
        try:
            out.write(
                qwc.render_qwc(
                    app_name="Cost Code Export",
                    app_url=url if url.endswith("/qbwc") else f"{url}/qbwc",
                    app_description="Exports approved cost codes as QuickBooks Service items",
                    app_support=f"{base}/healthz",
                    username=settings.qbwc_username,
                    owner_id=owner_id,
                    file_id=file_id,
                    minutes=args.minutes,
                )
            )
        except ValueError as exc:
            err.write(f"{exc}\n")
            return EXIT_UNUSABLE
        return EXIT_OK

    return await _with_services(settings, work)


async def cmd_accounts_sync(
    args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO
) -> int:
    async def work(services: Core) -> int:
        async with db.session_scope(services.sessions) as session:
            change = await rebind.pending_rebind(session)
            confirmed = change.opened if change is not None and args.yes else None
            request = await rebind.request_sync(
                session, requested_by=operator(), confirmed=confirmed
            )
        if change is not None:
            _print_rebind(change, confirmed is not None, out)
        if request.job is None:
            return EXIT_SOME_REJECTED
        job, created = request.job, request.created
        if created:
            out.write(
                "A GL account refresh is queued; the Web Connector fetches the chart of accounts "
                "on its next update.\n"
            )
        else:
            out.write(
                f"A GL account refresh is already waiting (requested by {job.requested_by}).\n"
            )
        return EXIT_OK

    return await _with_services(settings, work)


def _print_rebind(change: rebind.Rebind, confirmed: bool, out: TextIO) -> None:
    out.write(
        f"The GL accounts came from {change.bound.label}, but the Web Connector last had "
        f"{change.opened.label} open.\n"
    )
    if confirmed:
        out.write(
            "Re-binding: the next update takes the chart of accounts from that file, and cost "
            "codes are exported to it from then on.\n"
        )
        return
    out.write(
        "A sync from it re-binds the bot to that file: cost codes are added there from then on, "
        "and picks of accounts it does not have are held back until someone picks again.\n"
        "Nothing was queued. Run `costcodes accounts sync --yes` to re-bind, or open the old "
        "file in QuickBooks to keep it.\n"
    )


async def cmd_assign(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    async def work(services: Core) -> int:
        async with db.session_scope(services.sessions) as session:
            report = await assign_pattern(
                session,
                pattern=args.pattern,
                income=args.income,
                expense=args.expense,
                actor=operator(),
                surface=Surface.CLI,
            )
        out.write(
            f"Assigned accounts to {len(report.assigned)} cost codes"
            f" ({len(report.unchanged)} already had them).\n"
        )
        for code, reason in report.skipped:
            out.write(f"  {code}: left alone: {reason}\n")
        return EXIT_SOME_REJECTED if report.skipped else EXIT_OK

    return await _with_services(settings, work)


async def cmd_export(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    async def work(services: Core) -> int:
        async with db.session_scope(services.sessions) as session:
            start = await export.start_export(session, actor=operator(), surface=Surface.CLI)
        if start.already_running is not None:
            batch = start.already_running
            out.write(f"An export is already running (started by {batch.created_by}).\n")
            return EXIT_SOME_REJECTED
        if start.batch is not None:
            out.write(
                f"Queued {len(start.queued)} cost codes for QuickBooks; the Web Connector sends "
                "them on its next update.\n"
            )
        else:
            out.write("Nothing was queued.\n")
        for held in start.held:
            out.write(f"  {held.code}: stays in Ready to Export: {held.reason}\n")
        return EXIT_OK if start.batch is not None else EXIT_SOME_REJECTED

    return await _with_services(settings, work)


async def cmd_procore(
    args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO
) -> int:
    from bot.procore import commands

    if not settings.procore_enabled:
        err.write(commands.LINK_OFF)
        return EXIT_UNUSABLE
    run = {"connect": commands.connect, "sync": commands.sync, "status": commands.status}
    action = run[args.procore_command]
    return await _with_services(settings, lambda services: action(services, args, out))


Command = Callable[[argparse.Namespace, Settings, TextIO, TextIO], Awaitable[int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="costcodes", description="Review cost codes and export them to QuickBooks Desktop."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the server (Slack, Web Connector, /healthz)")
    serve.add_argument(
        "--no-sandbox",
        action="store_true",
        help="without Slack settings, do not serve the sandbox page at /sandbox",
    )
    serve.set_defaults(handler=cmd_serve)
    imp = sub.add_parser("import", help="import cost codes from CSV or JSON into Ready to Export")
    imp.add_argument("file", help="CSV with header code,description[,division], or a JSON list")
    imp.set_defaults(handler=cmd_import)
    status = sub.add_parser("status", help="count cost codes per Export Status")
    status.set_defaults(handler=cmd_status)
    qwc_cmd = sub.add_parser("qwc", help="print the .qwc file to load into the Web Connector")
    qwc_cmd.add_argument("--url", required=True, help="public URL of this server's /qbwc")
    qwc_cmd.add_argument("--minutes", type=int, default=15, help="how often it runs (minutes)")
    qwc_cmd.set_defaults(handler=cmd_qwc)
    acc = sub.add_parser("accounts", help="GL accounts from QuickBooks")
    acc_sub = acc.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    sync = acc_sub.add_parser("sync", help="queue a GL account refresh")
    sync.add_argument(
        "--yes",
        action="store_true",
        help="confirm taking the chart from another company file than before (a re-bind)",
    )
    sync.set_defaults(handler=cmd_accounts_sync)
    assign = sub.add_parser("assign", help="pick GL accounts for a code or a glob like 03-*")
    assign.add_argument("pattern")
    assign.add_argument("--income", required=True, help="account full name or number")
    assign.add_argument("--expense", help="account full name or number (optional)")
    assign.set_defaults(handler=cmd_assign)
    exp = sub.add_parser("export", help="queue every Ready code that has an Income account")
    exp.set_defaults(handler=cmd_export)
    procore = sub.add_parser("procore", help="the Procore link: connect, sync, status")
    procore.set_defaults(handler=cmd_procore)
    pro_sub = procore.add_subparsers(dest="procore_command", required=True, metavar="ACTION")
    connect = pro_sub.add_parser("connect", help="register the webhook and its three triggers")
    connect.add_argument("--url", required=True, help="public https URL of /procore/webhook")
    pro_sub.add_parser("sync", help="read Procore's whole cost code list now")
    pro_sub.add_parser("status", help="the link's state: list, last reconcile, write-backs")
    return parser


async def run(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; tests call this directly inside their event loop."""
    args = build_parser().parse_args(argv)
    out, err = out or sys.stdout, err or sys.stderr
    handler: Command = args.handler
    try:
        return await handler(args, settings or get_settings(), out, err)
    except CostCodeError as exc:
        err.write(f"{exc.message}\n")
        return EXIT_SOME_REJECTED


def main(argv: Sequence[str] | None = None) -> int:
    """The `costcodes` console script."""
    configure()
    try:
        return asyncio.run(run(argv))
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
