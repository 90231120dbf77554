"""Tables that take another's place holding fewer rows.

Snowflake `ALTER TABLE a SWAP WITH b` where the script created `b` empty (`CREATE TABLE b LIKE
a`, a column list) and wrote nothing into it: `a` is left with no rows, and its rows now sit in
`b`, which scripts drop next. A swap with a table that holds rows (a clone, CREATE TABLE ... AS,
rows inserted since) is the usual blue/green switch and stays a swap. A deep copy renamed over
its dropped original holds only the rows its fill's filter kept (renames_partial_copies).
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from guardrails_core.intent.predicates import predicate_truth
from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.trees import tree_of, updated
from guardrails_core.model import Finding, StatementEffect, sorted_intents

_SWAP = re.compile(r"\bSWAP\s+WITH\b", re.IGNORECASE)
_CLONE = re.compile(r"\bCLONE\b", re.IGNORECASE)


def swaps_with_empty_tables(effects: list[StatementEffect]) -> list[StatementEffect]:
    empty: set[str] = set()
    result: list[StatementEffect] = []
    for effect in effects:
        tables = {o.qualified.lower(): o for o in effect.objects if o.kind is K.TABLE}
        if effect.operation.upper().startswith("CREATE TABLE") and I.WRITE not in effect.intents:
            if not _CLONE.search(effect.text):
                empty.update(key for key, o in tables.items() if o.action is A.CREATE)
        elif _SWAP.search(effect.text) and len(tables) == 2 and len(empty & set(tables)) == 1:
            kept = next(key for key in tables if key not in empty)
            finding = Finding(
                intent=I.MASS_MUTATION,
                message=f"SWAP WITH a table this script created empty leaves {kept} with no rows",
            )
            intents = sorted_intents({*effect.intents, I.DELETE, I.MASS_MUTATION})
            effect = updated(effect, {"intents": intents, "findings": (*effect.findings, finding)})
        else:
            empty.difference_update(
                key for key, o in tables.items() if o.action in (A.WRITE, A.REPLACE, A.RENAME)
            )
        result.append(effect)
    return result


def renames_partial_copies(effects: list[StatementEffect]) -> list[StatementEffect]:
    """A deep copy that keeps only some rows: `CREATE TABLE t_new (LIKE t); INSERT INTO t_new
    SELECT * FROM t WHERE <filter>; DROP TABLE t; ALTER TABLE t_new RENAME TO t`. The table that
    takes t's name holds only the rows the filter kept; the rest went with the drop (found by red
    team set N: a re-sort copy that lost every year before the filter's)."""
    empty: set[str] = set()
    partial: dict[str, str] = {}  # copy -> the table whose filtered rows it holds
    dropped: set[str] = set()
    result: list[StatementEffect] = []
    for effect in effects:
        tables = {o.qualified.lower(): o for o in effect.objects if o.kind is K.TABLE}
        operation = effect.operation.upper()
        if operation.startswith("CREATE TABLE") and I.WRITE not in effect.intents:
            empty.update(key for key, o in tables.items() if o.action is A.CREATE)
        elif operation == "INSERT":
            _note_copy(effect, tables, empty, partial)
        elif operation.startswith("DROP"):
            dropped.update(key for key, o in tables.items() if o.action is A.DROP)
        elif operation.endswith("RENAME"):
            old = next((key for key, o in tables.items() if o.action is A.RENAME), None)
            new = next((key for key, o in tables.items() if o.action is A.CREATE), None)
            source = partial.get(old or "")
            if source is not None and source in dropped and _same_table(source, new or ""):
                finding = Finding(
                    intent=I.MASS_MUTATION,
                    message=f"{old} takes the name of the dropped {source} holding only the rows "
                    "a filter copied: every other row of it is gone",
                )
                intents = sorted_intents({*effect.intents, I.DELETE, I.MASS_MUTATION})
                effect = updated(
                    effect, {"intents": intents, "findings": (*effect.findings, finding)}
                )
        result.append(effect)
    return result


def _note_copy(
    effect: StatementEffect, tables: dict[str, Any], empty: set[str], partial: dict[str, str]
) -> None:
    written = [key for key, o in tables.items() if o.action is A.WRITE]
    read = [key for key, o in tables.items() if o.action is A.READ]
    tree = tree_of(effect)
    query = tree.expression if isinstance(tree, exp.Insert) else None
    if len(written) != 1 or len(read) != 1 or not isinstance(query, exp.Select):
        for key in written:
            partial.pop(key, None)
        return
    target = written[0]
    where = query.args.get("where")
    filtered = (where is not None and predicate_truth(where.this) is not True) or query.args.get(
        "limit"
    ) is not None
    if target in empty and filtered:
        partial[target] = read[0]
    else:
        partial.pop(target, None)
    empty.discard(target)


def _same_table(source: str, renamed: str) -> bool:
    """`sales.fact_sales` and the rename's `fact_sales` (a rename keeps the schema)."""
    return source == renamed or source.rsplit(".", 1)[-1] == renamed.rsplit(".", 1)[-1]
