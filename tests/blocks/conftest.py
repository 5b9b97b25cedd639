"""Snapshot fixture for Block Kit builders: compare with, or (UPDATE_SNAPSHOTS=1) rewrite, JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SNAPSHOTS = Path(__file__).parents[1] / "snapshots" / "blocks"


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture
def snapshot() -> Callable[[str, Any], None]:
    def check(name: str, data: Any) -> None:
        path = SNAPSHOTS / f"{name}.json"
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_dump(data), encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it")
        # Round-trip through JSON so tuples, StrEnums and the like compare as Slack receives them.
        assert json.loads(_dump(data)) == json.loads(path.read_text(encoding="utf-8"))

    return check
