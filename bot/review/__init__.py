"""The list in Slack: pages, picks, reject, suggestions and bulk review."""
