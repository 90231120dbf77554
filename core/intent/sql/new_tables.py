"""Expiry set on a table the same script created: `CREATE TABLE scratch.x AS ...; ALTER TABLE
scratch.x SET OPTIONS (expiration_timestamp = ...)`. The table holds only what the script put in
it, so an expiration (or TTL) cleans up after the script and deletes no kept data. The effect
rows that say so carry `spared_on_new_tables` (rules/sql_effects.yaml).

A table that is scratch by its name (rules/sql_scratch.yaml) is spared too: what it holds is
rebuilt by the job that owns it.

Not a table created with IF NOT EXISTS (it may have existed, with its rows) or OR REPLACE (a
replace is judged as one), nor one that a statement in between renamed or replaced.
"""

from __future__ import annotations

import re

from guardrails_core.intent.sql.temporaries import (
    personal_scratch,
    scratch_name,
    without_data_loss,
)
from guardrails_core.intent.sql.trees import updated
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    StatementEffect,
    sorted_intents,
)

_PLAIN_CREATE = re.compile(
    r"\s*CREATE\s+(?:(?:GLOBAL|LOCAL|TEMP|TEMPORARY|TRANSIENT|UNLOGGED)\s+)*TABLE\s+(?!IF\b)",
    re.IGNORECASE,
)


def _spared(table: ObjectRef, created: set[str]) -> bool:
    """Created by the script, or scratch by its name (an expiry on `scratch.tmp_backfill` cleans
    up what a job rebuilds, as replacing it would: rules/sql_scratch.yaml)."""
    return table.qualified.lower() in created or scratch_name(table.schema_name, table.name)


def _any_spared(effects: list[StatementEffect], spared: frozenset[str]) -> bool:
    # Loops, not a generator over every finding: most statements have no finding at all, and
    # this runs on every analysis.
    for effect in effects:
        for finding in effect.findings:
            if finding.message in spared:
                return True
    return False


# After these a table the script made still holds only rows the script put there (rows
# written into it are copies); a rename or replace may bring kept rows under its name.
_KEEPS_OWN_ROWS = frozenset({ObjectAction.ALTER, ObjectAction.WRITE, ObjectAction.DELETE})


def spare_new_tables(
    effects: list[StatementEffect], spared: frozenset[str]
) -> list[StatementEffect]:
    """`effects` with each spared finding dropped where every table it alters was created by
    an earlier statement of the script."""
    if not _any_spared(effects, spared):
        return effects  # most scripts: no expiry to spare
    created: set[str] = set()
    result: list[StatementEffect] = []
    for effect in effects:
        tables = [o for o in effect.objects if o.kind is ObjectKind.TABLE]
        if _PLAIN_CREATE.match(effect.text):
            created.update(o.qualified.lower() for o in tables if o.action is ObjectAction.CREATE)
        # (two tables the script made, swapped, still hold only its rows)
        elif not (_swaps(effect) and all(_spared(o, created) for o in tables)):
            created.difference_update(
                o.qualified.lower() for o in tables if o.action not in _KEEPS_OWN_ROWS
            )
            if Intent.DELETE in effect.intents and any(not _spared(o, created) for o in tables):
                # rows taken out of a kept table (MOVE PARTITION ... TO TABLE, APPEND FROM) may
                # now be held only by a table the script made
                created.clear()
        dropped = [f for f in effect.findings if f.message in spared]
        if not dropped or not tables or any(not _spared(o, created) for o in tables):
            result.append(effect)
            continue
        kept = tuple(f for f in effect.findings if f.message not in spared)
        lost = {f.intent for f in dropped} - {f.intent for f in kept}
        intents = sorted_intents(set(effect.intents) - lost)
        result.append(updated(effect, {"intents": intents, "findings": kept}))
    return result


_SWAP = re.compile(r"\s*(?:ALTER\s+TABLE\b.*\bSWAP\s+WITH|EXCHANGE\s+TABLES)\b", re.I | re.S)


