"""Reconcile: Procore's whole list through the import's rules; idempotent; deletions; exports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.core import Core
from bot.costcodes import statemachine
from bot.costcodes.domain import State, Surface
from bot.procore.client import ProcoreError
from bot.procore.link import ProcoreLink
from bot.store import db
from bot.store.models import AuditEvent, CostCode
from tests.builders import codes
from tests.fakes.procore_api import FakeProcore


@pytest.fixture
async def link(linked: Core) -> AsyncIterator[ProcoreLink]:
    built = ProcoreLink(linked)
    yield built
    await built.close()


def wbs(procore: FakeProcore) -> dict[str, int]:
    """Two divisions with codes under them, as Procore's Work Breakdown Structure holds them."""
    concrete = procore.add_code("03", "Concrete")
    sitework = procore.add_code("02", "Existing Conditions")
    return {
        "03": concrete,
        "02": sitework,
        "03-300": procore.add_code("03-300", "Cast-in-place concrete", concrete),
        "03-400": procore.add_code("03-400", "Precast concrete", concrete),
        "02-100": procore.add_code("02-100", "Site demolition", sitework),
    }


async def audit_count(services: Core) -> int:
    async with services.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(AuditEvent))).one())


async def audits(services: Core, code: str) -> list[AuditEvent]:
    async with services.sessions() as session:
        statement = select(AuditEvent).where(AuditEvent.code == code).order_by(col(AuditEvent.id))
        return list((await session.exec(statement)).all())


async def succeed(services: Core, code: str, list_id: str) -> None:
    """Take a code through the state machine to Success, as an export would."""
    async with db.session_scope(services.sessions) as session:
        row = (await session.exec(select(CostCode).where(CostCode.code == code))).one()
        for target in (State.QUEUED, State.EXPORTING):
            await statemachine.transition(
                session, code=row, target=target, actor="t", surface=Surface.CLI
            )
        await statemachine.transition(
            session,
            code=row,
            target=State.SUCCESS,
            actor="t",
            surface=Surface.WEB_CONNECTOR,
            changes={"qb_list_id": list_id},
        )


