"""Snowflake `ALTER TABLE a SWAP WITH b` where the script created `b` empty (`CREATE TABLE b LIKE
a`, a column list) and wrote nothing into it: `a` is left with no rows, and its rows now sit in
`b`, which scripts drop next. A swap with a table that holds rows (a clone, CREATE TABLE ... AS,
rows inserted since) is the usual blue/green switch and stays a swap.
"""

from __future__ import annotations

import re

from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.trees import updated
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
