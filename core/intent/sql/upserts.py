"""Upserts (REPLACE INTO, INSERT OR REPLACE, ON CONFLICT / DUPLICATE KEY UPDATE): which rows
they rewrite, and where a REPLACE deletes a row before inserting it again."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.predicates import _restricted
from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.statement import _Statement


def judge_upsert(statement: _Statement, node: exp.Insert, target: exp.Expr) -> None:
    if _upsert(node) and _reads_every_row_of(statement, node.expression, target):
        statement.add(
            I.MASS_MUTATION,
            "an upsert (REPLACE, ON CONFLICT / DUPLICATE KEY UPDATE) whose rows are every row of "
            "its own table rewrites all of them",
        )
    elif _plain(node) and _reads_every_row_of(statement, node.expression, target):
        statement.add(
            I.MASS_MUTATION,
            "INSERT of every row of its own table (a past version of it included: FOR VERSION "
            "AS OF, AT, BEFORE) writes a second copy of each row that is still there; a restore "
            "keeps to the missing rows (NOT IN / NOT EXISTS / EXCEPT / an anti-join on the table)",
        )
    elif _deletes_first(node, statement.dialect_name or "") and _whole_table(node.expression):
        statement.add(
            I.DELETE,
            "REPLACE deletes every existing row whose key the source brings before inserting it "
            "again: ON DELETE CASCADE fires and columns it does not list fall back to defaults",
        )
        statement.add(
            I.MASS_MUTATION,
            "REPLACE from every row of another table (a full import) replaces every row the "
            "import holds, not a picked few",
        )


def _plain(node: exp.Insert) -> bool:
    """An INSERT that adds every row it is given: no key conflict skips or replaces one (ON
    CONFLICT, INSERT IGNORE / OR IGNORE, REPLACE)."""
    return (
        not node.args.get("conflict")
        and not node.args.get("alternative")
        and not (node.args.get("ignore"))
    )


def _upsert(node: exp.Insert) -> bool:
    """REPLACE INTO, INSERT OR REPLACE, ON CONFLICT DO UPDATE, ON DUPLICATE KEY UPDATE: an
    inserted row that meets an existing key replaces or changes that row."""
    if str(node.args.get("alternative") or "").upper() == "REPLACE":
        return True
    conflict = node.args.get("conflict")
    action = conflict.args.get("action") if isinstance(conflict, exp.OnConflict) else None
    return action is not None and "UPDATE" in str(action.name).upper()


# Dialects whose REPLACE (MySQL's REPLACE INTO, SQLite's INSERT OR REPLACE) deletes the row
# that holds the key, then inserts a new one (DuckDB's INSERT OR REPLACE updates it in place).
_DELETE_THEN_INSERT = frozenset({"mysql", "sqlite", "singlestore", "doris", "starrocks"})


def _deletes_first(node: exp.Insert, dialect: str) -> bool:
    return dialect in _DELETE_THEN_INSERT and (
        str(node.args.get("alternative") or "").upper() == "REPLACE"
    )


def _reads_every_row_of(statement: _Statement, source: exp.Expr | None, target: exp.Expr) -> bool:
    """`SELECT ... FROM target` with nothing (WHERE, join, LIMIT, grouping) that drops a row."""
    if isinstance(target, exp.Schema):
        target = target.this
    table = _whole_table(source)
    return (
        table is not None
        and isinstance(target, exp.Table)
        and statement.qualify(table) == statement.qualify(target)
    )


def _whole_table(source: exp.Expr | None) -> exp.Table | None:
    """The table a `SELECT ... FROM t` reads every row of: nothing (WHERE, join, LIMIT,
    grouping) drops a row."""
    query = source.this if isinstance(source, exp.Subquery) else source
    if not isinstance(query, exp.Select) or _restricted(query):
        return None
    origin = query.args.get("from_")
    table = origin.this if isinstance(origin, exp.From) else None
    return table if isinstance(table, exp.Table) else None
