"""Pure Block Kit builders: domain objects in, Slack message dicts out, so handlers hold no JSON."""

from __future__ import annotations
