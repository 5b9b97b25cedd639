"""A small async client for the part of Procore's REST API the link uses.

Built on aiohttp's client: aiohttp already serves every route of the bot and is well kept, so the
whole app has one HTTP stack (no second library for outgoing calls). No maintained Python client
covers these calls, and the few we need (a token, GET with pagination, POST, PATCH) fit here.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from bot.errors import CostCodeError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
API = "/rest/v1.0/"
RENEW_BEFORE = 60.0
"""Ask for a new token this many seconds before the current one expires."""
MAX_ATTEMPTS = 5
MAX_WAIT = 120.0
"""Never wait longer than this for one retry, whatever Procore's headers say."""
TIMEOUT = aiohttp.ClientTimeout(total=60)


class ProcoreError(CostCodeError):
    """Procore refused or could not be reached; `message` says so in plain words."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: float


def explain(status: int, body: Any, what: str) -> str:
    """Procore's error body (`message` or `errors`) as words an operator can act on."""
    said = _said(body)
    hint = {
        401: "the client id or secret was refused; check PROCORE_CLIENT_ID and "
        "PROCORE_CLIENT_SECRET (and PROCORE_LOGIN_URL: sandbox and production differ)",
        403: "the Procore app lacks a permission; give its service account Admin on the "
        "Company Admin tool (standard cost codes, webhooks) — see README 'Connect Procore'",
        404: "Procore does not know it; check PROCORE_COMPANY_ID and PROCORE_COST_CODE_LIST_ID",
        422: "Procore did not accept the data",
        429: "Procore's rate limit was reached and stayed reached",
    }.get(status)
    if hint is None:
        hint = "Procore is unavailable" if status >= 500 else "Procore refused the request"
    words = f"Procore answered {what} with {status}: {hint}"
    return f"{words} (Procore said: {said})" if said else words


def _said(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "errors", "error_description", "error"):
            if body.get(key):
                return _said(body[key])
        # Field errors, e.g. {"name": ["has already been taken"]}: say which field.
        return "; ".join(f"{key} {_said(value)}" for key, value in body.items() if value)[:500]
    if isinstance(body, list):
        return "; ".join(filter(None, (_said(item) for item in body)))[:500]
    return str(body)[:500] if body else ""


