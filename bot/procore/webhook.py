"""`POST /procore/webhook`: check the bearer token, store the delivery, answer 204 at once.

Procore wants a 2xx within 5 s and sends ids only, so nothing here calls Procore: the delivery is
stored (its `ulid` unique, so a repeat is a no-op) and processed in the background.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.procore import state
from bot.store import db
from bot.store.models import ProcoreDelivery, utcnow

log = logging.getLogger(__name__)

PATH = "/procore/webhook"
MAX_BODY = 64 * 1024
EVENTS = frozenset({"create", "update", "delete"})


class BadDelivery(ValueError):
    """The body is not a delivery we understand."""


def token_ok(header: str | None, token: SecretStr | None) -> bool:
    """Constant-time comparison of `Authorization: Bearer …` with the configured token."""
    if token is None or not header:
        return False
    scheme, _, given = header.partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


def parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadDelivery("the body is not JSON") from None
    return parse_json(data)


def parse_json(data: Any) -> dict[str, Any]:
    """Check a decoded delivery; BadDelivery says what is wrong."""
    if not isinstance(data, dict):
        raise BadDelivery("the body is not a JSON object")
    missing = [
        key for key in ("ulid", "event_type", "resource_name", "resource_id") if key not in data
    ]
    if missing:
        raise BadDelivery(f"missing {', '.join(missing)}")
    if not isinstance(data["ulid"], str) or not data["ulid"] or len(data["ulid"]) > 64:
        raise BadDelivery("ulid must be a short string")
    if data["event_type"] not in EVENTS:
        raise BadDelivery(f"unknown event_type {str(data['event_type'])[:32]!r}")
    resource_id = data["resource_id"]
    if isinstance(resource_id, bool) or not isinstance(resource_id, int | str):
        raise BadDelivery("resource_id must be an id")
    try:
        data["resource_id"] = int(resource_id)
    except ValueError:
        raise BadDelivery("resource_id must be an id") from None
    if not isinstance(data["resource_name"], str):
        raise BadDelivery("resource_name must be text")
    return data


async def store(
    sessions: db.SessionFactory,
    data: dict[str, Any],
    company_id: int,
    clock: Callable[[], datetime] = utcnow,
) -> bool:
    """Keep the delivery; False when its ulid was stored before (Procore delivered it twice)."""
    async with db.session_scope(sessions) as session:
        found = await session.exec(
            select(ProcoreDelivery.id).where(ProcoreDelivery.ulid == data["ulid"])
        )
        if found.first() is not None:
            return False
        now = clock()
        try:
            async with session.begin_nested():
                session.add(
                    ProcoreDelivery(
                        ulid=data["ulid"],
                        event_type=data["event_type"],
                        resource_name=data["resource_name"][:64],
                        resource_id=data["resource_id"],
                        body=json.dumps(data, sort_keys=True),
                        received_at=now,
                        next_attempt_at=now,
                    )
                )
        except IntegrityError:
            return False  # the same delivery arrived in another process a moment ago
        await state.record(session, company_id, last_delivery_at=now)
    return True


def make_handler(
    sessions: db.SessionFactory,
    token: SecretStr | None,
    company_id: int,
    on_stored: Callable[[], object],
    clock: Callable[[], datetime] = utcnow,
) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        if not token_ok(request.headers.get("Authorization"), token):
            why = "PROCORE_WEBHOOK_TOKEN is not set" if token is None else "wrong bearer token"
            log.warning("Procore webhook refused (%s) from %s", why, request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            data = parse(body)
        except BadDelivery as exc:
            log.warning("Procore webhook delivery refused: %s", exc)
            return web.json_response({"error": str(exc)}, status=400)
        if await store(sessions, data, company_id, clock):
            on_stored()
        else:
            log.info("Procore delivery %s was already stored; ignored", data["ulid"])
        return web.Response(status=204)

    return handle
