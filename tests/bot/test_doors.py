"""The other doors under hostile input: /healthz, the sandbox's routes and the CLI's files.

Each answers with a clear status and reason (never a 500 or a traceback), and nothing in the
database changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.core import Core
from tests.browser.conftest import local  # noqa: F401  (fixture)
from tests.browser.sandbox_env import Local
from tests.builders import cli, served
from tests.db_state import snapshot

# -- /healthz ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_healthz_refuses_other_methods_with_405(services: Core, method: str) -> None:
    before = await snapshot(services)
    async with served(services) as client:
        response = await client.request(method, "/healthz", data=b"{}")
        assert response.status == 405
        assert "GET" in response.headers["Allow"]
    assert await snapshot(services) == before


@pytest.mark.parametrize(
    "query", ["?x=1", "?%ff%fe", "?" + "a" * 4000, "?database=down&status=ok", "?;;;&&=="]
)
async def test_healthz_ignores_any_query(services: Core, query: str) -> None:
    async with served(services) as client:
        response = await client.get("/healthz" + query)
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok"


# -- the sandbox's routes ---------------------------------------------------------------------

BAD_JSON: list[tuple[str, bytes]] = [
    ("not JSON", b"{nope"),
    ("a JSON list", b"[1, 2]"),
    ("a JSON string", b'"text"'),
    ("null", b"null"),
    ("empty", b""),
    ("not UTF-8", b"\xff\xfe{"),
    ("deeply nested", b"[" * 20_000 + b"]" * 20_000),
]
CONTROLS = ["/sandbox/command", "/sandbox/action", "/sandbox/options"]


@pytest.mark.parametrize("path", CONTROLS)
@pytest.mark.parametrize("body", [b for _, b in BAD_JSON], ids=[n for n, _ in BAD_JSON])
async def test_a_sandbox_control_refuses_a_body_that_is_not_a_json_object(
    local: Local,  # noqa: F811
    path: str,
    body: bytes,
) -> None:
    before = await snapshot(local.services)
    response = await local.client.post(
        path, data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400, await response.text()
    assert "expected a JSON object" in await response.text()
    assert await snapshot(local.services) == before


BAD_FIELDS: list[tuple[str, str, object, int, str]] = [
    ("command: text a list", "/sandbox/command", {"text": ["/costcodes"]}, 400, "slash command"),
    ("command: another command", "/sandbox/command", {"text": "/other"}, 400, "slash command"),
    ("action: no ts", "/sandbox/action", {"action_id": "export-codes"}, 404, "no longer"),
    ("action: ts a dict", "/sandbox/action", {"ts": {"a": 1}, "action_id": "x"}, 404, "no longer"),
    (
        "options: ts a list",
        "/sandbox/options",
        {"ts": [1], "action_id": "pick-income"},
        404,
        "no longer",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [b[1:] for b in BAD_FIELDS],
    ids=[b[0] for b in BAD_FIELDS],
)
async def test_a_sandbox_control_with_bad_fields_says_what_is_wrong(
    local: Local,  # noqa: F811
    path: str,
    body: object,
    status: int,
    reason: str,
) -> None:
    before = await snapshot(local.services)
    response = await local.client.post(path, json=body)
    assert response.status == status, await response.text()
    assert reason in await response.text()
    assert await snapshot(local.services) == before


async def test_bad_fields_on_a_real_message_are_400_not_500(local: Local) -> None:  # noqa: F811
    await local.command("/costcodes")
    listing = await local.eventually(local.list_message)
    before = await snapshot(local.services)
    cases: list[dict[str, object]] = [
        {"ts": listing.ts, "block_id": "nope", "action_id": "export-codes"},
        {"ts": listing.ts, "block_id": ["x"], "action_id": {"a": 1}},
        {"ts": listing.ts, "block_id": "x", "action_id": "pick-income", "selected_option": "1"},
        {"ts": listing.ts, "action_id": "pick-income", "element": {"type": "external_select"}},
        {"ts": listing.ts, "action_id": "pick-income", "element": {"type": "button", "text": 5}},
    ]
    for body in cases:
        response = await local.client.post("/sandbox/action", json=body)
        # 200 only when the click went to /slack/events; the answer then is the door's own
        assert response.status in (200, 400, 404), (body, response.status, await response.text())
        if response.status == 200:
            assert (await response.json())["status"] in (200, 400)
    for body in ({"ts": listing.ts, "action_id": 5, "value": ["x"]}, {"ts": listing.ts}):
        response = await local.client.post("/sandbox/options", json=body)
        assert response.status in (200, 400), (body, await response.text())
    assert await snapshot(local.services) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type"),
    [
        ("POST", "/sandbox/api/chat.postMessage", b"{nope", "application/json"),
        ("POST", "/sandbox/api/chat.postMessage", b"[1]", "application/json"),
        ("POST", "/sandbox/api/chat.postMessage", b"\xff\xfe", "application/x-www-form-urlencoded"),
        ("POST", "/sandbox/respond/r1", b"{nope", "application/json"),
        ("POST", "/sandbox/respond/r1", b"[1]", "application/json"),
        ("POST", "/sandbox/respond/r1", b"", "application/json"),
    ],
    ids=[
        "api not JSON",
        "api a list",
        "api form not UTF-8",
        "respond not JSON",
        "respond a list",
        "respond empty",
    ],
)
async def test_the_sandbox_slack_stand_in_refuses_bad_bodies_plainly(
    local: Local,  # noqa: F811
    method: str,
    path: str,
    body: bytes,
    content_type: str,
) -> None:
    before = await snapshot(local.services)
    response = await local.client.request(
        method, path, data=body, headers={"Content-Type": content_type, "Authorization": "Bearer x"}
    )
    assert response.status in (200, 400, 404), await response.text()
    assert response.status != 500
    assert await snapshot(local.services) == before


# -- the CLI's files ----------------------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


FILES: list[tuple[str, str, bytes, str]] = [
    ("binary garbage", "codes.csv", bytes(range(256)) * 64, "binary"),
    ("a NUL far in", "codes.csv", b"code,description\n" + b"01-100,x\n" * 9000 + b"\x00", "binary"),
    ("UTF-16", "codes.csv", "code,description\n01-100,Concrete\n".encode("utf-16"), ""),
    ("Latin-1", "codes.csv", "code,description\n01-100,Béton\n".encode("latin-1"), "UTF-8"),
    ("empty", "codes.csv", b"", "empty"),
    ("a wrong header", "codes.csv", b"name,desc\n01,x\n", "header row"),
    (
        "an endless field",
        "codes.csv",
        b"code,description\n01," + b"x" * 200_000 + b"\n",
        "cannot be read",
    ),
    ("an open quote", "codes.csv", b'code,description\n"01,x\n', ""),
    ("JSON: an object", "codes.json", b'{"code": "01", "description": "x"}', "list of objects"),
    ("JSON: a string", "codes.json", b'"01-100"', "list of objects"),
    ("JSON: a number", "codes.json", b"42", "list of objects"),
    ("JSON: null", "codes.json", b"null", "list of objects"),
    ("JSON: malformed", "codes.json", b'[{"code": "01",', "JSON cannot be read"),
    ("JSON: deeply nested", "codes.json", _deep(200_000), "JSON cannot be read"),
    (
        "JSON: a huge number",
        "codes.json",
        b'[{"code": ' + b"9" * 50_000 + b', "description": "x"}]',
        "JSON cannot be read",
    ),
]


async def _import(services: Core, path: Path) -> tuple[int, str, str]:
    return await cli(services, "import", str(path))


@pytest.mark.parametrize(
    ("name", "content", "reason"), [f[1:] for f in FILES], ids=[f[0] for f in FILES]
)
async def test_an_unusable_file_is_refused_with_exit_2_and_nothing_written(
    services: Core, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = await snapshot(services)
    code, out, err = await _import(services, path)
    if code == 1:  # readable, but every row was refused: also nothing written
        assert "refused" in out
    else:
        assert code == 2, (out, err)
        assert err.startswith("Nothing was imported: ") and reason in err, err
        assert "Traceback" not in err and len(err) < 400
    assert await snapshot(services) == before


async def test_a_file_over_the_limit_is_refused_unread(services: Core, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:  # sparse: 65 MB on paper, nothing on disk
        handle.truncate(65 * 1024 * 1024)
    before = await snapshot(services)
    code, _, err = await _import(services, path)
    assert code == 2 and "files up to 64 MB" in err
    assert await snapshot(services) == before


@pytest.mark.parametrize("kind", ["missing", "folder", "device", "fifo", "unreadable"])
async def test_a_path_that_is_not_a_readable_file_is_refused(
    services: Core, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "codes.csv"
    if kind == "folder":
        path.mkdir()
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "unreadable":
        path.write_text("code,description\n01-100,x\n")
        path.chmod(0)
        if os.access(path, os.R_OK):  # root reads anything
            pytest.skip("running as root: the file stays readable")
    before = await snapshot(services)
    code, _, err = await _import(services, path)
    assert code == 2 and err.startswith("Nothing was imported: "), err
    assert await snapshot(services) == before


async def test_json_whose_entries_are_not_objects_refuses_each_row(
    services: Core, tmp_path: Path
) -> None:
    path = tmp_path / "codes.json"
    path.write_text(json.dumps([1, "x", None, [], {"code": {"a": 1}, "description": "x"}]))
    before = await snapshot(services)
    code, out, _ = await _import(services, path)
    assert code == 1 and out.count("refused") >= 1
    assert await snapshot(services) == before
