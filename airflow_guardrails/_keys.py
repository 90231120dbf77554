"""Names a DAG file may use at parse time, in a module that loads nothing else."""

from __future__ import annotations

# The XCom key each guarded task pushes its decision under.
DECISION_XCOM_KEY = "guardrails_decision"
