"""Writes into a table that an earlier statement of the same script created over storage outside
the database (Trino/Hive `external_location`, Spark/Databricks `LOCATION`, ClickHouse S3/URL
engines): the rows go to that location, so the write is an export to it.

`CREATE TABLE ... AS SELECT` over such storage is already an export where it is analysed (ddl.py);
this pass covers the two-step form, `CREATE TABLE x (...) WITH (external_location = ...)` then
`INSERT INTO x SELECT ...`, in one script. Spark's data-source view (`CREATE TEMPORARY VIEW x
USING jdbc OPTIONS (url ...)`) is such a table too: an insert into it writes to the source, and
so is PostgreSQL's foreign table (CREATE FOREIGN TABLE ... SERVER s, IMPORT FOREIGN SCHEMA ...
FROM SERVER s INTO local): its rows live on the foreign server.
"""

from __future__ import annotations

import re

from guardrails_core.intent.sql.trees import updated
from guardrails_core.model import (
    Finding,
    Intent,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    StatementEffect,
    sorted_intents,
)

_OUTSIDE = frozenset({ObjectKind.URL, ObjectKind.FILE, ObjectKind.STAGE})
_FILLS = frozenset({ObjectAction.WRITE, ObjectAction.REPLACE})
_STORED = frozenset({ObjectKind.TABLE, ObjectKind.VIEW})


def _made(ref: ObjectRef, effect: StatementEffect) -> bool:
    """CREATE [OR REPLACE] made the table or view (not INSERT OVERWRITE's replace)."""
    return ref.action is ObjectAction.CREATE or (
        ref.action is ObjectAction.REPLACE and effect.operation.upper().startswith("CREATE")
    )


def _table_key(ref: ObjectRef) -> str:
    return ref.qualified.lower()


_SERVER = re.compile(r"\bSERVER\s+\"?([\w$]+)", re.IGNORECASE)
_IMPORT = re.compile(
    r"^\s*IMPORT\s+FOREIGN\s+SCHEMA\s+\S+\s+(?:LIMIT\s+TO\s*\((?P<only>[^)]*)\)\s+)?"
    r"(?:EXCEPT\s*\([^)]*\)\s+)?FROM\s+SERVER\s+\"?(?P<server>[\w$]+)\"?\s+INTO\s+\"?(?P<into>[\w$]+)",
    re.IGNORECASE,
)


def _foreign_tables(effect: StatementEffect) -> tuple[ObjectRef, list[str]] | None:
    """The foreign server and the tables (`schema.*`: all of a schema) a CREATE FOREIGN TABLE
    or IMPORT FOREIGN SCHEMA puts on it."""
    operation = effect.operation.upper()
    if operation == "CREATE FOREIGN TABLE" and (server := _SERVER.search(effect.text)):
        tables = [_table_key(o) for o in effect.objects if o.kind is ObjectKind.TABLE]
        return _server(server.group(1)), tables
    imported = _IMPORT.match(effect.text) if operation == "IMPORT FOREIGN SCHEMA" else None
    if imported is None:
        return None
    into = imported["into"].lower()
    only = [name.strip().strip('"').lower() for name in (imported["only"] or "").split(",")]
    tables = [f"{into}.{name}" for name in only if name] or [f"{into}.*"]
    return _server(imported["server"]), tables


def _server(name: str) -> ObjectRef:
    return ObjectRef(kind=ObjectKind.HOST, action=ObjectAction.READ, name=name.lower())


def _stored_at(stored_at: dict[str, tuple[ObjectRef, ...]], key: str) -> tuple[ObjectRef, ...]:
    schema = key.rsplit(".", 1)[0] if "." in key else ""
    return stored_at.get(key) or stored_at.get(f"{schema}.*", ())


def writes_to_external_tables(effects: list[StatementEffect]) -> list[StatementEffect]:
    """`effects` with each write into a table created earlier over outside storage named an
    export to that storage."""
    stored_at: dict[str, tuple[ObjectRef, ...]] = {}
    result: list[StatementEffect] = []
    for effect in effects:
        foreign = _foreign_tables(effect)
        if foreign is not None:
            stored_at.update((table, (foreign[0],)) for table in foreign[1])
            result.append(effect)
            continue
        created = [o for o in effect.objects if o.kind in _STORED and _made(o, effect)]
        outside = tuple(o for o in effect.objects if o.kind in _OUTSIDE)
        if created and outside:
            for table in created:
                stored_at[_table_key(table)] = outside
            result.append(effect)
            continue
        locations = [
            location
            for ref in effect.objects
            if ref.kind is ObjectKind.TABLE and ref.action in _FILLS
            for location in _stored_at(stored_at, _table_key(ref))
        ]
        if not locations:
            result.append(effect)
            continue
        targets = tuple(
            ObjectRef(kind=location.kind, action=ObjectAction.EXPORT_TARGET, name=location.name)
            for location in locations
        )
        findings = tuple(
            Finding(
                intent=Intent.EXPORT,
                message=f"writes into a table an earlier statement stored at {target.name}: "
                "the rows leave the database",
            )
            for target in targets
        )
        result.append(
            updated(
                effect,
                {
                    "intents": sorted_intents({*effect.intents, Intent.EXPORT}),
                    "objects": (*effect.objects, *targets),
                    "findings": (*effect.findings, *findings),
                },
            )
        )
    return result
