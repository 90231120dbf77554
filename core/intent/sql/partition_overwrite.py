"""Spark's `INSERT OVERWRITE t PARTITION (dt) SELECT ...`, a partition column given no value:
what it deletes depends on `spark.sql.sources.partitionOverwriteMode`, when an earlier statement
of the script sets it. `dynamic`: only the partitions its rows fall in are replaced, as when
each partition is named (`PARTITION (dt = '2025-07-01')`). `static`: every partition the spec
matches (with no value, every partition of the table) is deleted first. Not set, the table's
format decides, and the statement stays a replace of the table (reviewed). With no PARTITION
clause at all, `static` replaces the whole table (delete, mass_mutation); `dynamic` replaces
only the partitions its rows fall in, which the text shows only when the script created the
table with its partitioning (CREATE TABLE ... PARTITIONED BY, not IF NOT EXISTS: an existing
table may be partitioned otherwise, or not at all) and the query pins every partition column it
writes to one value (`WHERE ds = '2024-06-01'`): then one partition is replaced. Otherwise it
stays a replace (Trino's insert_existing_partitions_behavior, e-trino-12, the same).
"""

from __future__ import annotations

import re

from sqlglot import exp

from guardrails_core.intent.sql.dialects import I, K
from guardrails_core.intent.sql.trees import replaces_as_writes, tree_of, updated
from guardrails_core.model import Finding, StatementEffect, sorted_intents

_MODE = re.compile(
    r"\bspark\.sql\.sources\.partitionOverwriteMode\s*=\s*['\"]?(dynamic|static)\b", re.IGNORECASE
)


def judge_partition_overwrites(effects: list[StatementEffect]) -> list[StatementEffect]:
    effects = _reloaded_partitions(effects)
    mode: str | None = None
    layouts: dict[str, list[tuple[str, bool]]] = {}  # tables the script created, partitioned
    result: list[StatementEffect] = []
    for effect in effects:
        _record_layout(tree_of(effect), layouts)
        setting = _MODE.search(effect.text) if effect.operation.upper() == "SET" else None
        if setting is not None:
            mode = setting.group(1).lower()
        elif mode is not None and _unvalued_partition(effect):
            effect = _dynamic(effect) if mode == "dynamic" else _static(effect)
        elif mode == "dynamic" and _one_partition_overwrite(effect, layouts):
            effect = _dynamic(effect)
        elif mode == "static" and _whole_table_overwrite(effect):
            effect = _static(
                effect
            )  # dynamic leaves it a replace: the table may have no partitions
        result.append(effect)
    return result


def _reloaded_partitions(effects: list[StatementEffect]) -> list[StatementEffect]:
    """`ALTER TABLE t DROP PARTITION (ds = 'x')` then, later in the script, `INSERT INTO t
    PARTITION (ds = 'x') ...`: the two are a static `INSERT OVERWRITE t PARTITION (ds = 'x')`
    spelt in two steps (static overwrite deletes exactly the partitions its spec matches), so
    the drop deletes the partition it refills, not a block left empty. Every spec column is
    pinned to a literal and the two specs are the same; a range (`ds < 'x'`), a list of
    partitions or a refill of another partition leave the drop as it is."""
    result = list(effects)
    for index, effect in enumerate(effects):
        dropped = _one_dropped_spec(tree_of(effect))
        if dropped is None:
            continue
        refills = (_inserted_spec(tree_of(later)) for later in effects[index + 1 :])
        if dropped in refills:
            result[index] = _refilled(effect)
    return result


_Spec = tuple[str, frozenset[tuple[str, str]]]  # a table and its partition columns' literals


def _literal_spec(table: exp.Expr, partition: exp.Expr | None) -> _Spec | None:
    if not isinstance(partition, exp.Partition) or not partition.expressions:
        return None
    pairs = set()
    for item in partition.expressions:
        if not (
            isinstance(item, exp.EQ)
            and isinstance(item.this, exp.Column)
            and isinstance(item.expression, exp.Literal)
        ):
            return None
        pairs.add((item.this.name.lower(), item.expression.this))
    return _qualified(table), frozenset(pairs)


def _one_dropped_spec(tree: exp.Expr | None) -> _Spec | None:
    if not isinstance(tree, exp.Alter):
        return None
    actions = tree.args.get("actions") or []
    if len(actions) != 1 or not isinstance(actions[0], exp.DropPartition):
        return None
    specs = actions[0].expressions
    return _literal_spec(tree.this, specs[0]) if len(specs) == 1 else None


