"""Cost code export bot: the application core (settings, database, services, server, CLI)."""

from __future__ import annotations

__version__ = "0.1.0"