def _swaps(effect: StatementEffect) -> bool:
    """Snowflake's SWAP WITH, ClickHouse's EXCHANGE TABLES: two tables trade their rows."""
    return _SWAP.match(effect.text) is not None


_SCRATCH_DROP = "drops a scratch table (personal, or made by this script): no kept data is lost"
# Actions after which kept rows may sit under a scratch name.
_MOVES = frozenset({ObjectAction.RENAME, ObjectAction.REPLACE, ObjectAction.ALTER})


def drops_own_scratch(
    effects: list[StatementEffect], created: set[str], *, by_name: bool = False
) -> list[StatementEffect]:
    """`CREATE TABLE scratch.dq_tmp ...` then `DROP TABLE scratch.dq_tmp`, in one script or in
    separate client calls of one shell script (`created` carries what earlier calls made): the
    drop removes a scratch table the script made. Both conditions: a plain CREATE that failed
    because the table existed would leave a kept table under a name that is not scratch.

    `by_name` (one SQL script): a table in a personal scratch dataset is spared without the
    CREATE too, unless an earlier statement deleted rows or renamed, swapped or altered a table:
    kept rows may have moved there (`RENAME TO`, `SWAP WITH`, `MOVE PARTITION ... TO TABLE`)."""
    result: list[StatementEffect] = []
    moved = False
    for effect in effects:
        tables = [o for o in effect.objects if o.kind is ObjectKind.TABLE]
        dropped = [o for o in effect.objects if o.action is ObjectAction.DROP]
        if _PLAIN_CREATE.match(effect.text):
            created.update(
                o.qualified.lower()
                for o in tables
                if o.action is ObjectAction.CREATE and scratch_name(o.schema_name, o.name)
            )
        elif dropped and all(
            o.kind is ObjectKind.TABLE
            and (
                o.qualified.lower() in created
                or (by_name and not moved and personal_scratch(o.schema_name))
            )
            for o in dropped
        ):
            created.difference_update(o.qualified.lower() for o in dropped)
            effect = without_data_loss(effect, Intent.SCHEMA_CHANGE, _SCRATCH_DROP)
        moved = (
            moved
            or Intent.DELETE in effect.intents
            or any(o.action in _MOVES for o in effect.objects)
        )
        result.append(effect)
    return result


_PLAIN_CREATE_SCHEMA = re.compile(r"\s*CREATE\s+SCHEMA\s+(?!IF\b)", re.IGNORECASE)
_OWN_SCHEMA_DROP = "drops a schema this script created: it holds only what the script put there"


def drops_own_schemas(effects: list[StatementEffect]) -> list[StatementEffect]:
    """`CREATE SCHEMA ci_run_4821; ...; DROP SCHEMA ci_run_4821 CASCADE`: a CI run's teardown
    of the schema it made, as a scratch table it made is dropped (drops_own_scratch). Not one
    created with IF NOT EXISTS (it may have existed, with kept tables), nor after a statement
    that deleted rows or renamed, replaced or altered an object: kept tables or rows may have
    moved in (`ALTER TABLE public.orders SET SCHEMA ci_run_4821`)."""
    created: set[str] = set()
    result: list[StatementEffect] = []
    for effect in effects:
        dropped = [o for o in effect.objects if o.action is ObjectAction.DROP]
        if _PLAIN_CREATE_SCHEMA.match(effect.text):
            created.update(
                o.qualified.lower()
                for o in effect.objects
                if o.kind is ObjectKind.SCHEMA and o.action is ObjectAction.CREATE
            )
        elif dropped and all(
            o.kind is ObjectKind.SCHEMA and o.qualified.lower() in created for o in dropped
        ):
            created.difference_update(o.qualified.lower() for o in dropped)
            effect = without_data_loss(effect, Intent.SCHEMA_CHANGE, _OWN_SCHEMA_DROP)
            # CASCADE reaches only what depends on the schema's objects, made after it: the
            # script's own
            effect = updated(effect, {"operation": effect.operation.removesuffix(" CASCADE")})
        elif Intent.DELETE in effect.intents or any(o.action in _MOVES for o in effect.objects):
            created.clear()
        result.append(effect)
    return result
