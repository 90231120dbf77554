"""Undo: how long putting a change back holds its locks, beside what the change itself took.

On a 100,000-row table per database (benchmarks/impact.py's), a reversible UPDATE and a
reversible DELETE of 5,000 rows (every 20th id), committed, then undone:

  statement  the same statement run plainly, in a transaction rolled back afterwards
  undo       `undo()` of the committed reversible statement: one transaction that holds the
             table's write lock (the database's, on SQLite) from its start to its commit
  ratio      undo / statement

Medians of --repeat runs, milliseconds.

    .venv/bin/python benchmarks/undo.py [--repeat 5] [--dialects postgres mysql sqlite]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.impact import arguments, connect, table, timed
from guardrails_core import check
from guardrails_core.impact import ImpactProbe, undo
from guardrails_core.policy.schema import ImpactSpec

STATEMENTS = {
    "UPDATE 5%": "UPDATE {t} SET v = v + 1 WHERE id % 20 = 0",
    "DELETE 5%": "DELETE FROM {t} WHERE id % 20 = 0",
}


def measure(dialect: str, connection: Any, sql: str, repeat: int) -> tuple[float, float]:
    probe = ImpactProbe(connection)
    spec = ImpactSpec(pre_image_max_rows=10_000)
    plain, undone = [], []

    def run(text: str) -> None:
        connection.cursor().execute(text)

    for _ in range(repeat):
        plain.append(timed(lambda: run(sql)))
        connection.rollback()
        decision = check(sql, dialect=dialect)
        executed = probe.execute(decision, run, spec)
        connection.commit()
        assert executed.reversals, executed.notes
        undone.append(timed(partial(undo, connection, decision.decision_id)))
    return statistics.median(plain), statistics.median(undone)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv, __doc__, repeat=5)
    header = f"{'database':<9} {'statement':<10} {'statement':>10} {'undo':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as directory:
        for dialect in args.dialects:
            connection = connect(dialect, Path(directory))
            try:
                with table(dialect, connection) as name:
                    for label, template in STATEMENTS.items():
                        sql = template.format(t=name)
                        statement, undone = measure(dialect, connection, sql, args.repeat)
                        print(
                            f"{dialect:<9} {label:<10} {statement:>10.1f} {undone:>9.1f} "
                            f"{undone / statement:>6.1f}x"
                        )
            finally:
                connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
