"""A fake Procore (REST API v1.0 and OAuth) on 127.0.0.1 that the app really talks to over HTTP.

It issues client-credentials tokens that expire on its own clock, refuses calls without a valid
token (401) or without the `Procore-Company-Id` header, serves the standard cost code list in
pages (optionally shorter than `per_page`, with `Link`/`Total` headers), takes
`standard_cost_codes/sync` with per-item errors on request, keeps webhook hooks and triggers,
and can be told to answer the next calls with 429 or 503 (and their headers).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import loopback

CLIENT_ID = "procore-client-id"
CLIENT_SECRET = "procore-client-secret"
COMPANY = 4_000_000_000_123
"""Procore ids are 64-bit: bigger than a 32-bit column would hold."""
LIST_ID = 5_000_000_000_001
FIRST_CODE_ID = 6_000_000_000_000
API = "/rest/v1.0"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    status: int = 200


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    path: str | None = None
    """Only calls whose path contains this fail (None: any API call)."""


class FakeProcore:
    """Serve with `await fake.start()`; point PROCORE_API_URL and PROCORE_LOGIN_URL at `url`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.expires_in = 7200
        self.tokens: dict[str, float] = {}
        """Access token -> expiry (fake clock seconds)."""
        self.token_requests = 0
        self.lists: list[dict[str, Any]] = [
            {"id": LIST_ID, "name": "Company WBS", "is_erp_list": True}
        ]
        self.codes: dict[int, dict[str, Any]] = {}
        self.seen: list[Seen] = []
        self.failures: list[Failure] = []
        self.sync_calls: list[list[dict[str, Any]]] = []
        self.sync_errors: dict[int, int] = {}
        """Code id -> how many more sync calls report it in `errors`."""
        self.page_cap: int | None = None
        """Serve at most this many codes a page, whatever per_page asks (Procore may)."""
        self.link_headers = True
        self.rate_limit: tuple[int, float] | None = None
        """(remaining, reset) sent as X-Rate-Limit-* on every API answer, when set."""
        self.hooks: dict[int, dict[str, Any]] = {}
        self.triggers: dict[int, list[dict[str, Any]]] = {}
        self._ids = itertools.count(FIRST_CODE_ID)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- set-up --------------------------------------------------------------------------

    def add_code(
        self, full_code: str, name: str, parent: int | None = None, *, list_id: int = LIST_ID
    ) -> int:
        code_id = next(self._ids)
        self.codes[code_id] = {
            "id": code_id,
            "standard_cost_code_list_id": list_id,
            "parent_id": parent,
            "code": full_code.rsplit("-", 1)[-1],
            "full_code": full_code,
            "name": name,
            "origin_id": None,
            "origin_data": None,
        }
        return code_id

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        path: str | None = None,
    ) -> None:
        for _ in range(times):
            self.failures.append(Failure(status, dict(headers or {}), body, path))

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def delivery(
        self,
        event: str,
        resource_id: int,
        *,
        ulid: str | None = None,
        app_id: str | None = "another-app",
    ) -> dict[str, Any]:
        """A webhook delivery as Procore posts it (ids only)."""
        return {
            "id": next(self._ids),
            "ulid": ulid or uuid.uuid4().hex.upper()[:26],
            "timestamp": "2026-11-26T09:00:00.000000Z",
            "company_id": COMPANY,
            "project_id": None,
            "api_version": "v2",
            "event_type": event,
            "resource_name": "Standard Cost Codes",
            "resource_id": resource_id,
            "metadata": {"source_application_id": app_id},
            "user_id": 42,
        }

    def calls(self, method: str, path_part: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and path_part in s.path]

    def written(self) -> list[tuple[int, str]]:
        """(code id, origin_id) of every update the sync accepted, in order."""
        found = []
        for updates in self.sync_calls:
            for update in updates:
                if update.get("accepted"):
                    found.append((update["id"], update["origin_id"]))
        return found

    # -- serving -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get(f"{API}/standard_cost_code_lists", self._lists)
        app.router.add_patch(f"{API}/standard_cost_codes/sync", self._sync)
        app.router.add_get(f"{API}/standard_cost_codes", self._codes)
        app.router.add_get(f"{API}/standard_cost_codes/{{id}}", self._code)
        app.router.add_get(f"{API}/webhooks/hooks", self._list_hooks)
        app.router.add_post(f"{API}/webhooks/hooks", self._create_hook)
        app.router.add_patch(f"{API}/webhooks/hooks/{{id}}", self._update_hook)
        app.router.add_get(f"{API}/webhooks/hooks/{{id}}/triggers", self._list_triggers)
        app.router.add_post(f"{API}/webhooks/hooks/{{id}}/triggers", self._create_trigger)
        self._runner, self.url = await loopback.serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
        seen = Seen(request.method, request.path, dict(request.query), dict(request.headers), body)
        self.seen.append(seen)
        response = await self._check(request)
        if response is None:
            response = await handler(request)
        if self.rate_limit is not None and request.path.startswith(API):
            remaining, reset = self.rate_limit
            response.headers["X-Rate-Limit-Limit"] = "3600"
            response.headers["X-Rate-Limit-Remaining"] = str(remaining)
            response.headers["X-Rate-Limit-Reset"] = str(int(reset))
        seen.status = response.status
        return response

    async def _check(self, request: web.Request) -> web.Response | None:
        if request.path == "/oauth/token":
            return None
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if token not in self.tokens or self.tokens[token] <= self.clock():
            return web.json_response(
                {"errors": "The access token is invalid or has expired"}, status=401
            )
        if request.headers.get("Procore-Company-Id") != str(COMPANY):
            return web.json_response(
                {"message": "Procore-Company-Id header is missing or wrong"}, status=403
            )
        for failure in self.failures:
            if failure.path is None or failure.path in request.path:
                self.failures.remove(failure)
                return web.json_response(
                    failure.body or {"errors": "unavailable"},
                    status=failure.status,
                    headers=failure.headers,
                )
        return None

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials",
            CLIENT_ID,
            CLIENT_SECRET,
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status=401,
            )
        token = uuid.uuid4().hex
        now = self.clock()
        self.tokens[token] = now + self.expires_in
        return web.json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "created_at": int(now),
            }
        )

    async def _lists(self, request: web.Request) -> web.Response:
        return web.json_response(self.lists)

    async def _codes(self, request: web.Request) -> web.Response:
        list_id = int(request.query["standard_cost_code_list_id"])
        page = int(request.query.get("page", "1"))
        per_page = int(request.query.get("per_page", "100"))
        size = min(per_page, self.page_cap or per_page)
        items = [c for c in self.codes.values() if c["standard_cost_code_list_id"] == list_id]
        chunk = items[(page - 1) * size : page * size]
        headers = {"Total": str(len(items)), "Per-Page": str(per_page)}
        if self.link_headers:
            links = []
            if page * size < len(items):
                query = {**request.query, "page": str(page + 1)}
                links.append(f'<{request.url.with_query(query)}>; rel="next"')
            headers["Link"] = ", ".join(links) if links else f'<{request.url}>; rel="last"'
        return web.json_response(chunk, headers=headers)

    async def _code(self, request: web.Request) -> web.Response:
        code = self.codes.get(int(request.match_info["id"]))
        if code is None:
            return web.json_response({"errors": "Record not found"}, status=404)
        return web.json_response(code)

    async def _sync(self, request: web.Request) -> web.Response:
        body = await request.json()
        updates = body.get("updates") or []
        if len(updates) > 1000:
            return web.json_response({"errors": "at most 1000 updates"}, status=422)
        entities, errors, recorded = [], [], []
        for update in updates:
            code_id = int(update["id"])
            if self.sync_errors.get(code_id, 0) > 0:
                self.sync_errors[code_id] -= 1
                errors.append({"id": code_id, "errors": {"origin_id": ["could not be saved"]}})
                recorded.append({**update, "accepted": False})
            elif code_id not in self.codes:
                errors.append({"id": code_id, "errors": {"base": ["Record not found"]}})
                recorded.append({**update, "accepted": False})
            else:
                self.codes[code_id]["origin_id"] = update["origin_id"]
                self.codes[code_id]["origin_data"] = update.get("origin_data")
                entities.append(self.codes[code_id])
                recorded.append({**update, "accepted": True})
        self.sync_calls.append(recorded)
        return web.json_response({"entities": entities, "errors": errors})

    async def _list_hooks(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.hooks.values()))

    async def _create_hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        hook_id = len(self.hooks) + 1
        self.hooks[hook_id] = {"id": hook_id, **body["hook"]}
        self.triggers[hook_id] = []
        return web.json_response(self.hooks[hook_id], status=201)

    async def _update_hook(self, request: web.Request) -> web.Response:
        hook = self.hooks[int(request.match_info["id"])]
        hook.update((await request.json())["hook"])
        return web.json_response(hook)

    async def _list_triggers(self, request: web.Request) -> web.Response:
        return web.json_response(self.triggers[int(request.match_info["id"])])

    async def _create_trigger(self, request: web.Request) -> web.Response:
        body = await request.json()
        hook_id = int(request.match_info["id"])
        trigger = {"id": len(self.triggers[hook_id]) + 1, **body["trigger"]}
        self.triggers[hook_id].append(trigger)
        return web.json_response(trigger, status=201)


def settings_for(fake: FakeProcore, **overrides: object) -> dict[str, object]:
    """The PROCORE_* settings that point the app at `fake`."""
    values: dict[str, object] = {
        "procore_client_id": CLIENT_ID,
        "procore_client_secret": CLIENT_SECRET,
        "procore_company_id": COMPANY,
        "procore_api_url": fake.url,
        "procore_login_url": fake.url,
        "procore_webhook_token": "webhook-token-for-tests",
    }
    values.update(overrides)
    return values
