"""The QuickBooks Web Connector's backend: sessions, work, verdicts, guards."""
