"""`costcodes procore connect|sync|status` against the fake Procore."""

from __future__ import annotations

import io

from bot.cli import run
from bot.core import Core
from tests.bot.procore.conftest import TOKEN
from tests.builders import cli
from tests.conftest import make_settings
from tests.fakes.procore_api import FakeProcore, settings_for

URL = "https://bot.example.com/procore/webhook"


async def test_every_procore_command_says_when_the_link_is_off(services: Core) -> None:
    for action in (["connect", "--url", URL], ["sync"], ["status"]):
        code, out, err = await cli(services, "procore", *action)
        assert code == 2 and out == ""
        assert "The Procore link is off: set PROCORE_CLIENT_ID" in err


async def test_connect_registers_the_hook_and_three_triggers_once(
    linked: Core, procore: FakeProcore
) -> None:
    code, out, _ = await cli(linked, "procore", "connect", "--url", URL)
    assert code == 0
    assert "hook 1 created" in out
    [hook] = procore.hooks.values()
    assert hook["destination_url"] == URL and hook["namespace"] == "costcodes"
    assert hook["destination_headers"] == {"Authorization": f"Bearer {TOKEN}"}
    assert sorted(t["event_type"] for t in procore.triggers[1]) == ["create", "delete", "update"]
    assert {t["resource_name"] for t in procore.triggers[1]} == {"Standard Cost Codes"}
    writes = [s for s in procore.seen if s.method in ("POST", "PATCH") and "/rest/" in s.path]
    code, out, _ = await cli(linked, "procore", "connect", "--url", URL)
    assert code == 0 and out.startswith("Already connected")
    assert [
        s for s in procore.seen if s.method in ("POST", "PATCH") and "/rest/" in s.path
    ] == writes


async def test_connect_moves_the_hook_to_a_new_url_and_adds_missing_triggers(
    linked: Core, procore: FakeProcore
) -> None:
    await cli(linked, "procore", "connect", "--url", URL)
    procore.triggers[1] = [t for t in procore.triggers[1] if t["event_type"] != "delete"]
    code, out, _ = await cli(
        linked, "procore", "connect", "--url", "https://new.example.com/procore/webhook"
    )
    assert code == 0
    assert "now delivers to https://new.example.com" in out and "delete added" in out
    assert len(procore.hooks) == 1 and len(procore.triggers[1]) == 3


async def test_connect_wants_https_except_on_this_machine(
    linked: Core, procore: FakeProcore
) -> None:
    code, _, err = await cli(
        linked, "procore", "connect", "--url", "http://bot.example.com/procore/webhook"
    )
    assert code == 1 and "https" in err
    assert procore.hooks == {}
    code, _, _ = await cli(
        linked, "procore", "connect", "--url", "http://127.0.0.1:3000/procore/webhook"
    )
    assert code == 0 and len(procore.hooks) == 1


async def test_connect_needs_the_webhook_token(
    linked: Core, procore: FakeProcore, database_url: str
) -> None:
    settings = make_settings(database_url, **settings_for(procore, procore_webhook_token=None))
    out, err = io.StringIO(), io.StringIO()
    assert await run(["procore", "connect", "--url", URL], settings=settings, out=out, err=err) == 1
    assert "set PROCORE_WEBHOOK_TOKEN first" in err.getvalue()


async def test_sync_and_status(linked: Core, procore: FakeProcore) -> None:
    division = procore.add_code("26", "Electrical")
    procore.add_code("26-100", "Wiring", division)
    procore.add_code("26-200 and a code far too long for QuickBooks", "Lighting", division)
    code, out, _ = await cli(linked, "procore", "sync")
    assert code == 0
    assert "new in Ready to Export: 26-100" in out
    assert "held back: the code is" in out
    code, out, _ = await cli(linked, "procore", "status")
    assert code == 0
    assert out.startswith("Procore link is healthy.")
    assert "cost code list 5000000000001" in out
    assert "Last reconcile: 20" in out and "1 new" in out
    assert "Write-backs waiting: 0" in out
    assert "Held back by a rule: 1" in out
    assert "Last error: none" in out
    code, out, _ = await cli(linked, "status")
    assert "Procore link is healthy" in out


async def test_sync_says_when_procore_refuses(linked: Core, procore: FakeProcore) -> None:
    procore.fail_next(403, body={"errors": "Insufficient permissions"})
    code, _, err = await cli(linked, "procore", "sync")
    assert code == 1
    assert "Company Admin" in err and "Insufficient permissions" in err
    code, out, _ = await cli(linked, "procore", "status")
    assert code == 1
    assert "Procore link has a problem: reconcile: Procore answered GET" in out
