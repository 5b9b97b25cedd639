"""Slack request signing (v0) for requests the tests send: the package's one copy, re-exported.

The sandbox signs its requests with the same function (bot/sandbox/slack_requests.py), so the
tests and the sandbox cannot drift apart; older imports of this module keep working.
"""

from __future__ import annotations

from bot.sandbox.slack_requests import signed_headers

__all__ = ["signed_headers"]
