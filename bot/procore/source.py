"""The seam between the link and where cost codes come from: today Procore's REST API.

Reconcile, webhooks and write-back speak only `CostCodeSource`, so a source reached another way
(Procore's partner-only ERP programme, say) plugs in by implementing these four calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.procore.client import ProcoreClient, ProcoreError

SYNC_BATCH = 1000
"""Procore takes at most 1,000 updates per standard_cost_codes/sync call."""
ORIGIN_DATA = "QuickBooks Desktop Service item (Cost Code Export bot)"


@dataclass(frozen=True, slots=True)
class SourceCode:
    """One code of the source's list; `parent_id` set when it sits under a division."""

    id: int
    parent_id: int | None
    full_code: str
    name: str
    origin_id: str | None = None
    list_id: int | None = None


@dataclass(frozen=True, slots=True)
class WriteBackResult:
    """Ids written, and ids not written with the source's reason."""

    done: tuple[int, ...]
    failed: dict[int, str]


class CostCodeSource(Protocol):
    async def read_all(self) -> Sequence[SourceCode]: ...

    async def read_one(self, code_id: int) -> SourceCode | None:
        """None when the source no longer has it."""
        ...

    async def write_back(self, updates: Sequence[tuple[int, str]]) -> WriteBackResult:
        """(code id, QuickBooks ListID) pairs; at most SYNC_BATCH of them."""
        ...

    async def describe(self) -> str: ...


def _code(raw: Any) -> SourceCode:
    return SourceCode(
        id=int(raw["id"]),
        parent_id=int(raw["parent_id"]) if raw.get("parent_id") else None,
        full_code=str(raw.get("full_code") or raw.get("code") or ""),
        name=str(raw.get("name") or ""),
        origin_id=raw.get("origin_id"),
        list_id=raw.get("standard_cost_code_list_id"),
    )


class ProcoreSource:
    """Procore's company-level standard cost code list, over the REST API (DESIGN §8)."""

    def __init__(self, client: ProcoreClient, list_id: int | None) -> None:
        self.client = client
        self.list_id = list_id

    async def resolve_list(self) -> int:
        """The list to follow: the setting, else the only one, else the one marked ERP list."""
        if self.list_id is not None:
            return self.list_id
        company = self.client.company_id
        lists = await self.client.get("standard_cost_code_lists", {"company_id": company})
        chosen = [item for item in lists if len(lists) == 1 or item.get("is_erp_list")]
        if len(chosen) != 1:
            names = ", ".join(f"{item['id']} ({item.get('name', '')})" for item in lists)
            raise ProcoreError(
                "set PROCORE_COST_CODE_LIST_ID: the company has "
                f"{len(lists)} standard cost code lists and not exactly one ERP list"
                + (f"; choose from {names}" if names else "")
            )
        self.list_id = int(chosen[0]["id"])
        return self.list_id

    async def read_all(self) -> list[SourceCode]:
        list_id = await self.resolve_list()
        params = {
            "company_id": self.client.company_id,
            "standard_cost_code_list_id": list_id,
            "view": "extended",
        }
        return [_code(raw) for raw in await self.client.get_all("standard_cost_codes", params)]

    async def read_one(self, code_id: int) -> SourceCode | None:
        params = {"company_id": self.client.company_id, "view": "extended"}
        try:
            raw = await self.client.get(f"standard_cost_codes/{code_id}", params)
        except ProcoreError as exc:
            if exc.status == 404:
                return None
            raise
        return _code(raw)

    async def write_back(self, updates: Sequence[tuple[int, str]]) -> WriteBackResult:
        assert len(updates) <= SYNC_BATCH
        payload = {
            "company_id": self.client.company_id,
            "standard_cost_code_list_id": await self.resolve_list(),
            "updates": [
                {"id": code_id, "origin_id": origin_id, "origin_data": ORIGIN_DATA}
                for code_id, origin_id in updates
            ],
        }
        body = await self.client.patch("standard_cost_codes/sync", payload) or {}
        done = tuple(int(item["id"]) for item in body.get("entities") or [] if "id" in item)
        failed: dict[int, str] = {}
        for item in body.get("errors") or []:
            if isinstance(item, dict) and "id" in item:
                said = {k: v for k, v in item.items() if k != "id"}
                failed[int(item["id"])] = f"Procore did not write it: {said or 'no reason'}"
        return WriteBackResult(done=tuple(i for i in done if i not in failed), failed=failed)

    async def describe(self) -> str:
        return f"Procore company {self.client.company_id}, standard cost code list {self.list_id}"
