"""Context label names the guard itself sets, importable without loading the guard (a DAG file
that reads a decision's XCom or labels names them at parse time)."""

from __future__ import annotations

# Context label of a later judgement of a command in its unit of work: the id of the first
# decision of that command (the one judged before approvals arrived or a connection existed).
REFINES_LABEL = "guardrails.refines"
# Context label of a later judgement: why the command was judged again (a `Refinement`).
REFINEMENT_LABEL = "guardrails.refinement"

__all__ = ["REFINEMENT_LABEL", "REFINES_LABEL"]
