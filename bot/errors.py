"""Domain errors: each carries words a finance user can act on, shown to them as they are."""

from __future__ import annotations

ERP_ACTIONS = "pick GL accounts, export or reject cost codes"
"""What ERP permission allows, in the words of a refusal (an import names itself instead)."""


class CostCodeError(Exception):
    """Base of every error whose message is meant for the person who acted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConflictError(CostCodeError):
    """Someone else changed the code first; nothing was written."""

    @classmethod
    def changed(cls, code: str) -> ConflictError:
        return cls(
            f"{code} was changed by someone else a moment ago, so nothing was saved. "
            "The list shows the latest; please try again."
        )


class InvalidTransition(CostCodeError):
    """The code is not in a state that allows this action."""


class NotFound(CostCodeError):
    """The code or account asked for does not exist."""


class NotPermitted(CostCodeError):
    """The person lacks ERP permission for this action."""


class RuleViolation(CostCodeError):
    """The code breaks a QuickBooks rule and is held back from export."""


NOT_IN_CHANNEL = "I can't post in this channel. Invite me with /invite @costcodes and try again."


class CannotPost(CostCodeError):
    """Slack refused to post in this channel (the list, a digest, a sync's reply)."""
