"""One unit of work (a task run, a flow run): the commands it judged and what became of them.

Adapters map their orchestrator's world into a `Command` and a `Context`, ask the session, and
map the verdict back (fail, pause, proceed).
"""

from __future__ import annotations

# Context label of a decision measured at the live connection: the id of the decision it
# refines (the one judged before any connection existed).
REFINES_LABEL = "guardrails.refines"

__all__ = ["REFINES_LABEL"]
