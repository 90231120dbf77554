"""The conformance pipeline: one unit of work per step, the same in every orchestrator.

Each adapter runs these steps for real (Airflow `dag.test()`, a Prefect flow run) against a
SQLite table of `ROWS` rows, then `access-guardrails undo` of the purge, and its audit trail is
read back as a `Trace`: per step, its decisions in trail order with verdict, deciding rule,
whether a live probe measured it, which earlier decision of the step it refines, and its states.
The adapters must leave the same trace.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails_core.audit import RecordKind
from guardrails_core.session import REFINES_LABEL

ROWS = 200
# One row in 40 is a test event: the purge deletes 5 of 200.
PURGED = ROWS // 40
FILL = (
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) "
    "SELECT n, CASE n % 40 WHEN 0 THEN 'test' ELSE 'app' END FROM s"
)

# The steps, by task name, and the SQL each sends ({t}: the table).
PURGE = "DELETE FROM {t} WHERE kind = 'test'"  # scoped: allowed, measured, pre-image kept
COUNT = "SELECT count(*) FROM {t}"  # sent twice by `count_twice`: judged and recorded once
FIX = "UPDATE {t} SET kind = 'checked' WHERE id = 1"  # written by a model: needs a review
DROP = "DROP TABLE {t}"  # denied by the baseline
STEPS = ("purge", "count_twice", "fix", "drop")
REVIEWED = "fix"


@dataclass(frozen=True)
class Judged:
    """One decision of a step, as the conformance suite compares it."""

    verdict: str
    rule: str
    measured: bool  # a live probe estimated it (judged at the connection)
    refines: int | None  # index, within the step, of the decision it refines
    states: tuple[str, ...]


A, M = "allow", True
EXPECTED: dict[str, tuple[Judged, ...]] = {
    "purge": (
        Judged(A, "baseline.allow", False, None, ("pending", "succeeded")),
        Judged(A, "baseline.allow", M, 0, ("pending", "backed_up", "succeeded", "undone")),
    ),
    "count_twice": (Judged(A, "baseline.allow", False, None, ("pending", "succeeded")),),
    "fix": (
        Judged("review", "ai-changes-need-review", False, None, ("awaiting_approval", "approved")),
        # judged again once approved, then at its connection: both refine the review
        Judged(A, "ai-changes-need-review", False, 0, ("pending", "succeeded")),
        Judged(A, "ai-changes-need-review", M, 0, ("pending", "backed_up", "succeeded")),
    ),
    "drop": (Judged("deny", "baseline.drop", False, None, ("blocked",)),),
}


def create_table(database: Path, table: str) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, kind TEXT)")
        conn.execute(f"INSERT INTO {table} {FILL.format(rows=ROWS)}")


def table_state(database: Path, table: str) -> tuple[int, str | None]:
    """(rows, kind of row 1), or (-1, None) when the table is gone."""
    with sqlite3.connect(database) as conn:
        try:
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        except sqlite3.OperationalError:
            return -1, None
        row = conn.execute(f"SELECT kind FROM {table} WHERE id = 1").fetchone()
    return int(count), (row[0] if row else None)


def trace(records: list[Any]) -> tuple[Judged, ...]:
    """The decisions of one step, from all its audit records (decisions and outcomes)."""
    decisions = [r for r in records if r.kind is RecordKind.DECISION]
    index = {r.subject.decision_id: i for i, r in enumerate(decisions)}
    judged = []
    for record in decisions:
        decision = record.decision
        refines = dict(decision.context.labels).get(REFINES_LABEL)
        states = [record.state.value] + [
            r.state.value
            for r in records
            if r.kind is not RecordKind.DECISION and r.decision_record_id == record.record_id
        ]
        judged.append(
            Judged(
                verdict=decision.decision.value,
                rule=decision.reasons[0].rule_id if decision.reasons else "",
                measured=bool(decision.impact),
                refines=index.get(refines) if refines else None,
                states=tuple(states),
            )
        )
    return tuple(judged)


def undone_id(purge: list[Any]) -> str:
    """The decision id `access-guardrails undo` takes: the purge as measured at its connection."""
    decisions = [r for r in purge if r.kind is RecordKind.DECISION and r.decision.impact]
    assert decisions, "the purge was never measured at its connection"
    return str(decisions[-1].subject.decision_id)
