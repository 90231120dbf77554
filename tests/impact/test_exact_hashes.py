"""Undo sees every later change, however small, of every column type: a row's hash is exact.

Each row of the table: a column type, a value, and the smallest later change of it (last digit,
last byte, a microsecond, a trailing space, JSON spacing). The guarded statement changes
another column of the row; the later change must make undo refuse, changing nothing.
"""

from __future__ import annotations

import pytest

from guardrails_core.guard import Guard
from tests.impact.conftest import Database, guarded
from tests.impact.test_conflicts import refused

# dialect -> (column type, initial value, later value), as SQL literals.
CHANGES: dict[str, list[tuple[str, str, str]]] = {
    "postgres": [
        ("real", "1.0000001", "1.0000002"),
        ("double precision", "0.30000000000000004", "0.3"),
        ("numeric(38,20)", "1.00000000000000000001", "1.00000000000000000002"),
        ("bytea", "'\\x00ff00'::bytea", "'\\x00ff01'::bytea"),
        ("json", "'{\"a\":1}'", "'{\"a\": 1}'"),
        ("jsonb", "'{\"a\":1.0}'", "'{\"a\":1.00}'"),
        ("timestamptz", "'2026-01-01 00:00:00.000001+00'", "'2026-01-01 00:00:00.000002+00'"),
        ("text", "'x'", "'x '"),
        ("int[]", "'{1,2}'", "'{1,3}'"),
        (
            "uuid",
            "'00000000-0000-0000-0000-000000000001'",
            "'00000000-0000-0000-0000-000000000002'",
        ),
    ],
    "mysql": [
        ("float", "123456.7", "123456.9"),
        ("double", "0.30000000000000004", "0.3"),
        ("decimal(38,20)", "1.00000000000000000001", "1.00000000000000000002"),
        ("varbinary(8)", "x'00ff00'", "x'00ff01'"),
        ("blob", "x'00ff00'", "x'00ff01'"),
        ("json", "'{\"a\":1}'", "'{\"a\": 1}'"),
        ("datetime(6)", "'2026-01-01 00:00:00.000001'", "'2026-01-01 00:00:00.000002'"),
        ("varchar(10)", "'x'", "'x '"),
        ("bit(8)", "b'00000001'", "b'00000011'"),
    ],
    "sqlite": [
        ("real", "0.30000000000000004", "0.3"),
        ("integer", "9007199254740993", "9007199254740992"),
        ("blob", "x'00ff00'", "x'00ff01'"),
        ("text", "'x'", "'x '"),
        ("", "1", "'1'"),
    ],
}


@pytest.mark.parametrize(
    ("db", "column_type", "initial", "later"),
    [(dialect, *row) for dialect, rows in CHANGES.items() for row in rows],
    indirect=["db"],
)
def test_the_smallest_later_change_of_any_type_is_a_conflict(
    db: Database, guard: Guard, column_type: str, initial: str, later: str
) -> None:
    table = db.create(
        "typed", f"id integer primary key, c {column_type}, note varchar(20)", 5,
        values=f"{initial}, 'x'",
    )  # fmt: skip
    decision_id = guarded(db, guard, f"UPDATE {table} SET note = 'fixed' WHERE id <= 3")
    db.run(f"UPDATE {table} SET c = {later} WHERE id = 2")
    db.commit()
    refused(db, decision_id, r"\(id=2\) was changed again", table)
