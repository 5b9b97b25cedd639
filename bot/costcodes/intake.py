"""Cost-code intake from CSV or JSON: valid rows become Ready to Export, bad rows are reported.

Reading and checking the file happens before any write, and applying it is one transaction, so a
file that cannot be used leaves the database untouched.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes import rules, statemachine
from bot.costcodes.domain import State, Surface
from bot.errors import ConflictError, CostCodeError
from bot.store import db
from bot.store.models import CostCode

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 131_072
"""Longer fields mean a broken or hostile file (the csv module's own limit), not a typo."""
REQUIRED = ("code", "description")
OPTIONAL = ("division",)


class FileUnusable(CostCodeError):
    """The file as a whole cannot be imported (missing, binary, wrong header, bad encoding)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    code: str
    description: str
    division: str | None


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    code: str
    reason: str
    unit: str = "line"
    """"line" in a CSV file, "entry" in a JSON list."""


@dataclass(slots=True)
class ImportReport:
    """What an import did, row by row where it matters to the person who ran it."""

    rows: int = 0
    added: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    left_alone: list[RowProblem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0


def read_file(path: Path) -> tuple[list[Row], list[RowProblem]]:
    """Parse and check a whole file; raises FileUnusable before anything is written."""
    return read_data(_read_bytes(path), path.name)


def read_data(raw: bytes, name: str) -> tuple[list[Row], list[RowProblem]]:
    """Parse and check a file's bytes (from disk or from Slack); `name` picks JSON by suffix."""
    if not raw or raw.isspace():
        raise FileUnusable(f"{name} is empty; expected a header row code,description")
    if b"\x00" in raw:  # anywhere: text files never hold one
        raise FileUnusable(f"{name} looks like a binary file; expected CSV or JSON text")
    text = _decode(raw)
    stripped = text.lstrip()
    if Path(name).suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        return check_rows(_json_records(stripped), unit="entry")
    return check_rows(_csv_records(text))


def _read_bytes(path: Path) -> bytes:
    try:
        status = path.stat()
        size = status.st_size
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(status.st_mode):  # a device or a pipe could be read forever
            raise FileUnusable(f"{path} is not a regular file")
        if size > MAX_FILE_BYTES:
            raise FileUnusable(
                f"{path} is {size // (1024 * 1024)} MB; files up to "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB can be imported"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileUnusable(f"{path} does not exist") from None
    except IsADirectoryError:
        raise FileUnusable(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise FileUnusable(f"{path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise FileUnusable(f"{path} cannot be read ({exc.strerror or exc})") from None
    return raw


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileUnusable(
            f"the file is not valid UTF-8 (byte {exc.start + 1}); save it as UTF-8 and try again"
        ) from None


def _check_header(names: Sequence[str]) -> list[str]:
    header = [name.strip().lower() for name in names]
    if header[:2] != list(REQUIRED) or any(name not in OPTIONAL for name in header[2:]):
        raise FileUnusable(
            f"the header row must be code,description[,division]; found {','.join(names)[:200]}"
        )
    return header


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
        if first is None:
            raise FileUnusable("the file is empty; expected a header row code,description")
        header = _check_header(first)
        records: list[tuple[int, dict[str, Any]]] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            line = reader.line_num
            if len(values) > len(header):
                records.append((line, {"__problem__": "the row has more columns than the header"}))
                continue
            records.append((line, dict(zip(header, values, strict=False))))
    except csv.Error as exc:
        raise FileUnusable(f"the CSV cannot be read at line {reader.line_num}: {exc}") from None
    return iter(records)


def _json_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileUnusable(f"the JSON cannot be read at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise FileUnusable("the JSON cannot be read: it is nested too deeply") from None
    except ValueError as exc:  # e.g. a number of more than 4,300 digits
        raise FileUnusable(f"the JSON cannot be read: {str(exc).split(';')[0]}") from None
    if not isinstance(data, list):
        raise FileUnusable("the JSON must be a list of objects with code and description")
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            yield index, {"__problem__": "the entry is not an object with code and description"}
            continue
        extra = set(item) - set(REQUIRED) - set(OPTIONAL)
        if extra:
            problem = f"unknown keys: {', '.join(sorted(map(str, extra)))}"
            yield index, {"__problem__": problem, "code": item.get("code")}
            continue
        yield index, item


def check_rows(
    records: Iterator[tuple[int, dict[str, Any]]], unit: str = "line"
) -> tuple[list[Row], list[RowProblem]]:
    rows: list[Row] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, record in records:
        row, reason = _check_record(line, record)
        if row is None:
            problems.append(RowProblem(line, _label(record), reason or "", unit))
        elif row.code in seen:
            problems.append(
                RowProblem(
                    line, row.code, f"duplicate of {unit} {seen[row.code]} in this file", unit
                )
            )
        else:
            seen[row.code] = line
            rows.append(row)
    return rows, problems


def _label(record: dict[str, Any]) -> str:
    value = record.get("code")
    return rules.normalise(str(value))[:40] if isinstance(value, str | int) else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError
    return rules.normalise(str(value))


def _check_record(line: int, record: dict[str, Any]) -> tuple[Row | None, str | None]:
    if "__problem__" in record:
        return None, str(record["__problem__"])
    try:
        code = _text(record.get("code"))
        description = _text(record.get("description"))
        division = _text(record.get("division")) or None
    except TypeError:
        return None, "code, description and division must be text"
    if max(len(code), len(description), len(division or "")) > MAX_FIELD_CHARS:
        raise FileUnusable(
            f"entry {line} has a field longer than {MAX_FIELD_CHARS:,} characters; "
            "this does not look like a cost code list"
        )
    problem = rules.violation_text(code, description)
    if problem:
        return None, problem
    return Row(line, code, description, division), None


Progress = Callable[[int, int], None]


async def import_checked(
    session: AsyncSession,
    rows: Sequence[Row],
    problems: Sequence[RowProblem],
    *,
    actor: str,
    surface: Surface,
    name: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Apply a checked file (`read_data`'s result): what the CLI and Slack imports both run."""
    report = await apply_rows(
        session, rows, actor=actor, surface=surface, source=f"import:{name}", progress=progress
    )
    report.rejected.extend(problems)
    return report


ATTEMPTS = 3
"""Two imports of the same codes at once: the loser's transaction is re-run (it is idempotent)."""


async def import_in_transaction(
    sessions: db.SessionFactory,
    rows: Sequence[Row],
    problems: Sequence[RowProblem],
    *,
    actor: str,
    surface: Surface,
    name: str,
    progress: Progress | None = None,
) -> ImportReport:
    """`import_checked` in its own transaction, re-run if a concurrent import got there first."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with db.session_scope(sessions) as session:
                return await import_checked(
                    session,
                    rows,
                    problems,
                    actor=actor,
                    surface=surface,
                    name=name,
                    progress=progress,
                )
        except (IntegrityError, ConflictError):
            if attempt == ATTEMPTS:
                raise
            log.info("import of %s raced another import; running it again", name)
    raise AssertionError("unreachable")


def report_lines(report: ImportReport) -> list[str]:
    """The import's report as the CLI prints it; Slack shows the same lines."""
    lines = [
        f"Imported {len(report.added)} new cost codes to Ready to Export"
        f" ({report.unchanged} unchanged, {len(report.updated)} updated,"
        f" {len(report.resent)} re-sent from Rejected)."
    ]
    for problem in sorted(report.rejected, key=lambda item: item.line):
        label = f" {problem.code}" if problem.code else ""
        lines.append(f"  {problem.unit} {problem.line}{label}: refused: {problem.reason}")
    for problem in report.left_alone:
        where = f"{problem.unit} {problem.line} {problem.code}"
        lines.append(f"  {where}: left alone: {problem.reason}")
    if report.rejected:
        lines.append(f"{len(report.rejected)} rows were refused; fix them and import again.")
    return lines


async def apply_rows(
    session: AsyncSession,
    rows: Sequence[Row],
    *,
    actor: str,
    surface: Surface,
    source: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Write checked rows in the caller's transaction; re-applying the same rows changes nothing."""
    report = ImportReport(rows=len(rows))
    chunk_size = 500
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        await _apply_chunk(session, chunk, report, actor=actor, surface=surface, source=source)
        if progress:
            progress(min(start + chunk_size, len(rows)), len(rows))
    return report


async def _apply_chunk(
    session: AsyncSession,
    chunk: Sequence[Row],
    report: ImportReport,
    *,
    actor: str,
    surface: Surface,
    source: str,
) -> None:
    codes = [row.code for row in chunk]
    result = await session.exec(select(CostCode).where(col(CostCode.code).in_(codes)))
    existing = {code.code: code for code in result.all()}
    new = [row for row in chunk if row.code not in existing]
    for row in chunk:
        if row.code in existing:
            await _apply_existing(session, row, existing[row.code], report, actor, surface)
    if new:
        await _insert(session, new, actor=actor, surface=surface, source=source)
        report.added.extend(row.code for row in new)


async def _insert(
    session: AsyncSession, rows: Sequence[Row], *, actor: str, surface: Surface, source: str
) -> None:
    new = [
        {
            "code": row.code,
            "description": row.description,
            "division": row.division,
            "source": source,
        }
        for row in rows
    ]
    await statemachine.create(session, rows=new, actor=actor, surface=surface, detail=source)


async def _apply_existing(
    session: AsyncSession,
    row: Row,
    code: CostCode,
    report: ImportReport,
    actor: str,
    surface: Surface,
) -> None:
    state = State(code.state)
    changes = {
        key: value
        for key, value in (("description", row.description), ("division", row.division))
        if getattr(code, key) != value
    }
    if state is State.REJECTED:
        await statemachine.transition(
            session, code=code, target=State.READY, actor=actor, surface=surface, changes=changes
        )
        report.resent.append(code.code)
    elif not changes:
        report.unchanged += 1
    elif state in statemachine.EDITABLE:
        await statemachine.edit(
            session, code=code, changes=changes, actor=actor, surface=surface, action="update"
        )
        report.updated.append(code.code)
    else:
        report.left_alone.append(_left_alone(row, state))


def _left_alone(row: Row, state: State) -> RowProblem:
    if state is State.SUCCESS:
        reason = "already exported to QuickBooks; its new description was not applied"
    else:
        reason = "is being exported right now; import it again once the export has finished"
    return RowProblem(row.line, row.code, reason)
