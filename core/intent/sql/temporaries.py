"""What a script creates for its own use: temporary tables and views it creates and drops again
(`CREATE TEMP TABLE t AS ...; INSERT ... SELECT FROM t; DROP TABLE t`: the drop destroys only
what the script made), and routines whose bodies it defines (a later call is not opaque).

A temporary object lives in the session's own schema, which the database searches first, so a
later `DROP TABLE t` (or `DROP TABLE temp.t`) removes it, not a kept table of the same name. Each
creation covers one drop: a second `DROP TABLE t` reaches the kept table again.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from guardrails_core.model import (
    Finding,
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
    sorted_intents,
)
from guardrails_core.yaml_data import load_yaml

_SCRATCH_FILE = Path(__file__).parent.parent / "rules" / "sql_scratch.yaml"


@functools.cache
def _scratch_names() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    data = load_yaml(_SCRATCH_FILE.read_text(encoding="utf-8"))
    return (
        frozenset(map(str, data["schemas"])),
        tuple(map(str, data["personal_prefixes"])),
        tuple(map(str, data["prefixes"])),
        tuple(map(str, data["suffixes"])),
    )


def scratch_table(table: exp.Expr | None) -> bool:
    """A table that is scratch by its name (rules/sql_scratch.yaml): `scratch.daily`, `tmp_x`,
    or any table of a scratch database (Snowflake `SCRATCH.JDOE.ORDERS_SAMPLE`: one schema per
    person in a database kept for scratch work)."""
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table) or not table.name:
        return False
    return scratch_name(table.db, table.name) or scratch_database(table.catalog)


def scratch_database(catalog: str | None) -> bool:
    """A database (catalog) that is scratch by its name, as a scratch schema is."""
    return bool(catalog) and scratch_name(catalog, "")


def scratch_name(schema: str | None, name: str) -> bool:
    """`scratch.daily`, `tmp_x` by its schema and name (rules/sql_scratch.yaml)."""
    schemas, _, prefixes, suffixes = _scratch_names()
    name = name.lower()
    return (
        (schema or "").lower() in schemas
        or personal_scratch(schema)
        or name.startswith(prefixes)
        or name.endswith(suffixes)
    )


def personal_scratch(schema: str | None) -> bool:
    """One person's scratch dataset by its name (`scratch_jlee`: rules/sql_scratch.yaml)."""
    return (schema or "").lower().startswith(_scratch_names()[1])


# Schemas that name the session's temporary objects (SQLite `temp`, PostgreSQL `pg_temp`,
# BigQuery `_SESSION`).
TEMPORARY_SCHEMAS = frozenset({"temp", "pg_temp", "_session"})
_KINDS = frozenset({"TABLE", "VIEW"})


# Where a name starting with # is a temporary table; elsewhere "#orders" is an ordinary table.
TEMPORARY_HASH_DIALECTS = frozenset({"tsql", "fabric"})


def _temporary_name(table: exp.Expr | None, dialect: str | None) -> bool:
    """T-SQL `#work` / `##work`, or a table variable `@work` (declared by the batch, gone at its
    end)."""
    if not isinstance(table, exp.Table) or dialect not in TEMPORARY_HASH_DIALECTS:
        return False
    identifier = table.this
    if isinstance(identifier, exp.Parameter):
        return not table.db and not table.catalog
    return table.name.startswith("#") or bool(
        isinstance(identifier, exp.Identifier) and identifier.args.get("temporary")
    )


# The schema (DuckDB: catalog) that holds only the session's own temporary objects, in the
# dialects where no kept schema can take its name (SQLite refuses to ATTACH as temp; PostgreSQL's
# pg_temp is an alias of the session's temporary schema; BigQuery's _SESSION is the session's):
# elsewhere (MySQL, Trino) `temp` is an ordinary schema. Found blind by red team set AA, aa-sql-072.
# Spark's `global_temp` is the database it reserves for global temporary views: they live as long
# as the application that made them, and no kept table or view can be created there.
_SESSION_SCHEMAS = {
    "sqlite": "temp",
    "duckdb": "temp",
    "postgres": "pg_temp",
    "bigquery": "_session",
    "spark": "global_temp",
    "spark2": "global_temp",
    "databricks": "global_temp",
}


