"""ERP permission: ERP_ADMINS users and user groups, or else workspace admins and owners."""

from __future__ import annotations

from sqlmodel import select

from bot.costcodes.domain import State
from bot.store import db
from bot.store.models import AuditEvent, CostCode
from tests.handlers.conftest import MakeDriver
from tests.handlers.slack_driver import ADMIN, CHANNEL, OTHER, SlackDriver, row_block_id, texts


async def changes(slack: SlackDriver) -> list[AuditEvent]:
    async with db.session_scope(slack.services.sessions) as session:
        return list(
            (await session.exec(select(AuditEvent).where(AuditEvent.surface == "slack"))).all()
        )


async def pick_first_income(slack: SlackDriver, user: str) -> None:
    message = slack.last_posted()
    block_id = row_block_id(message, "01-100")
    await slack.click(message, "pick-income", user=user, block_id=block_id, option="1")


async def test_someone_without_permission_is_refused_and_nothing_changes(
    slack: SlackDriver,
) -> None:
    assert await slack.command(user=OTHER) == 200  # anyone may look
    message = slack.last_posted()
    await pick_first_income(slack, OTHER)
    await slack.click(message, "reject-all", user=OTHER)
    await slack.click(message, "page-next", user=OTHER)  # and page

    assert await changes(slack) == []
    refusals = slack.ephemerals(OTHER)
    assert len(refusals) == 2
    for refusal in refusals:
        assert refusal["channel"] == CHANNEL
        assert refusal["text"].startswith(f":no_entry: Only <@{ADMIN}> can pick GL accounts")
    async with db.session_scope(slack.services.sessions) as session:
        states = {c.state for c in (await session.exec(select(CostCode))).all()}
    assert states == {State.READY.value}
    assert "Page 2 of 15" in texts(message)


async def test_members_of_an_erp_admins_user_group_may_act(make_driver: MakeDriver) -> None:
    slack = await make_driver(erp_admins="S0GROUP1,U0LONE1")
    slack.fake.groups["S0GROUP1"] = [OTHER]
    await slack.command(user=OTHER)
    await pick_first_income(slack, OTHER)
    assert [event.actor for event in await changes(slack)] == [OTHER]
    assert not slack.ephemerals()

    await pick_first_income(slack, ADMIN)  # ADMIN is in neither list here
    (refusal,) = slack.ephemerals(ADMIN)
    assert "Only <@U0LONE1> or members of <!subteam^S0GROUP1> can" in refusal["text"]
    assert len(slack.fake.of("usergroups.users.list")) == 1  # cached between the two clicks


async def test_without_erp_admins_workspace_admins_and_owners_may_act(
    make_driver: MakeDriver,
) -> None:
    slack = await make_driver(erp_admins="")
    slack.fake.add_user("UOWNER1", owner=True)
    slack.fake.add_user("UADMINW", admin=True)
    await slack.command()
    await pick_first_income(slack, "UOWNER1")
    await slack.click(
        slack.last_posted(),
        "pick-expense",
        user="UADMINW",
        block_id=row_block_id(slack.last_posted(), "01-200"),
        option="30",
    )
    await pick_first_income(slack, OTHER)
    assert sorted(event.actor for event in await changes(slack)) == ["UADMINW", "UOWNER1"]
    (refusal,) = slack.ephemerals(OTHER)
    assert "Only workspace admins and owners can pick GL accounts" in refusal["text"]
    asked = [call.args["user"] for call in slack.fake.of("users.info")]
    assert sorted(asked) == sorted([OTHER, "UADMINW", "UOWNER1"])
