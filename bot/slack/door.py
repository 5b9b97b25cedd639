"""The Slack door: what reaches Bolt, over HTTP or Socket Mode, and what Slack hears back.

Over HTTP the signature is checked first, on the raw body, before anything parses it (401);
then the body's shape (400 with a short reason; `bot.slack.shapes`); only then does Bolt see
it. A signed request that nothing listens for is acknowledged with 200 and logged, because Slack
retries anything else and shows the person an error (DESIGN §7). Socket Mode gets the same
shape check and the same acknowledgement.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack import acks
from bot.slack.shapes import NotFromSlack, check, read
from handlers.errors import describe

log = logging.getLogger(__name__)

_OPTIONS_TYPES = frozenset({"block_suggestion", "dialog_suggestion"})
_PLAIN = "text/plain"


class Door:
    """`POST /slack/events` in front of one Bolt app."""

    def __init__(self, app: AsyncApp, signing_secret: str, max_bytes: int) -> None:
        self._app = app
        self._verifier = _BytesVerifier(signing_secret) if signing_secret.strip() else None
        self._max_bytes = max_bytes

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > self._max_bytes:
            return web.Response(status=413, text="request too large")
        raw = await request.read()
        if len(raw) > self._max_bytes:
            return web.Response(status=413, text="request too large")
        if not self._signed(raw, request.headers):
            log.warning("Slack request refused: missing, wrong or stale signature")
            return web.Response(status=401, text="invalid signature")
        try:
            body = read(raw, request.content_type)
            check(body)
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers=dict(request.headers),
            )
        except NotFromSlack as exc:
            log.warning("Slack request refused (400): %s", exc.reason)
            return web.Response(status=400, text=f"not a Slack request: {exc.reason}")
        except Exception as exc:  # a shape Bolt cannot read that the check let through
            reference = _refuse(exc)
            return web.Response(status=400, text=f"the request could not be read [ref {reference}]")
        try:
            with acks.waiting():  # after-ack work elsewhere lets it be answered first
                response = await self._app.async_dispatch(bolt_request)
        except Exception as exc:  # Bolt's own error handling failed on this body
            reference = _refuse(exc)
            return web.Response(status=400, text=f"the request could not be read [ref {reference}]")
        if response.status == 404:
            response = unhandled(body, "HTTP")
        return await to_aiohttp_response(response)

    def _signed(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        if self._verifier is None:
            return False
        try:
            return self._verifier.is_valid_request(raw, dict(headers))
        except (ValueError, TypeError):  # a non-numeric timestamp, a non-ASCII signature
            return False


class _BytesVerifier(SignatureVerifier):
    """slack_sdk's verifier (5-minute window, constant-time compare) over the raw bytes.

    The SDK decodes a bytes body as UTF-8 before signing it, which fails on a body that is not
    UTF-8; signing the bytes as they came keeps "signature first" true for every body.
    """

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str:
        raw = body if isinstance(body, bytes) else body.encode()
        base = b"v0:" + timestamp.encode() + b":" + raw
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return f"v0={digest}"


def _refuse(exc: Exception) -> str:
    reference = uuid.uuid4().hex[:10]
    log.warning("Slack request refused (400) [ref %s]: unreadable body", reference, exc_info=exc)
    return reference


def unhandled(body: Mapping[str, Any], via: str) -> BoltResponse:
    """A signed request no listener takes: acknowledge it (200), log it, change nothing."""
    log.info("acknowledged %s over %s; nothing in this bot handles it", describe(dict(body)), via)
    if body.get("type") in _OPTIONS_TYPES:
        return BoltResponse(
            status=200,
            body=json.dumps({"options": []}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    return BoltResponse(status=200, body="", headers={"content-type": _PLAIN})


class GuardedSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode with the HTTP door's rules: a malformed or unhandled envelope is acknowledged.

    An envelope that is not acknowledged is sent again by Slack, and one that made Bolt raise
    would only leave a traceback; neither helps when the payload itself is wrong.
    """

    def __init__(self, app: AsyncApp, app_token: str, **kwargs: Any) -> None:
        super().__init__(app, app_token, **kwargs)
        self.client.message_listeners.append(self._odd_envelope)

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        if req.type in ("events_api", "interactive", "slash_commands"):
            try:
                check(req.payload)
            except NotFromSlack as exc:
                log.warning("Socket Mode %s envelope refused: %s", req.type, exc.reason)
                await _ack(client, req.envelope_id)
                return
        started = time.time()
        try:
            with acks.waiting():
                response = await run_async_bolt_app(self.app, req)
        except Exception as exc:
            _refuse(exc)
            await _ack(client, req.envelope_id)
            return
        if response.status == 404:
            unhandled(req.payload, "Socket Mode")
            await _ack(client, req.envelope_id)
            return
        await send_async_response(client, req, response, started)

    async def _odd_envelope(
        self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        """An envelope whose payload is not an object never reaches `handle`: ack it here."""
        envelope_id = message.get("envelope_id")
        if isinstance(envelope_id, str) and not isinstance(message.get("payload"), dict):
            log.warning("Socket Mode envelope refused: its payload is not an object")
            await _ack(client, envelope_id)


async def _ack(client: AsyncBaseSocketModeClient, envelope_id: str) -> None:
    await client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))
