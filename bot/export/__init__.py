"""Export Cost Codes: starting an export, where it stands, its replies in Slack."""
