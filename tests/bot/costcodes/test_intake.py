from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.core import Core
from bot.costcodes import counts as queries
from bot.costcodes import intake, statemachine
from bot.costcodes.domain import State, Surface
from bot.sandbox.example_data import COST_CODES
from bot.store import db
from bot.store.models import AuditEvent, CostCode
from tests.builders import cli as run_cli


async def _counts(services: Core) -> tuple[int, int]:
    async with services.sessions() as session:
        codes = (await session.exec(select(func.count()).select_from(CostCode))).one()
        events = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
    return codes, events


def _csv(tmp_path: Path, body: str, name: str = "codes.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


async def test_examples_import_as_ready_and_reimport_changes_nothing(services: Core) -> None:
    code, out, _ = await run_cli(services, "import", str(COST_CODES))
    assert code == 0, out
    assert "Imported 143 new cost codes" in out
    async with services.sessions() as session:
        counts = await queries.count_by_state(session)
    assert counts[State.READY] == 143
    before = await _counts(services)
    code, out, _ = await run_cli(services, "import", str(COST_CODES))
    assert code == 0 and "Imported 0 new" in out and "143 unchanged" in out
    assert await _counts(services) == before


async def test_bad_rows_are_reported_and_good_rows_kept(services: Core, tmp_path: Path) -> None:
    long_desc = "d" * 90  # "03-301 " + 90 = 97 characters
    path = _csv(
        tmp_path,
        "code,description,division\n"
        "03-300,Cast-in-place concrete,Concrete\n"
        f"03-301,{long_desc},Concrete\n"
        f"{'C' * 32},Too long a name,Concrete\n"
        "03:302,Has a colon,Concrete\n"
        ",Blank code,Concrete\n"
        "  03-303 ,  Rebar  ,\n"
        "03-300,Duplicate row,Concrete\n",
    )
    code, out, _ = await run_cli(services, "import", str(path))
    assert code == 1
    assert 'line 3 03-301: refused: "code description" is 97 characters' in out
    assert "line 4 " + "C" * 32 + ": refused: the code is 32 characters" in out
    assert 'line 5 03:302: refused: the code contains ":"' in out
    assert "line 6: refused: the code is blank" in out
    assert "line 8 03-300: refused: duplicate of line 2" in out
    async with services.sessions() as session:
        rows = (await session.exec(select(CostCode).order_by(CostCode.code))).all()
    assert [(r.code, r.description, r.division) for r in rows] == [
        ("03-300", "Cast-in-place concrete", "Concrete"),
        ("03-303", "Rebar", None),
    ]


async def test_json_list_imports(services: Core, tmp_path: Path) -> None:
    path = tmp_path / "codes.json"
    path.write_text(
        json.dumps(
            [
                {"code": "05-100", "description": "Steel erection", "division": "Metals"},
                {"code": "05-200", "description": ""},
                "not an object",
                {"code": "05-300", "description": "x", "colour": "red"},
            ]
        )
    )
    code, out, _ = await run_cli(services, "import", str(path))
    assert code == 1
    assert "entry 2 05-200: refused: the description is blank" in out
    assert "entry 3: refused: the entry is not an object" in out
    assert "entry 4 05-300: refused: unknown keys: colour" in out
    assert (await _counts(services))[0] == 1


async def test_rejected_code_is_resent_and_exported_code_left_alone(
    services: Core, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "code,description\n03-300,Concrete\n03-400,Masonry\n")
    assert (await run_cli(services, "import", str(path)))[0] == 0
    async with db.session_scope(services.sessions) as session:
        rows = {r.code: r for r in (await session.exec(select(CostCode))).all()}
        await statemachine.transition(
            session, code=rows["03-300"], target=State.REJECTED, actor="U1", surface=Surface.SLACK
        )
        rows["03-400"].state = State.SUCCESS.value
    path = _csv(tmp_path, "code,description\n03-300,Concrete\n03-400,Masonry units\n")
    code, out, _ = await run_cli(services, "import", str(path))
    assert code == 0
    assert "1 re-sent from Rejected" in out
    assert "line 3 03-400: left alone: already exported to QuickBooks" in out
    async with services.sessions() as session:
        rows = {r.code: r for r in (await session.exec(select(CostCode))).all()}
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert rows["03-300"].state == "ready"
    assert rows["03-400"].description == "Masonry"
    assert sorted(actions) == ["import", "import", "reject", "resend"]


async def test_changed_description_updates_a_ready_code(services: Core, tmp_path: Path) -> None:
    await run_cli(services, "import", str(_csv(tmp_path, "code,description\n03-300,Concrete\n")))
    code, out, _ = await run_cli(
        services, "import", str(_csv(tmp_path, "code,description\n03-300,Poured concrete\n"))
    )
    assert code == 0 and "1 updated" in out
    async with services.sessions() as session:
        (row,) = (await session.exec(select(CostCode))).all()
    assert (row.description, row.version) == ("Poured concrete", 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"code,description\n03-300,\xff\xfe broken\n", "not valid UTF-8 (byte 25)"),
        (b"id,name\n1,x\n", "header row must be code,description[,division]"),
        (b"code,description,cost_type\n1,x,Labor\n", "header row must be"),
        (b"", "empty"),
        (b'{"code": "1"}', "JSON must be a list"),
        (b"[{", "JSON cannot be read"),
        (b"code,description\n03-300," + b"x" * (10 * 1024 * 1024) + b"\n", "cannot be read"),
    ],
)
async def test_unusable_files_exit_2_and_write_nothing(
    services: Core, tmp_path: Path, content: bytes, message: str
) -> None:
    await run_cli(
        services, "import", str(_csv(tmp_path, "code,description\n01-100,Keep me\n", "a.csv"))
    )
    before = await _counts(services)
    path = tmp_path / "hostile.csv"
    path.write_bytes(content)
    code, out, err = await run_cli(services, "import", str(path))
    assert code == 2
    assert message in err and err.startswith("Nothing was imported:")
    assert out == ""
    assert await _counts(services) == before


async def test_huge_json_field_is_unusable(services: Core, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"code": "1", "description": "x" * (10 * 1024 * 1024)}]))
    code, _, err = await run_cli(services, "import", str(path))
    assert code == 2 and "longer than 131,072 characters" in err
    assert await _counts(services) == (0, 0)


async def test_missing_file_exits_2(services: Core, tmp_path: Path) -> None:
    code, _, err = await run_cli(services, "import", str(tmp_path / "nope.csv"))
    assert code == 2 and "does not exist" in err


async def test_bom_is_accepted(services: Core, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffcode,description\n09-100,Drywall hanging — Bâtiment\n".encode())
    assert (await run_cli(services, "import", str(path)))[0] == 0
    async with services.sessions() as session:
        (row,) = (await session.exec(select(CostCode))).all()
    assert row.description == "Drywall hanging - Bâtiment"  # the em dash as QuickBooks stores it


async def test_two_imports_of_the_same_codes_at_once_both_succeed(services: Core) -> None:
    raw = b"code,description\n" + b"".join(f"60-{n:04d},Code {n}\n".encode() for n in range(3000))
    rows, problems = intake.read_data(raw, "same.csv")

    async def one(actor: str) -> intake.ImportReport:
        return await intake.import_in_transaction(
            services.sessions, rows, problems, actor=actor, surface=Surface.CLI, name="same.csv"
        )

    first, second = await asyncio.gather(one("cli:a"), one("cli:b"))
    assert sorted([len(first.added), len(second.added)]) == [0, 3000]
    assert sorted([first.unchanged, second.unchanged]) == [0, 3000]
    assert await _counts(services) == (3000, 3000)
