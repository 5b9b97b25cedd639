"""Shared page reads: used only by renderings whose mark was read before the read began."""

from __future__ import annotations

import asyncio

import pytest

from bot.costcodes.domain import ListFilter, ListPage
from bot.review import samepage
from bot.review.samepage import SamePage
from bot.slack.refresher import stamp


class Loads:
    """A page loader that counts its reads; `gate` holds every read until it is set."""

    def __init__(self) -> None:
        self.count = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: BaseException | None = None

    async def __call__(self) -> ListPage:
        self.count += 1
        number = self.count
        await self.gate.wait()
        if self.fail is not None:
            failure, self.fail = self.fail, None
            raise failure
        return ListPage(ListFilter.READY, (), number, 1, 0, 0, 0)


async def test_renderings_whose_marks_were_read_before_a_read_began_share_it() -> None:
    pages, loads = SamePage(), Loads()
    loads.gate.clear()
    marks_read = [stamp() for _ in range(3)]
    readers = [asyncio.create_task(pages.read("p0", at, loads)) for at in marks_read]
    await asyncio.sleep(0)
    loads.gate.set()
    shown = await asyncio.gather(*readers)
    assert loads.count == 1
    assert [page.page for page in shown] == [1, 1, 1]
    # Done reading, it still serves a mark read before it began.
    assert (await pages.read("p0", marks_read[0], loads)).page == 1 and loads.count == 1


async def test_a_mark_read_after_a_read_began_reads_the_page_again() -> None:
    pages, loads = SamePage(), Loads()
    loads.gate.clear()
    first = asyncio.create_task(pages.read("p0", stamp(), loads))
    await asyncio.sleep(0)  # that read has begun
    later = asyncio.create_task(pages.read("p0", stamp(), loads))  # a change marked meanwhile
    await asyncio.sleep(0)
    loads.gate.set()
    assert ((await first).page, (await later).page) == (1, 2)
    assert loads.count == 2


async def test_other_pages_are_read_on_their_own() -> None:
    pages, loads = SamePage(), Loads()
    at = stamp()
    await pages.read("p0", at, loads)
    await pages.read("p1", at, loads)
    assert loads.count == 2


@pytest.mark.parametrize("failure", [RuntimeError("database gone"), asyncio.CancelledError()])
async def test_a_failed_read_is_read_again_by_those_waiting_on_it(failure: BaseException) -> None:
    pages, loads = SamePage(), Loads()
    loads.gate.clear()
    loads.fail = failure
    at = stamp()
    first = asyncio.create_task(pages.read("p0", at, loads))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(pages.read("p0", at, loads))
    await asyncio.sleep(0)
    loads.gate.set()
    with pytest.raises(type(failure)):
        await first
    assert (await waiting).page == 2  # its own read, not the failed one
    assert loads.count == 2


async def test_only_the_latest_pages_are_kept() -> None:
    pages, loads = SamePage(), Loads()
    at = stamp()
    for n in range(samepage.KEPT + 5):
        await pages.read(n, at, loads)
    await pages.read(samepage.KEPT + 4, at, loads)  # kept
    assert loads.count == samepage.KEPT + 5
    await pages.read(0, at, loads)  # let go
    assert loads.count == samepage.KEPT + 6
