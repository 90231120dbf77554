"""Writes into a table that an earlier statement of the same script created over storage outside
the database (Trino/Hive `external_location`, Spark/Databricks `LOCATION`, ClickHouse S3/URL
engines): the rows go to that location, so the write is an export to it.

`CREATE TABLE ... AS SELECT` over such storage is already an export where it is analysed (ddl.py);
this pass covers the two-step form, `CREATE TABLE x (...) WITH (external_location = ...)` then
`INSERT INTO x SELECT ...`, in one script. Spark's data-source view (`CREATE TEMPORARY VIEW x
USING jdbc OPTIONS (url ...)`) is such a table too: an insert into it writes to the source.
"""

from __future__ import annotations

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


def writes_to_external_tables(effects: list[StatementEffect]) -> list[StatementEffect]:
    """`effects` with each write into a table created earlier over outside storage named an
    export to that storage."""
    stored_at: dict[str, tuple[ObjectRef, ...]] = {}
    result: list[StatementEffect] = []
    for effect in effects:
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
            for location in stored_at.get(_table_key(ref), ())
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
