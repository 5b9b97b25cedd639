"""The Web Connector's per-round-trip reads are answered from indexes, so a round trip costs the
same at 10,000 queued codes as at 100 (bench/qbwc_export.py measures it)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from bot.core import Core
from bot.costcodes import statemachine
from bot.store import db
from bot.webconnector import states
from tests.bot.webconnector.qbwc_env import Env, qbwc_env


async def _plans(services: Core, statements: list[tuple[str, Any]]) -> list[str]:
    plans = []
    async with services.engine.connect() as conn:
        for sql, params in statements:
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)).all()
            plans.append(" | ".join(str(row[-1]) for row in rows))
    return plans


async def _update_sending(services: Core, env: Env) -> list[tuple[str, Any]]:
    """Run the Web Connector's update to its end; every statement it sent, with its params."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        seen.append((sql, params))

    event.listen(services.engine.sync_engine, "before_cursor_execute", record)
    try:
        report = await env.connector.run_update()
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", record)
    assert report.percents[-1] == 100
    return seen


async def test_the_claim_and_the_batch_counts_read_the_queue_indexes(services: Core) -> None:
    if not db.is_sqlite(services.engine):
        pytest.skip("PostgreSQL plans tiny tables as scans whatever the indexes; SQLite's plan")
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"03-{n:03d}", f"Item {n}") for n in range(150)])
        await env.assign("03-*", "Construction Income")
        await env.export()
        seen = await _update_sending(services, env)
    seen = [s for s in seen if "FROM cost_code" in s[0]]
    seen = [s for s in seen if "needs_lookup" in s[0] or "export_batch_id =" in s[0]]
    claims = [s for s in seen if s[0].lstrip().startswith("WITH picked")]
    # The recount (counts in its SET) and the end (a NOT EXISTS of codes left) of a batch.
    recounts = [s for s in seen if "SET succeeded=" in s[0]]
    ends = [s for s in seen if "NOT (EXISTS" in s[0]]
    assert claims and recounts and ends
    for plan in await _plans(services, claims[:2]):
        assert "ix_cost_code_queue" in plan, plan
        assert "SCAN cost_code" not in plan, plan
    for plan in await _plans(services, [recounts[0], ends[0]]):
        assert "ix_cost_code_batch_state" in plan, plan
        assert "SCAN cost_code" not in plan, plan


async def test_the_claim_writes_its_codes_found_by_id_when_statistics_are_old(
    services: Core,
) -> None:
    """PostgreSQL planned the claim's UPDATE from statistics taken before the codes were queued
    (an export started a moment after they arrived): with the state in its WHERE it scanned every
    queued code once per code picked, 12 ms a round trip at 1,000 queued instead of 2."""
    if db.is_sqlite(services.engine):
        pytest.skip("SQLite's plan is held by the test above; this is PostgreSQL's planner")
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"03-{n:03d}", f"Item {n}") for n in range(300)])
        await env.assign("03-*", "Construction Income")
        async with services.engine.connect() as conn:  # statistics of a queue with no code in it
            await conn.exec_driver_sql("ANALYZE cost_code")
        await env.export()
        seen = await _update_sending(services, env)
    sql, params = next(s for s in seen if s[0].lstrip().startswith("WITH picked"))
    async with services.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(f"EXPLAIN {sql}", params)).all()
    plan = "\n".join(str(row[0]) for row in rows)
    assert "Join Filter" not in plan, plan
    assert "Index Scan using cost_code_pkey on cost_code" in plan, plan


async def test_a_round_trips_statements_are_built_once(services: Core) -> None:
    """The claim, the batch moves and the answer's compare-and-set are built on first use and
    reused (fed bound parameters): a second export builds none of them again."""
    sqlite = db.is_sqlite(services.engine)
    each = statemachine._each_moved if sqlite else statemachine._each_moved_arrays
    builders = (statemachine._selected_moved, each, states._batches_moved)
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        for batch in range(2):
            await env.add_codes([(f"0{batch}-{n:03d}", f"Item {n}") for n in range(150)])
            await env.assign("*", "Construction Income")
            await env.export()
            built = [builder.cache_info().misses for builder in builders]
            report = await env.connector.run_update()
            assert report.percents[-1] == 100
            again = [builder.cache_info().misses for builder in builders]
            if batch:
                assert again == built, "a statement was built again"
    assert all(builder.cache_info().currsize <= 8 for builder in builders)
    assert all(builder.cache_info().hits for builder in builders)
