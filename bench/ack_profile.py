"""Where a Slack request's time goes inside the ack benchmark's server (`slack_ack.py --profile`).

Acks are slow when the event loop is busy with something else, or when a request waits for the
database; from outside, both look the same. Installed in the server process only, this records:
the loop's lag (a 5 ms timer's lateness), the CPU time of every loop callback by the request it
belongs to and whether its ack had gone out yet, SQL statements per request kind before and after
the ack, the wait for SQLite's writer queue, and garbage collections; and a timeline (every
request and callback with its start) to look at one burst. A pick's callbacks before its ack are
labelled by stage (`_stages`). The server writes it all as JSON when it is terminated;
`summary()` turns it into lines for the benchmark's report.
"""

from __future__ import annotations

import asyncio
import contextvars
import cProfile
import gc
import json
import os
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.store.writegate import WriteGate


class Phase:
    """One request's label and whether its response (the ack) was written."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.acked = False
        self.stage = "door"

    def key(self) -> str:
        if self.acked:
            return f"{self.kind} after ack"
        return f"{self.kind} before ack [{self.stage}]"


REQUEST: contextvars.ContextVar[Phase | None] = contextvars.ContextVar("request", default=None)
Stats = defaultdict[str, list[float]]


def _key() -> str:
    phase = REQUEST.get()
    return phase.key() if phase is not None else "background"


def _add(stats: Stats, key: str, value: float) -> None:
    entry = stats.setdefault(key, [0, 0.0, 0.0])  # count, total ms, max ms
    entry[0] += 1
    entry[1] += value
    entry[2] = max(entry[2], value)


def kind_of(raw: bytes) -> str:
    form = parse_qs(raw.decode(errors="replace"))
    if "command" in form:
        return "command"
    payload = json.loads(form.get("payload", ["{}"])[0])
    if payload.get("type") == "block_suggestion":
        return "options"
    actions = payload.get("actions") or [{}]
    return str(actions[0].get("action_id", "other"))


class Profile:
    def __init__(self) -> None:
        self.callbacks: Stats = defaultdict(list)
        self.statements: Stats = defaultdict(list)
        self.gate_wait: Stats = defaultdict(list)
        self.gate_hold: Stats = defaultdict(list)
        self.gc: Stats = defaultdict(list)
        self.requests: Stats = defaultdict(list)
        self.lag: list[float] = []
        self._gc_started = 0.0
        self.timeline: list[tuple[float, float, str]] = []
        """(start s, ms, what): every request and every callback (perf_counter)."""

    def install(self, app: web.Application, out: Path) -> None:
        _stages()
        app.middlewares.append(self._label)
        self._time_callbacks()
        self._count_statements()
        self._time_gate()
        gc.callbacks.append(self._on_gc)
        app.on_startup.append(self._start_sampler)
        self._cpu = cProfile.Profile() if os.environ.get("ACK_CPROFILE") else None
        if self._cpu is not None:  # CPU hot spots too (it slows the server down about twice)
            self._cpu.enable()
        loop = asyncio.get_event_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: self._dump(out))

    @web.middleware
    async def _label(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        phase = Phase(kind_of(await request.read()))
        token = REQUEST.set(phase)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            phase.acked = True
            spent = (time.perf_counter() - started) * 1000
            _add(self.requests, phase.kind, spent)
            self.timeline.append((started, spent, f"request {phase.kind}"))
            REQUEST.reset(token)

    def _time_callbacks(self) -> None:
        run = asyncio.events.Handle._run
        stats, timeline = self.callbacks, self.timeline

        def timed(handle: asyncio.events.Handle) -> None:
            started = time.perf_counter()
            run(handle)
            spent = (time.perf_counter() - started) * 1000
            context = handle._context  # type: ignore[attr-defined]
            phase = context.get(REQUEST)
            key = phase.key() if phase is not None else "background"
            _add(stats, key, spent)
            timeline.append((started, spent, key))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]

    def _count_statements(self) -> None:
        """Statements by request and verb, with the time from sending one to resuming after it."""
        stats = self.statements

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            conn.info["ack_profile"] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            verb = " ".join(statement.split()[:3]).upper()
            spent = time.perf_counter() - conn.info.pop("ack_profile", time.perf_counter())
            _add(stats, f"{_key()}: {verb}", spent * 1000)

        event.listen(Engine, "before_cursor_execute", before)
        event.listen(Engine, "after_cursor_execute", after)

    def _time_gate(self) -> None:
        acquire, release = WriteGate._acquire, WriteGate._release
        waits, holds = self.gate_wait, self.gate_hold
        held: list[tuple[str, float]] = []

        async def timed(gate: WriteGate, queue: Any) -> None:
            started = time.perf_counter()
            await acquire(gate, queue)
            now = time.perf_counter()
            _add(waits, _key(), (now - started) * 1000)
            held.append((_key(), now))

        def released(gate: WriteGate) -> None:
            if held:
                key, since = held.pop()
                _add(holds, key, (time.perf_counter() - since) * 1000)
            release(gate)

        WriteGate._acquire = timed  # type: ignore[method-assign]
        WriteGate._release = released  # type: ignore[method-assign]

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            spent = (time.perf_counter() - self._gc_started) * 1000
            _add(self.gc, f"gen {info['generation']}", spent)
            self.timeline.append((self._gc_started, spent, f"gc gen {info['generation']}"))

    async def _start_sampler(self, _: web.Application) -> None:
        async def sample() -> None:
            loop = asyncio.get_running_loop()
            while True:
                due = loop.time() + 0.005
                await asyncio.sleep(0.005)
                self.lag.append((loop.time() - due) * 1000)

        self._sampler = asyncio.create_task(sample())

    def _dump(self, out: Path) -> None:
        lag = sorted(self.lag) or [0.0]
        data = {
            "lag": {"p50": lag[len(lag) // 2], "p99": lag[int(len(lag) * 0.99)], "max": lag[-1]},
            "requests": self.requests,
            "callbacks": self.callbacks,
            "statements": self.statements,
            "gate_wait": self.gate_wait,
            "gate_hold": self.gate_hold,
            "gc": self.gc,
            "heap": {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count()},
            "timeline": self.timeline,
        }
        out.write_text(json.dumps(data))
        if self._cpu is not None:
            self._cpu.disable()
            self._cpu.dump_stats(out.with_suffix(".pstats"))
        raise SystemExit(0)


def _stages() -> None:
    """Label a request's callbacks before its ack by where it is: `door` (the route and Bolt, up
    to the listener), `listener`, `pick` (Review.pick), `reads` (a pick saved alone reads first),
    `saver` (waiting for, or running, the transaction of the picks saved together), and
    `after X` once X has returned."""
    from bot.review import picksave, service
    from bot.slack import acks

    def staged(name: str, fn: Any) -> Any:
        async def run(*args: Any, **kwargs: Any) -> Any:
            phase = REQUEST.get()
            before = phase.stage if phase is not None else None
            if phase is not None:
                phase.stage = name
            try:
                return await fn(*args, **kwargs)
            finally:
                if phase is not None and before is not None:
                    phase.stage = f"after {name}"

        return run

    current = acks.current

    def listener() -> acks.Waiting:  # handlers.errors.guarded: the listener starts
        phase = REQUEST.get()
        if phase is not None:
            phase.stage = "listener"
        return current()

    acks.current = listener
    service._pick_reads = staged("reads", service._pick_reads)
    picksave.PickSaver.save = staged("saver", picksave.PickSaver.save)
    service.Review.pick = staged("pick", service.Review.pick)


def summary(path: Path) -> list[str]:
    """The profile's lines for the report: per kind, count / total ms / max ms."""
    data = json.loads(path.read_text())
    lag = data["lag"]
    lines = [f"loop lag, ms: p50 {lag['p50']:.1f}, p99 {lag['p99']:.1f}, max {lag['max']:.1f}"]
    for title in ("requests", "callbacks", "gate_wait", "gate_hold", "gc", "statements"):
        lines.append(f"{title}: count / total ms / max ms")
        for key, (count, total, most) in sorted(data[title].items()):
            lines.append(f"  {key}: {count} / {total:.0f} / {most:.1f}")
    return lines
