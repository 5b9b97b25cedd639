"""How the Procore link is doing, as status, /healthz and the digest show it (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ProcoreHealth:
    list_id: int | None
    last_reconcile_at: datetime | None
    last_reconcile: str | None
    last_delivery_at: datetime | None
    writebacks_waiting: int
    last_error: str | None
    last_error_at: datetime | None
    held_back: int = 0
    """Procore codes that break an intake rule and are not in the list."""

    @property
    def healthy(self) -> bool:
        """No error since the last call that worked (a reconcile, a delivery, a write-back)."""
        return self.last_error is None and self.last_reconcile_at is not None

    @property
    def words(self) -> str:
        if self.last_error is not None:
            return f"Procore link has a problem: {self.last_error}"
        if self.last_reconcile_at is None:
            return "Procore link is on but has not read the cost code list yet"
        return "Procore link is healthy"
