"""Digests as Slack shows them: the digest feature's one module that renders and sends.

The service (bot.digests.service) decides which slot is due and who posts it; it is given the
`post` built here, so it never holds a Slack client and its tests can post anywhere.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from blocks.digest import digest_message
from bot.digests.service import Post
from bot.digests.views import DigestView


def poster(client: AsyncWebClient) -> Post:
    """Post a digest with `client`; Slack's refusal (not in the channel…) raises SlackApiError."""

    async def post(channel: str, view: DigestView) -> str:
        posted = await client.chat_postMessage(channel=channel, **digest_message(view))
        return str(posted["ts"])

    return post
