"""The digest's view of the link: filled in only while the link is on."""

from __future__ import annotations

from bot.core import Core
from bot.digests.queries import load_view
from bot.procore.link import ProcoreLink
from tests.fakes.procore_api import FakeProcore


async def test_the_digest_view_carries_the_link_only_when_it_is_on(
    services: Core, linked: Core, procore: FakeProcore
) -> None:
    link = ProcoreLink(linked)
    try:
        procore.add_code("01-100", "Supervision")
        await link.reconcile()
    finally:
        await link.close()
    async with linked.sessions() as session:
        on = await load_view(session, now=linked.clock(), settings=linked.settings)
        off = await load_view(session, now=services.clock(), settings=services.settings)
    assert on.procore is not None and on.procore.healthy
    assert on.procore.last_reconcile == "1 read, 1 new, 0 updated, 0 re-sent, " + (
        "0 taken out of Ready to Export, 0 changed after export, 0 held back"
    )
    assert off.procore is None
