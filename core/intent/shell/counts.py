"""A query whose whole output is row counts: ``psql -Atc "SELECT count(*) FROM users WHERE
created_at > now() - interval '1 day'"``. It prints one row of numbers, none of the rows'
values, so sending what it prints (a chat message, a mail) sends no data of the table.
Grouped counts (``GROUP BY email``) print the group values, and any other projection
(``string_agg(email)``, ``max(total)``) prints a value of the rows: both stay data.
"""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.sql.dialects import parse_as_analyzed


def prints_counts_only(sql: str, dialect: str | None) -> bool:
    parsed = parse_as_analyzed(sql, dialect)
    if parsed is None or len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        return False
    select = parsed[0]
    if select.args.get("group") or select.args.get("having") or select.find(exp.Window):
        return False
    return bool(select.expressions) and all(
        isinstance(projection.unalias(), exp.Count) for projection in select.expressions
    )