class ProcoreClient:
    """Token cached and renewed, company header on every call, pages followed, limits honoured."""

    def __init__(
        self,
        *,
        api_url: str,
        login_url: str,
        client_id: str,
        client_secret: str,
        company_id: int,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self.company_id = company_id
        self._client_id = client_id
        self._secret = client_secret
        self.sleep = sleep
        """Injectable, so tests never wait for a retry."""
        self._clock = clock
        self._jitter = jitter
        self._token: Token | None = None
        self._quiet_until = 0.0
        """Set when X-Rate-Limit-Remaining reached 0: no call before X-Rate-Limit-Reset."""
        self._token_lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    # -- token -----------------------------------------------------------------------------

    async def _access_token(self, *, renew: bool = False) -> str:
        async with self._token_lock:
            token = self._token
            if renew or token is None or self._clock() >= token.expires_at - RENEW_BEFORE:
                token = await self._fetch_token()
                self._token = token
            return token.value

    async def _fetch_token(self) -> Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret,
        }
        url = f"{self.login_url}/oauth/token"
        async with self._session().post(url, data=form) as response:
            body = await _body(response)
            if response.status != 200 or not isinstance(body, dict):
                raise ProcoreError(explain(response.status, body, "the token request"), 401)
        created = float(body.get("created_at") or self._clock())
        expires = created + float(body.get("expires_in") or 0)
        log.info("Procore token obtained (expires in %.0f s)", expires - self._clock())
        return Token(str(body["access_token"]), expires)

    # -- calls -----------------------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        body, _ = await self.request("GET", path, params=params)
        return body

    async def post(self, path: str, payload: Mapping[str, Any]) -> Any:
        body, _ = await self.request("POST", path, json=payload)
        return body

    async def patch(self, path: str, payload: Mapping[str, Any]) -> Any:
        body, _ = await self.request("PATCH", path, json=payload)
        return body

    async def get_all(
        self, path: str, params: Mapping[str, Any] | None = None, *, per_page: int = 100
    ) -> list[Any]:
        """Every item of a paginated list: `Link`'s next to the end (pages may be short)."""
        query = {**(params or {}), "page": 1, "per_page": per_page}
        items: list[Any] = []
        url: str | URL = path
        while True:
            body, response = await self.request("GET", url, params=query)
            if not isinstance(body, list):
                raise ProcoreError(f"Procore answered GET {path} with something not a list")
            items.extend(body)
            following = response.links.get("next")
            if following is not None:
                url, query = URL(str(following["url"])), {}
                continue
            total = response.headers.get("Total")
            if "Link" in response.headers or not body or not total or len(items) >= int(total):
                return items
            query = {**query, "page": int(query.get("page", 1)) + 1}  # no Link: Total decides

    async def request(
        self,
        method: str,
        path: str | URL,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> tuple[Any, aiohttp.ClientResponse]:
        url = path if isinstance(path, URL) else URL(f"{self.api_url}{API}{path.lstrip('/')}")
        what = f"{method} {url.path.removeprefix(API).lstrip('/')}"
        renewed = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._respect_limit(what)
            headers = {
                "Authorization": f"Bearer {await self._access_token(renew=renewed)}",
                "Procore-Company-Id": str(self.company_id),
            }
            try:
                async with self._session().request(
                    method, url, params=params, json=json, headers=headers
                ) as response:
                    body = await _body(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise ProcoreError(f"Procore could not be reached for {what}: {exc}") from exc
                await self._wait(attempt, None, what, f"{type(exc).__name__}")
                continue
            self._note_limit(response)
            if response.status < 400:
                return body, response
            if response.status == 401 and not renewed:
                renewed = True  # the token was revoked or expired early: one more, with a new one
                continue
            if _retryable(response.status) and attempt < MAX_ATTEMPTS:
                await self._wait(attempt, response, what, str(response.status))
                continue
            raise ProcoreError(explain(response.status, body, what), response.status)
        raise ProcoreError(f"Procore kept refusing {what}")  # pragma: no cover (loop returns)

    def _note_limit(self, response: aiohttp.ClientResponse) -> None:
        remaining = response.headers.get("X-Rate-Limit-Remaining")
        reset = response.headers.get("X-Rate-Limit-Reset")
        if remaining is not None and reset is not None and remaining.strip() == "0":
            try:
                self._quiet_until = float(reset)
            except ValueError:
                pass

    async def _respect_limit(self, what: str) -> None:
        pause = min(self._quiet_until - self._clock(), MAX_WAIT)
        if pause > 0:
            log.info("Procore rate limit used up; %s waits %.0f s for its reset", what, pause)
            await self.sleep(pause)

    async def _wait(
        self, attempt: int, response: aiohttp.ClientResponse | None, what: str, why: str
    ) -> None:
        delay = _wait_from_headers(response, self._clock()) if response is not None else None
        if delay is None:
            delay = min(2.0 ** (attempt - 1), MAX_WAIT)
        # Jitter spreads processes that were refused together, so they do not return together.
        delay = min(delay + self._jitter() * min(delay, 5.0) * 0.5, MAX_WAIT)
        log.warning("Procore %s answered %s; trying again in %.1f s", what, why, delay)
        await self.sleep(delay)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _wait_from_headers(response: aiohttp.ClientResponse, now: float) -> float | None:
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            pass
    reset = response.headers.get("X-Rate-Limit-Reset")
    if response.status == 429 and reset is not None:
        try:
            return max(float(reset) - now, 0.0)
        except ValueError:
            pass
    return None


async def _body(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    if not text:
        return None
    try:
        return await response.json(content_type=None)
    except ValueError:
        return text[:500]
