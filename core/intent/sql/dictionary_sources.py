"""ClickHouse dictionary sources, `CREATE DICTIONARY ... SOURCE(kind(...))`: what loading the
dictionary reads. A CLICKHOUSE source on this server reads its TABLE, or runs its QUERY, which is
SQL and is read as such; any other source runs a program or reaches another server."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.sql.dialects import MAX_DEPTH, A, I, K
from guardrails_core.intent.sql.statement import _Statement, analyze_nested
from guardrails_core.intent.this_machine import is_this_machine

# The settings of a CLICKHOUSE source, all understood; any other leaves the source unread.
_CONNECTION = frozenset({"HOST", "PORT", "USER", "PASSWORD", "SECURE", "DB", "TABLE"})
_REFRESH = frozenset({"UPDATE_FIELD", "UPDATE_LAG"})
_SQL = frozenset({"QUERY", "INVALIDATE_QUERY", "WHERE"})  # run by the server: read as SQL


def judge_dictionary_source(statement: _Statement, prop: exp.DictProperty) -> None:
    """Name what a dictionary's SOURCE reads, or that it leaves this server."""
    settings = _local_settings(prop)
    table = settings.get("TABLE")
    queries = [_as_query(key, settings[key]) for key in sorted(_SQL & settings.keys())]
    if (table or "QUERY" in settings) and (not queries or statement.depth < MAX_DEPTH):
        database = settings.get("DB")
        if table:
            statement.obj(K.TABLE, A.READ, table, schema=database)
            statement.add(I.READ, "the dictionary loads a table of this server")
        for query in queries:
            _read_query(statement, query, database)
        return
    statement.add(
        I.HOST_ACCESS, "the dictionary source runs a program or connects to another server"
    )


def _as_query(setting: str, text: str) -> str:
    # WHERE is a condition the server adds to its query of TABLE; what it reads is read alone.
    return f"SELECT 1 WHERE {text}" if setting == "WHERE" else text


def _read_query(statement: _Statement, query: str, database: str | None) -> None:
    """SOURCE(CLICKHOUSE(QUERY 'SELECT ...')): the server runs the query to load the dictionary."""
    inner = analyze_nested(
        query,
        statement.dialect_name,
        depth=statement.depth + 1,
        default_schema=database or statement.names.default_schema,
        default_catalog=statement.names.default_catalog,
    )
    statement.embed(inner)
    if not inner:
        statement.add(I.UNPARSEABLE, "a query of the dictionary's source is empty")
        return
    statement.add(I.READ, "the dictionary loads the result of a query on this server")


def _local_settings(prop: exp.DictProperty) -> dict[str, str]:
    """The settings of a `SOURCE(CLICKHOUSE(...))` on this server, all literal and understood
    (else empty: the source is not read here)."""
    if str(prop.args.get("kind") or "").lower() != "clickhouse":
        return {}
    values: dict[str, str] = {}
    for sub in prop.args.get("settings") or []:
        value = sub.args.get("value") if isinstance(sub, exp.DictSubProperty) else None
        name = sub.name.upper()
        if not isinstance(value, exp.Literal) or name not in _CONNECTION | _REFRESH | _SQL:
            return {}
        values[name] = str(value.this)
    if not is_this_machine(values.get("HOST", "localhost")):
        return {}
    return values
