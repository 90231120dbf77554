"""Tables that take another's place holding fewer rows.

Snowflake `ALTER TABLE a SWAP WITH b` where the script created `b` empty (`CREATE TABLE b LIKE
a`, a column list) and wrote nothing into it: `a` is left with no rows, and its rows now sit in
`b`, which scripts drop next; so is a table created empty renamed onto a live table's name that
was moved aside or dropped (MySQL `RENAME TABLE a TO a_old, b TO a`). A swap with a table that
holds rows (a clone, CREATE TABLE ... AS, rows inserted since) is the usual blue/green switch and
stays a swap. A deep copy renamed over its dropped original holds only the rows its fill's
filter kept (renames_partial_copies); one that holds every row (a deep copy, Django's SQLite
table rebuild) loses none (full_copies).
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from guardrails_core.intent.predicates import predicate_truth
from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.temporaries import without_data_loss
from guardrails_core.intent.sql.trees import tree_of, updated
from guardrails_core.model import Finding, StatementEffect, sorted_intents

_SWAP = re.compile(r"\bSWAP\s+WITH\b|^\s*EXCHANGE\s+TABLES\b", re.IGNORECASE)
_CLONE = re.compile(r"\bCLONE\b", re.IGNORECASE)
_CREATES_TABLE = re.compile(r"CREATE (?:OR REPLACE )?TABLE\b", re.IGNORECASE)


def swaps_with_empty_tables(effects: list[StatementEffect]) -> list[StatementEffect]:
    empty: set[str] = set()
    made: set[str] = set()  # created by the script: their rows are only what it put there
    vacated: set[str] = set()
    result: list[StatementEffect] = []
    for effect in effects:
        tables = {o.qualified.lower(): o for o in effect.objects if o.kind is K.TABLE}
        if _CREATES_TABLE.match(effect.operation) and _creates_empty(effect):
            new = {key for key, o in tables.items() if o.action in (A.CREATE, A.REPLACE)}
            empty.update(new)
            made.update(new)
        elif (
            _SWAP.search(effect.text)
            and len(tables) == 2
            and len(empty & set(tables)) == 1
            and not set(tables) <= made
        ):
            kept = next(key for key in tables if key not in empty)
            finding = Finding(
                intent=I.MASS_MUTATION,
                message=f"SWAP WITH a table this script created empty leaves {kept} with no rows",
            )
            intents = sorted_intents({*effect.intents, I.DELETE, I.MASS_MUTATION})
            effect = updated(effect, {"intents": intents, "findings": (*effect.findings, finding)})
        elif placed := _placed_empty(_renamed(effect), empty, vacated):
            # the empty table renamed onto a live table's name (moved aside in the same
            # statement or before): every reader of that name finds no rows, as after a swap
            finding = Finding(
                intent=I.MASS_MUTATION,
                message=f"RENAME puts a table this script created empty in place of {placed[0]}, "
                "which is left with no rows",
            )
            intents = sorted_intents({*effect.intents, I.DELETE, I.MASS_MUTATION})
            effect = updated(effect, {"intents": intents, "findings": (*effect.findings, finding)})
            empty.difference_update(old for old, _ in _renamed(effect))
        else:
            empty.difference_update(
                key for key, o in tables.items() if o.action in (A.WRITE, A.REPLACE, A.RENAME)
            )
        # live tables' names left free (moved aside, dropped) for another table to take
        vacated.update(old for old, _ in _renamed(effect) if old not in made)
        vacated.update(key for key, o in tables.items() if o.action is A.DROP and key not in made)
        result.append(effect)
    return result


_RENAME_TABLES = re.compile(r"^\s*RENAME\s+TABLES?\s+", re.IGNORECASE)
_RENAME_PAIR = re.compile(r"([\w.`\"]+)\s+TO\s+([\w.`\"]+)", re.IGNORECASE)


def _placed_empty(pairs: list[tuple[str, str]], empty: set[str], vacated: set[str]) -> list[str]:
    """The live tables' names (vacated before, or moved aside earlier in the same RENAME) that
    a table this script created empty is renamed onto."""
    placed, freed = [], set(vacated)
    for old, new in pairs:
        if old in empty and new in freed:
            placed.append(new)
        freed.add(old)
    return placed


def _renamed(effect: StatementEffect) -> list[tuple[str, str]]:
    """(old name, new name) of each table a rename moves: MySQL `RENAME TABLE a TO b, c TO
    d` (every pair), `ALTER TABLE c RENAME TO d`."""
    rules = _RENAME_TABLES.match(effect.text)
    if rules is not None:
        pairs = _RENAME_PAIR.findall(effect.text[rules.end() :])
        return [(old.strip('`"').lower(), new.strip('`"').lower()) for old, new in pairs]
    tables = [o for o in effect.objects if o.kind is K.TABLE]
    moved = [o.qualified.lower() for o in tables if o.action is A.RENAME]
    named = [o.qualified.lower() for o in tables if o.action is A.CREATE]
    return [(moved[0], named[0])] if len(moved) == 1 and len(named) == 1 else []


def _creates_empty(effect: StatementEffect) -> bool:
    """CREATE [OR REPLACE] TABLE b LIKE a (or a column list), or as a query that keeps no row
    (`AS SELECT * FROM a WHERE 1 = 0`, `LIMIT 0`): the table starts with no rows."""
    if _CLONE.search(effect.text):
        return False
    if I.WRITE not in effect.intents:
        return True
    tree = tree_of(effect)
    query = tree.expression if isinstance(tree, exp.Create) else None
    if isinstance(query, exp.Subquery):
        query = query.this
    if not isinstance(query, exp.Select):
        return False
    where, limit = query.args.get("where"), query.args.get("limit")
    if where is not None and predicate_truth(where.this) is False:
        return True
    count = limit.expression if limit is not None else None
    return isinstance(count, exp.Literal) and count.name == "0"


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
        elif operation == "SELECT INTO":  # T-SQL `SELECT TOP (0) * INTO t_new FROM t`
            _note_copy(effect, tables, set(), partial)
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
    tree = tree_of(effect)
    query = tree.expression if isinstance(tree, exp.Insert) else tree
    made = A.CREATE if isinstance(tree, exp.Select) else A.WRITE  # SELECT INTO makes its table
    written = [key for key, o in tables.items() if o.action is made]
    read = [key for key, o in tables.items() if o.action is A.READ]
    if isinstance(tree, exp.Select):
        empty = empty | set(written)  # made by the statement itself
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


def full_copies(effects: list[StatementEffect]) -> list[StatementEffect]:
    """The deep copy (AWS's way to re-sort a Redshift table; Django's SQLite table rebuild):
    `CREATE TABLE t_new (...)`, `INSERT INTO t_new SELECT * FROM t` (every row, no filter, no
    DISTINCT, no grouping, the same columns in the same order), `DROP TABLE t`, `ALTER TABLE
    t_new RENAME TO t`. The drop takes no row with it: each is in the table that takes its name.
    Not when anything writes t between the copy and the drop (those rows would go), nor when the
    rename does not follow."""
    empty: set[str] = set()
    declared: dict[str, list[str]] = {}  # a table the script created -> its columns, in order
    full: dict[str, tuple[str, int]] = {}  # copy -> (the table it holds every row of, where)
    drops: dict[str, int] = {}  # dropped table -> the drop's position
    spared: set[int] = set()
    for position, effect in enumerate(effects):
        tables = {o.qualified.lower(): o for o in effect.objects if o.kind is K.TABLE}
        operation = effect.operation.upper()
        written = {key for key, o in tables.items() if o.action in (A.WRITE, A.DELETE)}
        if operation.startswith("CREATE TABLE") and I.WRITE not in effect.intents:
            created = [key for key, o in tables.items() if o.action is A.CREATE]
            empty.update(created)
            declared.update(dict.fromkeys(created, _declared_columns(effect)))
        elif operation == "INSERT" and len(written) == 1 and written <= empty:
            copy = next(iter(written))
            source = _whole_copy_source(effect, tables, declared.get(copy, []))
            if source is not None:
                full[copy] = (source, position)
            empty.discard(copy)
        elif operation.startswith("DROP"):
            drops.update({key: position for key, o in tables.items() if o.action is A.DROP})
        elif operation.endswith("RENAME"):
            old = next((key for key, o in tables.items() if o.action is A.RENAME), "")
            new = next((key for key, o in tables.items() if o.action is A.CREATE), "")
            source, copied_at = full.get(old, ("", -1))
            dropped_at = drops.get(source, -1)
            if copied_at < dropped_at and _same_table(source, new):
                spared.update((dropped_at, position))
        for copy, (source, copied_at) in list(full.items()):
            if copied_at != position and (source in written or copy in written):
                del full[copy]  # rows added to either after the copy: the copy is not whole
    return [
        _rebuilt(effect) if position in spared else effect
        for position, effect in enumerate(effects)
    ]


def _rebuilt(effect: StatementEffect) -> StatementEffect:
    """The drop loses no row; the rename puts the whole copy back under the name readers use."""
    if not effect.operation.upper().endswith("RENAME"):
        message = "drops a table whose every row this script copied into the table taking its name"
        return without_data_loss(effect, I.SCHEMA_CHANGE, message)
    objects = tuple(
        o.model_copy(update={"action": A.ALTER}) if o.action is A.RENAME else o
        for o in effect.objects
    )
    finding = Finding(
        intent=I.SCHEMA_CHANGE,
        message="a whole copy takes the name of the table it copied: readers see the same rows",
    )
    return updated(effect, {"objects": objects, "findings": (*effect.findings, finding)})


def _declared_columns(effect: StatementEffect) -> list[str]:
    """The columns `CREATE TABLE t (a ..., b ...)` declares, in order."""
    tree = tree_of(effect)
    schema = tree.this if isinstance(tree, exp.Create) else None
    if not isinstance(schema, exp.Schema):
        return []
    return [c.name.lower() for c in schema.expressions if isinstance(c, exp.ColumnDef)]


def _whole_copy_source(
    effect: StatementEffect, tables: dict[str, Any], declared: list[str]
) -> str | None:
    """The table an `INSERT INTO copy [(cols)] SELECT * | cols FROM source` copies whole;
    without a column list, the columns are those the script declared for the copy
    (`declared`: SQLite's rebuild recipe `INSERT INTO new_t SELECT a, b FROM t`)."""
    read = [key for key, o in tables.items() if o.action is A.READ]
    tree = tree_of(effect)
    query = tree.expression if isinstance(tree, exp.Insert) else None
    if isinstance(query, exp.Subquery):
        query = query.this
    if len(read) != 1 or not isinstance(query, exp.Select) or _OR_IGNORE.search(effect.text):
        return None
    if any(query.args.get(part) for part in ("where", "limit", "distinct", "group", "having")):
        return None
    if query.args.get("joins") or query.args.get("with") or query.args.get("with_"):
        return None
    selected = query.expressions
    if len(selected) == 1 and isinstance(selected[0], exp.Star):
        return read[0]
    into = tree.this if isinstance(tree, exp.Insert) else None
    columns = into.expressions if isinstance(into, exp.Schema) else []
    names = [c.name.lower() for c in columns] or declared
    chosen = [c.name.lower() if isinstance(c, exp.Column) else "" for c in selected]
    return read[0] if names and names == chosen else None


_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+(?:IGNORE|REPLACE)\b", re.IGNORECASE)
