"""A row written straight into a scheduler's job table (pg_cron's `cron.job`): `UPDATE cron.job
SET command = 'DELETE FROM public.orders' WHERE jobname = ...` schedules that SQL as
cron.schedule / cron.alter_job would. The write is dynamic (SQL run later, repeatedly), and a
literal text assigned to the job's SQL column is judged as the SQL it is."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.sql.dialects import MAX_DEPTH, I
from guardrails_core.intent.sql.function_rules import function_registry
from guardrails_core.intent.sql.statement import _Statement, analyze_nested


def scheduled_by_write(statement: _Statement, node: exp.Update | exp.Insert) -> None:
    written = node.this.this if isinstance(node.this, exp.Schema) else node.this
    if not isinstance(written, exp.Table):
        return
    table = ".".join(part for part in (written.db, written.name) if part).lower()
    column = function_registry().job_tables.get(table)
    if column is None:
        return
    statement.add(
        I.DYNAMIC, f"writing {table} schedules the SQL its {column} column holds, run repeatedly"
    )
    for text in _assigned_texts(node, column):
        if statement.depth < MAX_DEPTH:
            statement.embed(analyze_nested(text, statement.dialect_name, depth=statement.depth + 1))


def _assigned_texts(node: exp.Update | exp.Insert, column: str) -> list[str]:
    """The string literals the statement writes into `column`."""
    if isinstance(node, exp.Update):
        return [
            value.this
            for assignment in node.expressions
            if isinstance(assignment, exp.EQ)
            and isinstance(unparen(assignment.this), exp.Column)
            and unparen(assignment.this).name.lower() == column
            and isinstance(value := unparen(assignment.expression), exp.Literal)
            and value.is_string
        ]
    schema = node.this
    values = node.expression
    if not isinstance(schema, exp.Schema) or not isinstance(values, exp.Values):
        return []
    names = [unparen(part).name.lower() for part in schema.expressions]
    if column not in names:
        return []
    position = names.index(column)
    texts = []
    for row in values.expressions:
        cells = row.expressions if isinstance(row, exp.Tuple) else []
        cell = unparen(cells[position]) if position < len(cells) else None
        if isinstance(cell, exp.Literal) and cell.is_string:
            texts.append(cell.this)
    return texts
