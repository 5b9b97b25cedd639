"""Slack itself: the Bolt app, the door requests come through, permissions, refresher."""
