"""The schema a script switches to (`USE SCHEMA dev.scratch_jdoe`, `SET search_path = scratch`):
the unqualified names of the statements after it are that schema's, so a later
`DROP TABLE tmp_dedup` is judged as the drop of `scratch_jdoe.tmp_dedup`.

Only a switch to one schema counts: with `search_path = scratch, public` an unqualified name may
resolve to `public`, and it stays unqualified."""

from __future__ import annotations

import dataclasses
import re

from sqlglot import exp

from guardrails_core.intent.sql.dialects import MYSQL_FAMILY
from guardrails_core.intent.sql.statement import _Chunk, _Names, _Statement
from guardrails_core.model import Intent, ObjectAction, ObjectKind

# Where a plain `USE name` makes `name` the schema of unqualified tables (elsewhere, e.g. T-SQL,
# USE changes the database and leaves the schema to the login's default).
_USE_SCHEMA_DIALECTS = MYSQL_FAMILY | {"clickhouse", "spark", "databricks", "hive"}
_SEARCH_PATH_DIALECTS = frozenset({"postgres", "redshift"})


def switched_names(tree: exp.Expr | None, names: _Names, dialect: str | None) -> _Names | None:
    """`names` with the default schema (and catalog) the statement switches to, or None when it
    switches nothing."""
    if isinstance(tree, exp.Use):
        kind = str(tree.args.get("kind") or "").upper()
        if dialect == "snowflake" and kind == "DATABASE":
            return _snowflake_database(tree, names)
        if dialect == "snowflake" and kind != "SCHEMA":
            return None
        if dialect != "snowflake" and (kind or dialect not in _USE_SCHEMA_DIALECTS):
            return None
        target = tree.this
        if not isinstance(target, exp.Table) or not target.name or target.args.get("catalog"):
            return None
        catalog = names.identifier(target.args.get("db")) or names.default_catalog
        return dataclasses.replace(
            names, default_schema=names.identifier(target.this), default_catalog=catalog
        )
    if isinstance(tree, exp.Set) and dialect in _SEARCH_PATH_DIALECTS:
        schema = _one_schema_search_path(tree)
        if schema:
            return dataclasses.replace(names, default_schema=schema)
    return None


def _snowflake_database(tree: exp.Use, names: _Names) -> _Names | None:
    """Snowflake's `USE DATABASE d`: unqualified names resolve in d's PUBLIC schema."""
    target = tree.this
    if not isinstance(target, exp.Table) or target.args.get("db") or not target.name:
        return None
    public = names.identifier(exp.to_identifier("public"))
    return dataclasses.replace(
        names, default_schema=public, default_catalog=names.identifier(target.this)
    )


def handle_use(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """`USE SCHEMA db.s` names the schema s of database db (not a table s in a schema db),
    `USE SCHEMA s` the schema s of the current database, `USE DATABASE d` the database d. Other
    USEs (a warehouse, a role, a plain `USE x`) read as the name they give."""
    kind = _USE_KINDS.get(str(node.args.get("kind") or "").upper())
    target = node.this
    if kind is None or not isinstance(target, exp.Table) or target.args.get("catalog"):
        return
    names = statement.names
    name = names.identifier(target.this)
    if not name:
        return
    statement.claimed_tables.add(id(target))
    statement.add(Intent.READ, f"USE names the {kind.value} that unqualified names resolve in")
    if kind is ObjectKind.DATABASE:
        statement.obj(kind, ObjectAction.READ, name)
        return
    catalog = names.identifier(target.args.get("db")) or names.default_catalog
    statement.obj(kind, ObjectAction.READ, name, catalog=catalog or None)


_USE_KINDS = {
    "SCHEMA": ObjectKind.SCHEMA,
    "DATABASE": ObjectKind.DATABASE,
    "CATALOG": ObjectKind.DATABASE,
}


def _one_schema_search_path(tree: exp.Set) -> str | None:
    """`SET search_path = scratch` (one schema, no `$user`): the schema, else None."""
    items = tree.expressions
    if len(items) != 1 or not isinstance(items[0], exp.SetItem):
        return None
    assignment = items[0].this
    if not isinstance(assignment, exp.EQ) or assignment.this.name.lower() != "search_path":
        return None
    value = assignment.expression
    if not isinstance(value, exp.Var | exp.Literal | exp.Column | exp.Identifier):
        return None
    schema = str(value.name).strip()
    if not schema or "," in schema or "$" in schema or '"' in schema:
        return None
    return schema.lower()


# `SET [SESSION | LOCAL] search_path ... pg_temp ...`: where the path names pg_temp explicitly.
_PATH_WITH_TEMP = re.compile(
    r"(?is)\A\s*SET\s+(?:(?:SESSION|LOCAL)\s+)?search_path\s*(?:=|\bTO\b)\s*(?P<path>.*?)\s*;?\s*\Z"
)


def temporaries_searched_late(text: str, dialect: str | None) -> bool:
    """PostgreSQL searches the session's temporary schema first unless the search_path names
    pg_temp later (`SET search_path = public, pg_temp`): from then on an unqualified name reaches
    the kept table before the script's temporary table of the same name."""
    if dialect not in _SEARCH_PATH_DIALECTS:
        return False
    match = _PATH_WITH_TEMP.match(text)
    if match is None:
        return False
    schemas = [part.strip().strip("'\"").lower() for part in match["path"].split(",")]
    return "pg_temp" in schemas[1:]
