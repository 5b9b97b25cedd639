"""`costcodes procore connect|sync|status`: the operator's view of the link (bot.cli wires them)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TextIO

from bot.core import Core
from bot.procore import state
from bot.procore.link import ProcoreLink
from bot.store import db

EXIT_OK, EXIT_PROCORE = 0, 1
LINK_OFF = (
    "The Procore link is off: set PROCORE_CLIENT_ID, PROCORE_CLIENT_SECRET and "
    "PROCORE_COMPANY_ID (README, 'Connect Procore').\n"
)


async def connect(services: Core, args: argparse.Namespace, out: TextIO) -> int:
    link = ProcoreLink(services)
    try:
        done = await link.connect(args.url)
    finally:
        await link.close()
    for line in done:
        out.write(f"{line}\n")
    if not done:
        out.write(f"Already connected: the hook delivers to {args.url} with all three triggers.\n")
    return EXIT_OK


async def sync(services: Core, args: argparse.Namespace, out: TextIO) -> int:
    link = ProcoreLink(services)
    try:
        report = await link.reconcile()
        await link.tick()
    finally:
        await link.close()
    out.write(f"Procore cost codes: {report.words()}.\n")
    for label, codes in (
        ("new in Ready to Export", report.added),
        ("updated", report.updated),
        ("re-sent to Ready to Export", report.resent),
        ("taken out of Ready to Export", report.removed),
        ("changed in Procore after export (QuickBooks untouched)", report.after_export),
    ):
        if codes:
            out.write(f"  {label}: {', '.join(codes)}\n")
    async with services.sessions() as session:
        held = await state.held_back(session)
    for code, reason in held:
        out.write(f"  {code}: held back: {reason}\n")
    return EXIT_OK


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


async def status(services: Core, args: argparse.Namespace, out: TextIO) -> int:
    settings = services.settings
    async with db.session_scope(services.sessions) as session:
        health = await state.health(session, settings.procore_company_id or 0)
        held = await state.held_back(session)
    list_id = health.list_id or settings.procore_cost_code_list_id
    out.write(f"{health.words}.\n")
    out.write(
        f"Company {settings.procore_company_id}, cost code list {list_id or 'not chosen yet'}\n"
    )
    reconcile = f" ({health.last_reconcile})" if health.last_reconcile else ""
    out.write(f"Last reconcile: {_when(health.last_reconcile_at)}{reconcile}\n")
    out.write(f"Last webhook delivery: {_when(health.last_delivery_at)}\n")
    out.write(f"Write-backs waiting: {health.writebacks_waiting}\n")
    out.write(f"Held back by a rule: {len(held)}\n")
    for code, reason in held:
        out.write(f"  {code}: {reason}\n")
    error = f"{health.last_error} ({_when(health.last_error_at)})" if health.last_error else "none"
    out.write(f"Last error: {error}\n")
    return EXIT_OK if health.last_error is None else EXIT_PROCORE
