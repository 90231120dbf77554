"""Spark's `INSERT OVERWRITE t PARTITION (dt) SELECT ...`, a partition column given no value:
what it deletes depends on `spark.sql.sources.partitionOverwriteMode`, when an earlier statement
of the script sets it. `dynamic`: only the partitions its rows fall in are replaced, as when
each partition is named (`PARTITION (dt = '2025-07-01')`). `static`: every partition the spec
matches (with no value, every partition of the table) is deleted first. Not set, the table's
format decides, and the statement stays a replace of the table (reviewed). With no PARTITION
clause at all, `static` replaces the whole table (delete, mass_mutation).
"""

from __future__ import annotations

import re

from sqlglot import exp

from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.trees import tree_of, updated
from guardrails_core.model import Finding, StatementEffect, sorted_intents

_MODE = re.compile(
    r"\bspark\.sql\.sources\.partitionOverwriteMode\s*=\s*['\"]?(dynamic|static)\b", re.IGNORECASE
)


def judge_partition_overwrites(effects: list[StatementEffect]) -> list[StatementEffect]:
    mode: str | None = None
    result: list[StatementEffect] = []
    for effect in effects:
        setting = _MODE.search(effect.text) if effect.operation.upper() == "SET" else None
        if setting is not None:
            mode = setting.group(1).lower()
        elif mode is not None and _unvalued_partition(effect):
            effect = _dynamic(effect) if mode == "dynamic" else _static(effect)
        elif mode == "static" and _whole_table_overwrite(effect):
            effect = _static(
                effect
            )  # dynamic leaves it a replace: the table may have no partitions
        result.append(effect)
    return result


def _unvalued_partition(effect: StatementEffect) -> bool:
    """An INSERT OVERWRITE whose PARTITION clause leaves a column without a value."""
    tree = tree_of(effect)
    if not isinstance(tree, exp.Insert) or not tree.args.get("overwrite"):
        return False
    target = tree.this
    partition = target.args.get("partition") if isinstance(target, exp.Table) else None
    if not isinstance(partition, exp.Partition):
        return False
    return any(
        not (isinstance(item, exp.EQ) and isinstance(item.expression, exp.Literal))
        for item in partition.expressions
    )


def _whole_table_overwrite(effect: StatementEffect) -> bool:
    """An INSERT OVERWRITE with no PARTITION clause (found by red team set N: a one-day backfill
    under static mode replaces every day of the table)."""
    tree = tree_of(effect)
    if not isinstance(tree, exp.Insert) or not tree.args.get("overwrite"):
        return False
    target = tree.this
    return isinstance(target, exp.Table) and target.args.get("partition") is None


def _dynamic(effect: StatementEffect) -> StatementEffect:
    objects = tuple(
        ref.model_copy(update={"action": A.WRITE})
        if ref.kind is K.TABLE and ref.action is A.REPLACE
        else ref
        for ref in effect.objects
    )
    finding = Finding(
        intent=I.WRITE,
        message="partitionOverwriteMode is dynamic: INSERT OVERWRITE replaces only the "
        "partitions its rows fall in",
    )
    return updated(effect, {"objects": objects, "findings": (*effect.findings, finding)})


def _static(effect: StatementEffect) -> StatementEffect:
    finding = Finding(
        intent=I.MASS_MUTATION,
        message="partitionOverwriteMode is static: INSERT OVERWRITE with no PARTITION value "
        "first deletes every partition it matches (all of the table's)",
    )
    intents = sorted_intents({*effect.intents, I.DELETE, I.MASS_MUTATION})
    return updated(effect, {"intents": intents, "findings": (*effect.findings, finding)})
