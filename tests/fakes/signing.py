"""Slack request signing (v0), computed the way Slack does, for requests the tests send."""

from __future__ import annotations

import hashlib
import hmac
import time


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """`X-Slack-Signature` = v0=HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")."""
    stamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{stamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": f"v0={digest}"}
