"""The App Home tab through the real app: published on app_home_opened, kept current, buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from blocks.home import FAILED_LABEL
from blocks.ids import CallbackId, HomeActionId
from bot.costcodes.domain import State, Surface
from bot.costcodes.statemachine import transition
from bot.home.service import MIN_INTERVAL, VIEWERS_FOR, HomeTabs
from bot.store import db
from bot.store.models import CostCode, PostedMessage
from tests.blocks.slack_limits import assert_view_within_limits
from tests.conftest import FakeClock
from tests.handlers.conftest import slack_parts
from tests.handlers.slack_driver import ADMIN, CHANNEL, OTHER, SlackDriver, texts


def home_tabs(slack: SlackDriver) -> HomeTabs:
    return slack_parts(slack).home


def counts_of(view: dict[str, Any]) -> dict[str, str]:
    """The Export Status fields of the Home tab, label → number as shown."""
    (block,) = [b for b in view["blocks"] if "fields" in b]
    pairs = (field["text"].split("\n") for field in block["fields"])
    return {label.strip("*"): number for label, number in pairs}


async def set_state(slack: SlackDriver, code: str, state: State, error: str | None = None) -> None:
    async with db.session_scope(slack.services.sessions) as session:
        row = (await session.exec(select(CostCode).where(CostCode.code == code))).one()
        await transition(session, code=row, target=state, actor="test", surface=Surface.CLI)
        if error is not None:
            row.last_error = error


async def test_opening_home_publishes_the_counts_within_limits(slack: SlackDriver) -> None:
    assert await slack.open_home(OTHER) == 200  # anyone may look
    view = slack.fake.homes[OTHER]
    assert_view_within_limits(view)
    counts = counts_of(view)
    assert counts["Ready to Export"] == "143"
    assert counts["Failed"] == counts["Success"] == counts["Rejected"] == "0"
    words = texts(view)
    assert "Oldest waiting:" in words and "in Ready to Export since" in words
    assert "No export has reached QuickBooks yet." in words
    assert "never called in" in words  # the Web Connector
    assert FAILED_LABEL not in words  # nothing failed: no button leading nowhere
    assert home_tabs(slack).viewers == [OTHER]


async def test_the_messages_tab_publishes_nothing(slack: SlackDriver) -> None:
    assert await slack.open_home(ADMIN, tab="messages") == 200
    assert slack.fake.homes == {} and home_tabs(slack).viewers == []


async def test_home_is_republished_when_the_counts_change(
    slack: SlackDriver, clock: FakeClock
) -> None:
    await slack.open_home(ADMIN)
    await slack.open_home(OTHER)
    publishes = len(slack.fake.of("views.publish"))
    tabs = home_tabs(slack)

    assert await tabs.refresh() == 0  # nothing changed: nothing sent
    await set_state(slack, "03-300", State.QUEUED)
    await set_state(slack, "03-300", State.EXPORTING)
    await set_state(slack, "03-300", State.FAILED, "the GL account was made inactive")
    assert await tabs.refresh() == 0  # within MIN_INTERVAL of the last publish: it waits
    clock.advance(seconds=MIN_INTERVAL.total_seconds())
    assert await tabs.refresh() == 2
    assert len(slack.fake.of("views.publish")) == publishes + 2
    for user in (ADMIN, OTHER):
        counts = counts_of(slack.fake.homes[user])
        assert (counts["Ready to Export"], counts["Failed"]) == ("142", "1")
        assert f"{FAILED_LABEL} (1)" in texts(slack.fake.homes[user])
    clock.advance(seconds=60)
    assert await tabs.refresh() == 0  # published once per change


async def test_a_change_in_slack_reaches_the_home_tab(slack: SlackDriver, clock: FakeClock) -> None:
    await slack.open_home(OTHER)
    await slack.command("review")
    await slack.click(slack.last_posted(), "reject-all")  # the admin rejects every Ready code
    clock.advance(seconds=10)
    assert await home_tabs(slack).refresh() == 1
    counts = counts_of(slack.fake.homes[OTHER])
    assert (counts["Ready to Export"], counts["Rejected"]) == ("0", "143")
    assert "nothing is waiting in Ready to Export" in texts(slack.fake.homes[OTHER])


async def test_viewers_are_forgotten_after_a_while(slack: SlackDriver, clock: FakeClock) -> None:
    await slack.open_home(OTHER)
    clock.advance(seconds=VIEWERS_FOR.total_seconds() + 1)
    await set_state(slack, "03-300", State.REJECTED)
    assert await home_tabs(slack).refresh() == 0
    assert home_tabs(slack).viewers == []
    assert counts_of(slack.fake.homes[OTHER])["Rejected"] == "0"  # left as it was


async def test_the_scheduler_keeps_home_tabs_current(slack: SlackDriver) -> None:
    from bot.server import SCHEDULER

    assert slack.client.server is not None
    job = slack.client.server.app[SCHEDULER].get_job("home-tabs")
    assert job is not None and job.trigger.interval == timedelta(seconds=5)


async def test_post_the_list_asks_for_a_channel_and_posts_there(slack: SlackDriver) -> None:
    await slack.open_home(OTHER)
    assert await slack.click_home(HomeActionId.CHOOSE_CHANNEL, user=OTHER) == 200
    (modal,) = slack.fake.modals
    assert_view_within_limits(modal)
    assert modal["callback_id"] == CallbackId.POST_LIST
    values = {
        CallbackId.POST_CHANNEL: {
            CallbackId.POST_CHANNEL: {
                "type": "conversations_select",
                "selected_conversation": CHANNEL,
            }
        },
        CallbackId.POST_FILTER: {
            CallbackId.POST_FILTER: {
                "type": "static_select",
                "selected_option": {
                    "value": "rejected",
                    "text": {"type": "plain_text", "text": "x"},
                },
            }
        },
    }
    assert await slack.submit(modal, values, user=OTHER) is None  # the modal closes
    posted = slack.last_posted(CHANNEL)
    assert "Rejected" in texts(posted)
    async with slack.services.sessions() as session:
        (row,) = (await session.exec(select(PostedMessage))).all()
    assert (row.channel, row.list_filter) == (CHANNEL, "rejected")


async def test_a_channel_the_bot_cannot_post_in_is_explained_by_direct_message(
    slack: SlackDriver,
) -> None:
    await slack.open_home(OTHER)
    await slack.click_home(HomeActionId.CHOOSE_CHANNEL, user=OTHER)
    slack.fake.refuse_posts_in.add("C0PRIVATE")
    values = {
        CallbackId.POST_CHANNEL: {CallbackId.POST_CHANNEL: {"selected_conversation": "C0PRIVATE"}},
        CallbackId.POST_FILTER: {CallbackId.POST_FILTER: {"selected_option": None}},
    }
    await slack.submit(slack.fake.modals[-1], values, user=OTHER)
    (note,) = slack.posted(f"D{OTHER[1:]}")
    assert "Invite me with /invite @costcodes" in texts(note)


async def test_open_failed_codes_sends_the_failed_list_privately(slack: SlackDriver) -> None:
    await set_state(slack, "03-300", State.QUEUED)
    await set_state(slack, "03-300", State.EXPORTING)
    await set_state(slack, "03-300", State.FAILED, "QuickBooks refused the name")
    await slack.open_home(OTHER)
    assert await slack.click_home(HomeActionId.OPEN_FAILED, user=OTHER) == 200
    (message,) = slack.posted(f"D{OTHER[1:]}")
    words = texts(message)
    assert "03-300" in words and "QuickBooks refused the name" in words
    assert slack.posted(CHANNEL) == []  # nobody else sees it


async def test_a_tab_slack_refuses_is_logged_and_forgotten(slack: SlackDriver) -> None:
    assert await slack.open_home("UGONE01") == 200  # e.g. a deactivated user
    assert slack.fake.of("views.publish")[-1].result == {"ok": False, "error": "user_not_found"}
    assert home_tabs(slack).viewers == []