def global_temporary(table: exp.Expr | None, dialect: str | None) -> bool:
    """T-SQL `##share`: a temporary table every session on the server can read and write, not
    one session's scratch (it lasts while any session uses it); so is an ordinary table made in
    tempdb (`tempdb.dbo.share`: tempdb lets every login in)."""
    if not isinstance(table, exp.Table) or dialect not in TEMPORARY_HASH_DIALECTS:
        return False
    identifier = table.this
    if isinstance(identifier, exp.Identifier) and identifier.args.get("global_"):
        return True
    if table.catalog.lower() == "tempdb":
        return not _temporary_name(table, dialect)
    return table.name.startswith("##")


def session_table(table: exp.Expr | None, dialect: str | None) -> bool:
    """A temporary table by how it is named: T-SQL `#work`, SQLite `temp.work`, PostgreSQL
    `pg_temp.work`: only the session's own scratch answers to the name."""
    if _temporary_name(table, dialect):
        return True
    schema = _SESSION_SCHEMAS.get(dialect or "")
    if not isinstance(table, exp.Table) or schema is None:
        return False
    catalog, db = table.catalog.lower(), table.db.lower()
    return (not catalog and db == schema) or (dialect == "duckdb" and catalog == schema)


@dataclass(frozen=True)
class ScratchRows:
    """What a script's temporary table holds: only rows a restricting filter picked (or literal
    VALUES), every row of `copy_of` (a fill without one), or neither known (both unset)."""

    picked: bool = False
    copy_of: exp.Table | None = None
    # its column names, when the CREATE listed them (a later ALTER forgets them)
    columns: frozenset[str] | None = None
    # the CREATE ... AS query that filled it, while nothing else has (kept_per_key.py reads it)
    fill: exp.Expr | None = None


def scratch_key(table: exp.Table, dialect: str | None) -> str | None:
    """How a script's temporary table is named wherever it is used (T-SQL keeps `#`), or None
    for a name that cannot be one (a catalog, or a schema other than the session's own)."""
    if not table.name or table.args.get("catalog"):
        return None
    if table.db and table.db.lower() not in TEMPORARY_SCHEMAS:
        return None
    return ("#" if _temporary_name(table, dialect) else "") + table.name.lower()


def created_temporaries(tree: exp.Expr | None) -> list[tuple[str, str]]:
    """(kind, lower-case name) of the temporary table or view `tree` creates, if it does."""
    if not isinstance(tree, exp.Create) or str(tree.args.get("kind") or "").upper() not in _KINDS:
        return []
    properties = tree.args.get("properties")
    if properties is None or not any(
        isinstance(p, exp.TemporaryProperty) for p in properties.expressions
    ):
        return []
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if not isinstance(table, exp.Table) or not table.name or table.args.get("catalog"):
        return []
    return [(str(tree.args["kind"]).upper(), _own_key(table))]


def _own_key(table: exp.Table) -> str:
    """A temporary's name as the script uses it: T-SQL `#orders` is not `orders` (nor `##x`)."""
    identifier = table.this
    flags = identifier.args if isinstance(identifier, exp.Identifier) else {}
    hashes = "##" if flags.get("global_") else "#" if flags.get("temporary") else ""
    return hashes + table.name.lower()


# Statements that change where an unqualified name is looked up (PostgreSQL's search_path, with
# pg_temp moved after public; MySQL's and Snowflake's USE, whose temporary tables belong to the
# database or schema they were made in; Oracle's CURRENT_SCHEMA).
_NAME_RESOLUTION = re.compile(
    r"\bsearch_path\b|\bcurrent_schema\b|^\s*USE\b|^\s*SET\s+SCHEMA\b", re.IGNORECASE
)


# Statements that end the session's temporary tables before the session ends (PostgreSQL's
# DISCARD TEMP / DISCARD ALL): after one, a name the script gave a temporary table is a kept
# table's again.
_ENDS_TEMPORARIES = re.compile(r"^\s*DISCARD\s+(TEMP|TEMPORARY|ALL)\b", re.IGNORECASE)


def ends_temporaries(text: str) -> bool:
    """Whether the statement drops every temporary table of the session at once."""
    return _ENDS_TEMPORARIES.search(text) is not None


