"""The exceptions a blocked command raises, apart from the guard that raises them.

Importing the guard loads the analyzer, the policy engine and sqlglot; code that only needs to
catch or subclass a block (a DAG file, an adapter's own exception) imports it from here and
stays cheap. `guardrails_core.guard` re-exports both names: they are the same classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guardrails_core.model import Decision


class CommandBlocked(Exception):
    """The guard stopped a command. `decision` says why; the message is written for people."""

    def __init__(self, decision: Decision, record_id: str | None) -> None:
        from guardrails_core.render import block_message

        self.decision = decision
        self.record_id = record_id
        super().__init__(block_message(decision))


class ApprovalRequired(CommandBlocked):
    """The command may run once a person approves this exact command (its fingerprint)."""


__all__ = ["ApprovalRequired", "CommandBlocked"]