def _inserted_spec(tree: exp.Expr | None) -> _Spec | None:
    if not isinstance(tree, exp.Insert) or not isinstance(tree.this, exp.Table):
        return None
    return _literal_spec(tree.this, tree.this.args.get("partition"))


def _refilled(effect: StatementEffect) -> StatementEffect:
    finding = Finding(
        intent=I.DELETE,
        message="DROP PARTITION of the one partition the script refills next (an overwrite of "
        "that partition in two steps)",
    )
    kept = tuple(f for f in effect.findings if f.intent is not I.MASS_MUTATION)
    intents = sorted_intents(set(effect.intents) - {I.MASS_MUTATION})
    return updated(effect, {"intents": intents, "findings": (*kept, finding)})


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


def _record_layout(tree: exp.Expr | None, layouts: dict[str, list[tuple[str, bool]]]) -> None:
    """The columns, in order, of a table the statement creates with a PARTITIONED BY (each with
    whether it is a partition column; Hive-style partition columns declared apart come last).
    A DROP or another CREATE of the name forgets it."""
    if isinstance(tree, exp.Drop | exp.Alter):
        for table in tree.find_all(exp.Table):
            layouts.pop(_qualified(table), None)
        return
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema | exp.Table):
        return
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if not isinstance(table, exp.Table):
        return
    layouts.pop(_qualified(table), None)
    properties = getattr(tree.args.get("properties"), "expressions", [])
    partitioned = next((p for p in properties if isinstance(p, exp.PartitionedByProperty)), None)
    schema = tree.this
    if tree.args.get("exists") or partitioned is None or not isinstance(schema, exp.Schema):
        return
    parts = partitioned.this.expressions if isinstance(partitioned.this, exp.Schema) else []
    keys = [part.name.lower() for part in parts if isinstance(part, exp.Identifier | exp.ColumnDef)]
    if not keys or len(keys) != len(parts):
        return  # a transform (`PARTITIONED BY (days(ts))`): not one value per column
    columns = [c.name.lower() for c in schema.expressions if isinstance(c, exp.ColumnDef)]
    columns += [key for key in keys if key not in columns]
    layouts[_qualified(table)] = [(column, column in keys) for column in columns]


def _one_partition_overwrite(
    effect: StatementEffect, layouts: dict[str, list[tuple[str, bool]]]
) -> bool:
    """A whole-table INSERT OVERWRITE of a table `layouts` knows whose query writes, at each
    partition column's position, a source column its WHERE pins to one literal."""
    tree = tree_of(effect)
    if not _whole_table_overwrite(effect) or not isinstance(tree, exp.Insert):
        return False
    layout = layouts.get(_qualified(tree.this))
    query = tree.expression
    if layout is None or not isinstance(query, exp.Select) or len(query.expressions) != len(layout):
        return False
    pinned = _pinned_columns(query.args.get("where"))
    for projection, (_, partition) in zip(query.expressions, layout, strict=True):
        value = projection.unalias()
        if partition and not (isinstance(value, exp.Column) and value.name.lower() in pinned):
            return False
    return True


def _pinned_columns(where: exp.Expr | None) -> set[str]:
    """Columns an AND-ed `column = literal` of the WHERE fixes to one value."""
    pinned: set[str] = set()
    pending = [where.this] if isinstance(where, exp.Where) else []
    while pending:
        part = pending.pop()
        if isinstance(part, exp.Paren | exp.And):
            pending.extend(part.iter_expressions())
        elif isinstance(part, exp.EQ):
            sides = (part.this, part.expression)
            column = next((side for side in sides if isinstance(side, exp.Column)), None)
            if column is not None and any(isinstance(side, exp.Literal) for side in sides):
                pinned.add(column.name.lower())
    return pinned


def _qualified(table: exp.Expr) -> str:
    if not isinstance(table, exp.Table):
        return ""
    return ".".join(part.lower() for part in (table.catalog, table.db, table.name) if part)


def _dynamic(effect: StatementEffect) -> StatementEffect:
    message = (
        "partitionOverwriteMode is dynamic: INSERT OVERWRITE replaces only the partitions its "
        "rows fall in"
    )
    return replaces_as_writes(effect, lambda ref: ref.kind is K.TABLE, message)


def _static(effect: StatementEffect) -> StatementEffect:
    finding = Finding(
        intent=I.MASS_MUTATION,
        message="partitionOverwriteMode is static: INSERT OVERWRITE with no PARTITION value "
        "first deletes every partition it matches (all of the table's)",
    )
    intents = sorted_intents({*effect.intents, I.DELETE, I.MASS_MUTATION})
    return updated(effect, {"intents": intents, "findings": (*effect.findings, finding)})