def changes_name_resolution(text: str) -> bool:
    """Whether the statement may point the script's unqualified names elsewhere: after it, a
    name the script gave a temporary table may be a kept table's."""
    return _NAME_RESOLUTION.search(text) is not None


def created_routines(effect: StatementEffect) -> list[str]:
    """Lower-case names (as created, and qualified) of the functions and procedures the
    statement creates (their bodies are analysed there, so a later call in the same script is
    not opaque)."""
    return [
        name.lower()
        for ref in effect.objects
        if ref.kind is ObjectKind.FUNCTION
        and ref.action in (ObjectAction.CREATE, ObjectAction.REPLACE)
        for name in {ref.name, ref.qualified}
    ]


def drops_temporaries(tree: exp.Expr | None, temporaries: list[tuple[str, str]]) -> bool:
    """Whether `tree` drops only temporaries this script created (each used up by its drop)."""
    if not isinstance(tree, exp.Drop) or str(tree.args.get("kind") or "").upper() not in _KINDS:
        return False
    kind = str(tree.args["kind"]).upper()
    return _own(tree.args.get("tables") or [tree.this], kind, temporaries, consume=True)


def truncates_temporaries(tree: exp.Expr | None, temporaries: list[tuple[str, str]]) -> bool:
    """Whether `tree` empties (TRUNCATE, or DELETE with or without a filter) only temporary
    tables this script created (they stay created): the rows it loses are the script's own."""
    if isinstance(tree, exp.Delete) and not tree.args.get("tables"):
        targets = [tree.this]
    elif isinstance(tree, exp.TruncateTable):
        targets = tree.expressions
    else:
        return False
    return bool(targets) and _own(targets, "TABLE", temporaries, consume=False)


def deletes_from_temporaries(tree: exp.Expr | None, temporaries: list[tuple[str, str]]) -> bool:
    """Whether `tree` deletes rows only of a temporary table this script created (the name is
    the script's temporary table, which hides a kept table of the same name)."""
    if not isinstance(tree, exp.Delete) or tree.args.get("tables"):
        return False
    return _own([tree.this], "TABLE", temporaries, consume=False)


def _own(
    targets: list[exp.Expr], kind: str, temporaries: list[tuple[str, str]], *, consume: bool
) -> bool:
    wanted: list[tuple[str, str]] = []
    for target in targets:
        if not isinstance(target, exp.Table) or target.args.get("catalog"):
            return False
        if target.db and target.db.lower() not in TEMPORARY_SCHEMAS:
            return False
        wanted.append((kind, _own_key(target)))
    available = list(temporaries)
    for key in wanted:
        if key not in available:
            return False
        available.remove(key)
    if consume:
        temporaries[:] = available
    return True


def as_temporary_drop(effect: StatementEffect) -> StatementEffect:
    """The drop of a script's own temporary object: a schema change that destroys no kept data."""
    message = "drops a temporary table or view this script created: no kept data is destroyed"
    return without_data_loss(effect, Intent.SCHEMA_CHANGE, message)


def as_temporary_truncate(effect: StatementEffect) -> StatementEffect:
    """Emptying a script's own temporary table: a write to scratch rows, no kept data lost."""
    message = "empties a temporary table this script created: no kept data is destroyed"
    return without_data_loss(effect, Intent.WRITE, message)


def as_temporary_delete(effect: StatementEffect) -> StatementEffect:
    """Deleting rows of a script's own temporary table: a write to scratch rows."""
    message = "deletes rows of a temporary table this script created: no kept data is destroyed"
    return without_data_loss(effect, Intent.WRITE, message)


def without_data_loss(effect: StatementEffect, intent: Intent, message: str) -> StatementEffect:
    lost = {Intent.DELETE, Intent.MASS_MUTATION}
    return effect.model_copy(
        update={
            "intents": sorted_intents((set(effect.intents) - lost) | {intent}),
            "objects": tuple(
                o
                for o in effect.objects
                if o.action not in (ObjectAction.DROP, ObjectAction.DELETE)
            ),
            "findings": (
                *(f for f in effect.findings if f.intent not in lost),
                Finding(intent=intent, message=message),
            ),
        }
    )
