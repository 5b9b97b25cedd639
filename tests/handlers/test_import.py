"""/costcodes import through the real app: the modal, the file from Slack, the CLI's report."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from blocks.ids import CallbackId
from bot.sandbox.example_data import COST_CODES
from bot.store.models import AuditEvent, CostCode
from handlers.inputs import HelpCommand, ImportCommand, parse_command
from tests.blocks.slack_limits import assert_view_within_limits, assert_within_limits
from tests.handlers.slack_driver import ADMIN, CHANNEL, OTHER, SlackDriver, texts

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"


def file_values(*files: dict[str, Any]) -> dict[str, Any]:
    return {
        CallbackId.IMPORT_FILE: {
            CallbackId.IMPORT_FILE: {"type": "file_input", "files": list(files)}
        }
    }


async def rows(slack: SlackDriver) -> tuple[int, int]:
    """(cost codes, audit events): what an import that changes nothing leaves as it was."""
    async with slack.services.sessions() as session:
        codes = (await session.exec(select(func.count()).select_from(CostCode))).one()
        events = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
    return int(codes), int(events)


async def open_modal(slack: SlackDriver, user: str = ADMIN) -> dict[str, Any]:
    assert await slack.command("import", user=user) == 200
    modal = slack.fake.modals[-1]
    assert_view_within_limits(modal)
    return modal


async def import_file(
    slack: SlackDriver, name: str, content: bytes, filetype: str | None = None
) -> dict[str, Any] | None:
    modal = await open_modal(slack)
    return await slack.submit(modal, file_values(slack.fake.add_file(name, content, filetype)))


def report(slack: SlackDriver) -> dict[str, Any]:
    (reply,) = slack.ephemerals(ADMIN)
    assert reply["channel"] == CHANNEL
    assert_within_limits(reply)
    return reply


async def test_the_modal_has_one_csv_or_json_file_field(slack: SlackDriver) -> None:
    modal = await open_modal(slack)
    (field,) = [b for b in modal["blocks"] if b["type"] == "input"]
    assert field["element"] == {
        "type": "file_input",
        "action_id": CallbackId.IMPORT_FILE,
        "filetypes": ["csv", "json"],
        "max_files": 1,
    }
    assert json.loads(modal["private_metadata"]) == {"channel": CHANNEL}
    assert slack.fake.of("views.open")[0].args["trigger_id"] == "1.2.3"


async def test_a_csv_is_imported_and_the_person_gets_the_clis_report(slack: SlackDriver) -> None:
    content = (
        b"code,description,division\n"
        b"03-300,Rebar supply and tie,Concrete\n"  # already there: unchanged
        b"41-100,Site clearing,41\n"
        b"41-200,,41\n"  # no description
        b"41:300,Earth moving,41\n"
    )
    assert await import_file(slack, "new codes.csv", content) is None
    reply = report(slack)
    assert reply["text"] == (
        "Import of new codes.csv: Imported 1 new cost codes to Ready to Export "
        "(1 unchanged, 0 updated, 0 re-sent from Rejected)."
    )
    words = texts(reply)
    assert "line 4 41-200: refused: " in words and "line 5 41:300: refused: " in words
    assert "2 rows were refused; fix them and import again." in words
    async with slack.services.sessions() as session:
        code = (await session.exec(select(CostCode).where(CostCode.code == "41-100"))).one()
        event = (
            await session.exec(select(AuditEvent).where(col(AuditEvent.cost_code_id) == code.id))
        ).one()
    assert (code.state, code.source, code.updated_by) == ("ready", "import:new codes.csv", ADMIN)
    assert (event.actor, event.surface, event.action) == (ADMIN, "slack", "import")


async def test_a_json_file_is_imported(slack: SlackDriver) -> None:
    content = json.dumps(
        [{"code": "32-100", "description": "Paving"}, {"code": "32-200", "colour": "red"}]
    ).encode()
    await import_file(slack, "codes.json", content)
    words = texts(report(slack))
    assert "Imported 1 new cost codes" in words
    assert "entry 2 32-200: refused: unknown keys: colour" in words


async def test_importing_the_example_file_again_changes_nothing(slack: SlackDriver) -> None:
    before = await rows(slack)
    await import_file(slack, "cost_codes.csv", COST_CODES.read_bytes())
    assert "Imported 0 new cost codes to Ready to Export (143 unchanged" in report(slack)["text"]
    assert await rows(slack) == before


async def test_no_file_is_answered_in_the_modal(slack: SlackDriver) -> None:
    before = await rows(slack)
    modal = await open_modal(slack)
    answer = await slack.submit(modal, file_values())
    assert answer == {
        "response_action": "errors",
        "errors": {CallbackId.IMPORT_FILE: "Choose a CSV or JSON file to import."},
    }
    assert await rows(slack) == before and slack.fake.of("files.info") == []


async def test_a_png_is_answered_in_the_modal_and_never_fetched(slack: SlackDriver) -> None:
    before = await rows(slack)
    answer = await import_file(slack, "logo.png", PNG)
    assert answer is not None and answer["response_action"] == "errors"
    assert answer["errors"][CallbackId.IMPORT_FILE] == (
        "logo.png (PNG) is not a CSV or JSON file. Choose a .csv or .json file."
    )
    assert await rows(slack) == before and slack.fake.of("files.info") == []


async def test_a_pdf_or_png_named_csv_is_refused_after_reading_it(slack: SlackDriver) -> None:
    before = await rows(slack)
    await import_file(slack, "codes.csv", PNG, filetype="csv")
    await import_file(slack, "list.csv", PDF, filetype="csv")
    png, pdf = (reply["text"] for reply in slack.ephemerals(ADMIN))
    assert png == (
        ":no_entry: Nothing was imported from codes.csv: codes.csv looks like a binary file; "
        "expected CSV or JSON text."
    )
    assert pdf.startswith(":no_entry: Nothing was imported from list.csv: the file is not valid")
    assert await rows(slack) == before


async def test_an_empty_file_is_answered(slack: SlackDriver) -> None:
    before = await rows(slack)
    answer = await import_file(slack, "empty.csv", b"")
    assert answer is not None
    assert answer["errors"][CallbackId.IMPORT_FILE].startswith("empty.csv is empty.")
    # Slack's size was wrong (or missing): the bytes say the same.
    modal = await open_modal(slack)
    file = slack.fake.add_file("blank.csv", b"  \n\n")
    await slack.submit(modal, file_values({"id": file["id"], "name": "blank.csv"}))
    (reply,) = slack.ephemerals(ADMIN)
    assert "blank.csv is empty; expected a header row code,description" in reply["text"]
    assert await rows(slack) == before


async def test_a_file_of_only_bad_rows_imports_nothing_and_says_why(slack: SlackDriver) -> None:
    before = await rows(slack)
    await import_file(slack, "bad.csv", b"code,description\n01:100,Colon\n,No code\n")
    reply = report(slack)
    assert reply["text"].startswith("Import of bad.csv: Imported 0 new cost codes")
    words = texts(reply)
    assert "line 2 01:100: refused:" in words and "line 3: refused:" in words
    assert await rows(slack) == before


async def test_a_non_admin_is_told_and_the_modal_never_opens(slack: SlackDriver) -> None:
    before = await rows(slack)
    assert await slack.command("import", user=OTHER) == 200
    assert slack.fake.modals == [] and slack.fake.of("views.open") == []
    (reply,) = slack.fake.responses + slack.ephemerals(OTHER)
    assert reply["text"] == (
        ":no_entry: Only <@UADMIN1> can import cost codes. "
        "Everyone in the channel can look at the list."
    )
    assert await rows(slack) == before


async def test_a_submission_by_someone_without_permission_imports_nothing(
    slack: SlackDriver,
) -> None:
    before = await rows(slack)
    modal = await open_modal(slack)
    file = slack.fake.add_file("codes.csv", b"code,description\n40-100,Sneaky\n")
    await slack.submit(modal, file_values(file), user=OTHER)
    assert await rows(slack) == before
    (refusal,) = slack.posted(f"D{OTHER[1:]}")  # a modal has no channel: a direct message
    assert refusal.text.startswith(":no_entry: Only <@UADMIN1> can import cost codes.")
    assert slack.fake.files[file["id"]].downloads == 0


async def test_the_report_is_a_direct_message_when_the_channel_refuses(slack: SlackDriver) -> None:
    modal = await open_modal(slack)
    modal = {**modal, "private_metadata": json.dumps({"channel": None})}
    await slack.submit(modal, file_values(slack.fake.add_file("c.csv", b"code,description\n")))
    (message,) = slack.posted(f"D{ADMIN[1:]}")
    assert "Imported 0 new cost codes" in message.text


async def test_two_people_importing_the_same_file_at_once_both_get_a_report(
    slack: SlackDriver,
) -> None:
    content = b"code,description\n" + b"".join(
        f"50-{n:03d},Code {n}\n".encode() for n in range(200)
    )
    modal = await open_modal(slack)
    files = [slack.fake.add_file(f"same{n}.csv", content) for n in range(2)]
    await asyncio.gather(*(slack.submit(modal, file_values(file)) for file in files))
    replies = sorted(reply["text"] for reply in slack.ephemerals(ADMIN))
    assert len(replies) == 2
    assert "Imported 200 new cost codes" in replies[0] + replies[1]
    assert "(200 unchanged" in replies[0] + replies[1]
    assert (await rows(slack))[0] == 143 + 200


async def test_a_file_slack_will_not_describe_is_explained(slack: SlackDriver) -> None:
    before = await rows(slack)
    modal = await open_modal(slack)
    await slack.submit(modal, file_values({"id": "F404", "name": "gone.csv", "filetype": "csv"}))
    (reply,) = slack.ephemerals(ADMIN)
    assert reply["text"] == (
        ":no_entry: Slack would not give me the file (file_not_found); please try again."
    )
    assert await rows(slack) == before


async def test_without_files_read_slack_sends_its_sign_in_page_and_the_person_is_told(
    slack: SlackDriver,
) -> None:
    before = await rows(slack)
    slack.fake.files_scope = False
    await import_file(slack, "codes.csv", b"code,description\n70-100,Never\n")
    (reply,) = slack.ephemerals(ADMIN)
    assert "The app may lack the files:read permission" in reply["text"]
    assert await rows(slack) == before


async def test_files_over_slacks_10_mb_limit_are_refused_unread(slack: SlackDriver) -> None:
    before = await rows(slack)
    big = slack.fake.add_file("big.csv", b"code,description\n" + b"x" * (10 * 1024 * 1024))
    modal = await open_modal(slack)
    answer = await slack.submit(modal, file_values(big))
    assert answer is not None
    assert answer["errors"][CallbackId.IMPORT_FILE] == "big.csv is larger than 10 MB."
    # The submission did not say how big it is: files.info does, and nothing is downloaded.
    await slack.submit(modal, file_values({"id": big["id"], "name": "big.csv"}))
    (reply,) = slack.ephemerals(ADMIN)
    assert reply["text"] == (
        ":no_entry: Nothing was imported from big.csv: big.csv is larger than 10 MB."
    )
    assert slack.fake.files[big["id"]].downloads == 0
    assert await rows(slack) == before


async def test_one_file_at_a_time(slack: SlackDriver) -> None:
    modal = await open_modal(slack)
    files = [slack.fake.add_file(f"{n}.csv", b"code,description\n") for n in range(2)]
    answer = await slack.submit(modal, file_values(*files))
    assert answer is not None
    assert answer["errors"][CallbackId.IMPORT_FILE] == "Import one file at a time."


def test_import_takes_no_words_after_it() -> None:
    assert parse_command("import", "1.2.3") == ImportCommand("1.2.3")
    assert parse_command("IMPORT") == ImportCommand()
    assert parse_command("import codes.csv") == HelpCommand()
