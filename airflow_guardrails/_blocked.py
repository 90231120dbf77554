"""`TaskBlocked`, on its own: a DAG file that catches or names it loads no guard.

Defining it beside the task scope would load the guard (analyzer, policy engine, sqlglot) in
the DAG processor on every parse of a file that imports it; this module loads the exception
classes only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from guardrails_core.blocked import CommandBlocked

if TYPE_CHECKING:
    from guardrails_core.model import Decision


class TaskBlocked(AirflowFailException, CommandBlocked):
    """A guarded task's command was denied: the task fails now, and is not retried.

    An `AirflowFailException`, which the Task SDK maps to FAILED without a retry, and a
    `CommandBlocked`, so code that handles guardrails blocks everywhere handles this one too.
    """

    def __init__(
        self, decision: Decision, record_id: str | None, *, why: str | None = None
    ) -> None:
        CommandBlocked.__init__(self, decision, record_id)
        if why:
            self.args = (f"{why}\n{self.args[0]}",)

    def serialize(self) -> tuple[str, tuple[str], dict[str, Any]]:
        # Rebuilt elsewhere from its message alone, it is the plain no-retry failure it stands for.
        return f"{AirflowFailException.__module__}.AirflowFailException", (str(self),), {}
