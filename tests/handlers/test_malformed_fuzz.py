"""Property: whatever shape a signed Slack request has, the answer is 200 or 400, never a 5xx,
and the database is unchanged.

Hypothesis runs in a worker thread and sends each example to the real server on the test's event
loop. Bounded (max_examples, no deadline) and derandomized, so CI runs the same examples.
The people in these requests are never ERP admins, and no example posts a list, so no request
may legitimately change anything.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.db_state import snapshot
from tests.handlers.slack_driver import CHANNEL, FORM, SlackDriver

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ids = st.sampled_from(
    [
        "pick-income",
        "pick-expense",
        "export-codes",
        "reject-all",
        "undo-reject",
        "retry-failed",
        "x",
        "",
    ]
) | st.text(max_size=8)
people = st.sampled_from(["UOTHER1", "U0", ""]) | values
kinds = (
    st.sampled_from(
        [
            "block_actions",
            "block_suggestion",
            "view_submission",
            "view_closed",
            "shortcut",
            "message_action",
            "interactive_message",
            "dialog_submission",
            "event_callback",
            "url_verification",
            "app_rate_limited",
        ]
    )
    | values
)
actions = (
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "action_id": ids | values,
                "block_id": st.sampled_from(["code:1:1:1", "list:ready:1:1"]) | values,
                "type": st.sampled_from(["button", "external_select"]) | values,
                "value": values,
                "selected_option": st.fixed_dictionaries({}, optional={"value": values}) | values,
            },
        )
        | values,
        max_size=2,
    )
    | values
)
references = st.fixed_dictionaries({}, optional={"id": people, "team_id": values}) | people
payloads = st.fixed_dictionaries(
    {"type": kinds},
    optional={
        "actions": actions,
        "user": references,
        "team": references,
        "channel": st.just({"id": CHANNEL}) | references,
        "enterprise": references,
        "action_id": ids | values,
        "block_id": values,
        "value": values,
        "callback_id": ids | values,
        "view": st.fixed_dictionaries(
            {}, optional={"callback_id": ids, "type": values, "state": values}
        )
        | values,
        "event": st.fixed_dictionaries(
            {}, optional={"type": ids | values, "user": people, "channel": values}
        )
        | values,
        "message": st.fixed_dictionaries({}, optional={"ts": values, "blocks": values}) | values,
        "container": st.fixed_dictionaries(
            {}, optional={"channel_id": values, "message_ts": values}
        )
        | values,
        "authorizations": st.lists(values, max_size=2) | values,
        "response_urls": st.lists(values, max_size=2) | values,
        "is_ext_shared_channel": st.booleans(),
        "team_id": values,
        "challenge": values,
        "thread_ts": values,
    },
)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A body and its content type, the ways Slack sends them, or raw bytes."""
    way = draw(st.sampled_from(["payload", "json", "form", "bytes"]))
    if way == "bytes":
        return draw(st.binary(max_size=64)), draw(st.sampled_from([FORM, "application/json"]))
    if way == "form":
        fields = draw(
            st.dictionaries(
                st.sampled_from(["command", "text", "user_id", "payload", "ssl_check"]),
                st.text(max_size=12),
                max_size=4,
            )
        )
        if str(fields.get("command", "")).startswith("/costcodes"):
            fields["command"] = "/other"
        return urlencode(fields).encode(), FORM
    payload: Any = draw(payloads | values)
    if way == "json":
        return json.dumps(payload).encode(), "application/json"
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


async def test_no_signed_slack_payload_gets_a_5xx_or_changes_anything(slack: SlackDriver) -> None:
    loop = asyncio.get_running_loop()
    before = await snapshot(slack.services)
    seen: list[int] = []

    async def send(body: bytes, content_type: str) -> int:
        status, text = await slack.send(body, content_type=content_type)
        await slack.settle()
        assert status in (200, 400), (status, text, body)
        return status

    @SETTINGS
    @given(bodies())
    def property_holds(example: tuple[bytes, str]) -> None:
        seen.append(asyncio.run_coroutine_threadsafe(send(*example), loop).result(timeout=30))

    await asyncio.to_thread(property_holds)
    assert set(seen) == {200, 400}  # both kinds were tried
    assert await snapshot(slack.services) == before
    slack.statuses[:] = [s for s in slack.statuses if s != 400]