async def test_codes_arrive_and_divisions_name_them(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    report = await link.reconcile()
    found = await codes(linked)
    assert sorted(found) == ["02-100", "03-300", "03-400"]  # divisions are never codes
    assert sorted(report.added) == ["02-100", "03-300", "03-400"]
    concrete = found["03-300"]
    assert (concrete.description, concrete.division, concrete.state) == (
        "Cast-in-place concrete",
        "Concrete",
        State.READY.value,
    )
    assert (concrete.source, concrete.procore_id) == ("procore", ids["03-300"])
    first = (await audits(linked, "03-300"))[0]
    assert (first.action, first.actor, first.surface, first.detail) == (
        "import",
        "procore",
        "procore",
        "procore",
    )


async def test_a_second_run_changes_nothing(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    wbs(procore)
    await link.reconcile()
    before = await audit_count(linked)
    versions = {code: row.version for code, row in (await codes(linked)).items()}
    report = await link.reconcile()
    assert not report.changed
    assert report.unchanged == 5
    assert await audit_count(linked) == before
    assert {code: row.version for code, row in (await codes(linked)).items()} == versions


async def test_a_code_that_breaks_a_rule_is_held_back_with_its_reason(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    parent = procore.add_code("09", "Finishes")
    procore.add_code("09:100", "Painting", parent)
    procore.add_code("09-200", "", parent)
    procore.add_code("09-300", "Drywall", parent)
    report = await link.reconcile()
    assert sorted(await codes(linked)) == ["09-300"]
    reasons = dict(report.refused)
    assert "QuickBooks reserves" in reasons["09:100"]
    assert "description is blank" in reasons["09-200"]
    health = await link.health()
    assert health.held_back == 2
    before = await audit_count(linked)
    again = await link.reconcile()
    assert sorted(code for code, _ in again.refused) == ["09-200", "09:100"]  # listed each time
    assert not again.changed and await audit_count(linked) == before
    assert (await link.health()).held_back == 2
    procore.codes[next(i for i, c in procore.codes.items() if c["full_code"] == "09-200")][
        "name"
    ] = "Plaster"
    fixed = await link.reconcile()
    assert fixed.added == ["09-200"] and (await link.health()).held_back == 1


async def test_changes_in_procore_update_ready_codes(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    procore.codes[ids["03-300"]]["name"] = "Cast-in-place concrete, walls"
    procore.codes[ids["03"]]["name"] = "Concrete work"
    report = await link.reconcile()
    found = await codes(linked)
    assert found["03-300"].description == "Cast-in-place concrete, walls"
    assert {found["03-300"].division, found["03-400"].division} == {"Concrete work"}
    assert sorted(report.updated) == ["03-300", "03-400"]
    assert found["02-100"].version == 1


async def test_deleted_in_procore_leaves_ready_to_export(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    await succeed(linked, "03-400", "80000001-1700000000")
    del procore.codes[ids["03-300"]]
    del procore.codes[ids["03-400"]]
    report = await link.reconcile()
    found = await codes(linked)
    assert found["03-300"].state == State.REJECTED.value  # kept for the record
    assert found["03-400"].state == State.SUCCESS.value  # exported: left alone
    assert report.removed == ["03-300"]
    assert report.after_export == ["03-400"]
    assert (await audits(linked, "03-300"))[-1].detail == "deleted in Procore"
    assert "deleted in Procore after export" in str((await audits(linked, "03-400"))[-1].detail)
    before = await audit_count(linked)
    assert not (await link.reconcile()).changed
    assert await audit_count(linked) == before


async def test_a_change_after_export_is_recorded_and_quickbooks_untouched(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    await succeed(linked, "02-100", "80000002-1700000000")
    procore.codes[ids["02-100"]]["name"] = "Selective demolition"
    report = await link.reconcile()
    assert report.after_export == ["02-100"]
    code = (await codes(linked))["02-100"]
    assert (code.description, code.state) == ("Site demolition", State.SUCCESS.value)
    last = (await audits(linked, "02-100"))[-1]
    assert last.detail == "changed in Procore after export; QuickBooks untouched"
    assert "Selective demolition" in str(last.after)
    before = await audit_count(linked)
    await link.reconcile()
    assert await audit_count(linked) == before


async def test_a_code_rejected_in_slack_stays_rejected(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    async with db.session_scope(linked.sessions) as session:
        row = (await session.exec(select(CostCode).where(CostCode.code == "03-300"))).one()
        await statemachine.transition(
            session, code=row, target=State.REJECTED, actor="U1", surface=Surface.SLACK
        )
    await link.reconcile()
    assert (await codes(linked))["03-300"].state == State.REJECTED.value
    procore.codes[ids["03-300"]]["name"] = "Cast-in-place concrete (revised)"
    report = await link.reconcile()  # changed in Procore: re-sent, as an import would
    assert report.resent == ["03-300"]
    assert (await codes(linked))["03-300"].state == State.READY.value


async def test_an_imported_code_is_linked_to_its_procore_twin(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    from bot.costcodes import intake

    async with db.session_scope(linked.sessions) as session:
        await intake.apply_rows(
            session,
            [intake.Row(2, "03-300", "Cast-in-place concrete", "Concrete")],
            actor="cli:t",
            surface=Surface.CLI,
            source="import:codes.csv",
        )
    ids = wbs(procore)
    await link.reconcile()
    code = (await codes(linked))["03-300"]
    assert (code.procore_id, code.source) == (ids["03-300"], "procore")


async def test_the_list_must_be_chosen_when_procore_has_several(
    link: ProcoreLink, procore: FakeProcore
) -> None:
    procore.lists = [{"id": 11, "name": "Old"}, {"id": 12, "name": "New"}]
    with pytest.raises(ProcoreError) as caught:
        await link.reconcile()
    assert "PROCORE_COST_CODE_LIST_ID" in caught.value.message
    assert "11 (Old)" in caught.value.message and "12 (New)" in caught.value.message
    health = await link.health()
    assert not health.healthy
    assert "PROCORE_COST_CODE_LIST_ID" in str(health.last_error)


async def test_a_code_deleted_and_made_again_in_procore_is_followed_anew(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    del procore.codes[ids["03-300"]]
    again = procore.add_code("03-300", "Cast-in-place concrete", ids["03"])
    report = await link.reconcile()
    code = (await codes(linked))["03-300"]
    assert (code.procore_id, code.state) == (again, State.READY.value)
    assert report.removed == ["03-300"] and report.resent == ["03-300"]
    assert report.refused == []


async def test_a_code_renamed_in_procore_keeps_its_row(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    procore.codes[ids["03-400"]]["full_code"] = "03-410"
    procore.codes[ids["02-100"]]["full_code"] = "03-300"  # taken by another code
    report = await link.reconcile()
    found = await codes(linked)
    assert "03-400" not in found and found["03-410"].procore_id == ids["03-400"]
    assert found["02-100"].procore_id == ids["02-100"]  # held back, unchanged
    assert dict(report.refused)["03-300"] == "another cost code already has the code 03-300"


async def test_an_imported_code_rejected_in_slack_stays_rejected_when_linked(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    from bot.costcodes import intake

    async with db.session_scope(linked.sessions) as session:
        await intake.apply_rows(
            session,
            [intake.Row(2, "02-100", "Site demolition", "Existing Conditions")],
            actor="cli:t",
            surface=Surface.CLI,
            source="import:codes.csv",
        )
        row = (await session.exec(select(CostCode))).one()
        await statemachine.transition(
            session, code=row, target=State.REJECTED, actor="U1", surface=Surface.SLACK
        )
    ids = wbs(procore)
    await link.reconcile()
    code = (await codes(linked))["02-100"]
    assert (code.state, code.procore_id) == (State.REJECTED.value, ids["02-100"])


async def test_a_failed_code_deleted_in_procore_leaves_the_failed_list(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    ids = wbs(procore)
    await link.reconcile()
    async with db.session_scope(linked.sessions) as session:
        row = (await session.exec(select(CostCode).where(CostCode.code == "03-300"))).one()
        for target in (State.QUEUED, State.EXPORTING, State.FAILED):
            row = await statemachine.transition(
                session, code=row, target=target, actor="t", surface=Surface.CLI
            )
    del procore.codes[ids["03-300"]]
    await link.reconcile()
    assert (await codes(linked))["03-300"].state == State.REJECTED.value


async def test_procore_text_is_made_storable_or_held_back_naming_the_character(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    parent = procore.add_code("05", "Metals")
    procore.add_code("05-100", "Structural steel \u2014 \u201cframing\u201d", parent)
    procore.add_code("05-200", "Stahlbau \u6c34\u6ce5", parent)
    report = await link.reconcile()
    stored = await codes(linked)
    assert sorted(stored) == ["05-100"]
    assert stored["05-100"].description == 'Structural steel - "framing"'
    reason = dict(report.refused)["05-200"]
    assert "\u6c34" in reason or "U+6C34" in reason.upper()
