"""The Procore client against the fake Procore over HTTP: tokens, header, pages, limits, errors."""

from __future__ import annotations

import pytest

from bot.procore.client import MAX_ATTEMPTS, ProcoreClient, ProcoreError, explain
from tests.bot.procore.conftest import Seconds, Sleeps
from tests.fakes.procore_api import COMPANY, LIST_ID, FakeProcore

PARAMS = {"company_id": COMPANY, "standard_cost_code_list_id": LIST_ID, "view": "extended"}


def seed(procore: FakeProcore, count: int) -> list[int]:
    return [procore.add_code(f"01-{n:03d}", f"Code {n}") for n in range(count)]


async def test_a_token_is_reused_until_shortly_before_it_expires(
    client: ProcoreClient, procore: FakeProcore, seconds: Seconds
) -> None:
    procore.expires_in = 600
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    seconds.now += 500
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert procore.token_requests == 1
    seconds.now += 50  # 50 s before expiry: inside the renewal margin
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert procore.token_requests == 2
    assert all(call.status == 200 for call in procore.seen)


async def test_a_revoked_token_is_renewed_once_after_a_401(
    client: ProcoreClient, procore: FakeProcore
) -> None:
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    procore.revoke_tokens()
    lists = await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert lists[0]["id"] == LIST_ID
    assert procore.token_requests == 2
    assert [c.status for c in procore.calls("GET", "lists")] == [200, 401, 200]


async def test_refused_credentials_are_explained(procore: FakeProcore, seconds: Seconds) -> None:
    client = ProcoreClient(
        api_url=procore.url,
        login_url=procore.url,
        client_id="wrong",
        client_secret="wrong",
        company_id=COMPANY,
        clock=seconds,
    )
    with pytest.raises(ProcoreError) as caught:
        await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    await client.close()
    assert "PROCORE_CLIENT_SECRET" in caught.value.message
    assert "Client authentication failed" in caught.value.message


async def test_every_call_carries_the_company_header(
    client: ProcoreClient, procore: FakeProcore
) -> None:
    seed(procore, 3)
    await client.get_all("standard_cost_codes", PARAMS)
    api_calls = [s for s in procore.seen if s.path.startswith("/rest/")]
    assert api_calls
    assert {s.headers.get("Procore-Company-Id") for s in api_calls} == {str(COMPANY)}


async def test_the_fake_refuses_a_call_without_the_company_header(
    client: ProcoreClient, procore: FakeProcore
) -> None:
    # The fake is the guard the client is tested against: make sure it really refuses.
    token = await client._access_token()
    session = client._session()
    async with session.get(
        f"{procore.url}/rest/v1.0/standard_cost_code_lists",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 403
        assert "Procore-Company-Id" in (await response.json())["message"]


async def test_pages_shorter_than_asked_are_followed_to_the_end(
    client: ProcoreClient, procore: FakeProcore
) -> None:
    ids = seed(procore, 23)
    procore.page_cap = 4  # Procore may hold back: follow Link's next, not per_page
    items = await client.get_all("standard_cost_codes", PARAMS, per_page=10)
    assert [item["id"] for item in items] == ids
    assert len(procore.calls("GET", "standard_cost_codes")) == 6


async def test_without_link_headers_total_decides(
    client: ProcoreClient, procore: FakeProcore
) -> None:
    ids = seed(procore, 7)
    procore.link_headers = False
    items = await client.get_all("standard_cost_codes", PARAMS, per_page=3)
    assert [item["id"] for item in items] == ids


async def test_429_waits_until_reset(
    client: ProcoreClient, procore: FakeProcore, seconds: Seconds, sleeps: Sleeps
) -> None:
    reset = str(int(seconds.now) + 20)
    procore.fail_next(429, headers={"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": reset})
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert len(sleeps.waits) == 1
    assert 20 <= sleeps.waits[0] <= 25  # until Reset, plus a little jitter


async def test_429_and_503_honour_retry_after(
    client: ProcoreClient, procore: FakeProcore, sleeps: Sleeps
) -> None:
    procore.fail_next(429, headers={"Retry-After": "7"})
    procore.fail_next(503, headers={"Retry-After": "3"})
    lists = await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert lists
    assert len(sleeps.waits) == 2
    assert 7 <= sleeps.waits[0] <= 7 * 1.5  # Retry-After, plus a little jitter
    assert 3 <= sleeps.waits[1] <= 3 * 1.5


async def test_retries_are_bounded_and_then_explained(
    client: ProcoreClient, procore: FakeProcore, sleeps: Sleeps
) -> None:
    procore.fail_next(503, times=MAX_ATTEMPTS + 2, body={"message": "Service Unavailable"})
    with pytest.raises(ProcoreError) as caught:
        await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert len(sleeps.waits) == MAX_ATTEMPTS - 1
    assert sleeps.waits == sorted(sleeps.waits)  # backing off, never hammering
    assert "Procore is unavailable" in caught.value.message
    assert "Service Unavailable" in caught.value.message


async def test_a_4xx_is_not_retried_and_says_what_to_do(
    client: ProcoreClient, procore: FakeProcore, sleeps: Sleeps
) -> None:
    procore.fail_next(403, body={"errors": "You do not have access to this tool"})
    with pytest.raises(ProcoreError) as caught:
        await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert sleeps.waits == []
    assert caught.value.status == 403
    assert "Company Admin" in caught.value.message
    assert "You do not have access to this tool" in caught.value.message


def test_error_bodies_become_words() -> None:
    words = explain(422, {"errors": {"name": ["has already been taken"]}}, "POST x")
    assert words.endswith("(Procore said: name has already been taken)")
    assert explain(404, None, "GET x").startswith("Procore answered GET x with 404")
    assert "(Procore said: boom)" in explain(500, "boom", "GET x")


async def test_a_used_up_rate_limit_waits_for_its_reset_before_the_next_call(
    client: ProcoreClient, procore: FakeProcore, seconds: Seconds, sleeps: Sleeps
) -> None:
    procore.rate_limit = (5, seconds.now + 30)
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    procore.rate_limit = (0, seconds.now + 30)
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert sleeps.waits == []  # the last one left was used: the next call waits
    procore.rate_limit = None
    await client.get("standard_cost_code_lists", {"company_id": COMPANY})
    assert sleeps.waits == [30]
