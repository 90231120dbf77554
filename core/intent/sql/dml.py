"""DML handlers: INSERT, UPDATE, DELETE, MERGE, TRUNCATE (scoping.py proves a change scoped)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.node_index import NodeIndex, index_of
from guardrails_core.intent.predicates import (
    _leaves,
    predicate_truth,
    target_names,
)
from guardrails_core.intent.sql.dialects import MYSQL_FAMILY, A, I, K
from guardrails_core.intent.sql.job_tables import scheduled_by_write
from guardrails_core.intent.sql.join_links import referenced_parent, unlinked_table
from guardrails_core.intent.sql.kept_per_key import keeps_one_per_key
from guardrails_core.intent.sql.kept_sets import null_emptied_rewrite
from guardrails_core.intent.sql.outside_inserts import insert_outside
from guardrails_core.intent.sql.scoping import (
    _aliased_target,
    _check_unbounded,
    _joined_on_target,
    _unlinked,
)
from guardrails_core.intent.sql.scratch_rows import derived_rows
from guardrails_core.intent.sql.self_join_dedupe import keeps_top_copy
from guardrails_core.intent.sql.statement import (
    _Chunk,
    _Statement,
)
from guardrails_core.intent.sql.temporaries import (
    ScratchRows,
    global_temporary,
    scratch_key,
    scratch_table,
    session_table,
)
from guardrails_core.intent.sql.upserts import judge_upsert
from guardrails_core.model import (
    ObjectKind,
)


def _handle_into(statement: _Statement, node: exp.Into, chunk: _Chunk | None) -> None:
    target = node.this
    if isinstance(target, exp.Table) and isinstance(target.this, exp.Parameter | exp.Placeholder):
        return  # `SELECT ... INTO @variable` / `INTO :variable` assigns variables, no table
    if (
        statement.dialect_name in MYSQL_FAMILY or statement.dialect_name == "oracle"
    ) and isinstance(target, exp.Table):
        # a routine's variable (Oracle has no SELECT INTO a table: CREATE TABLE AS makes one)
        statement.claimed_tables.add(id(target))
        return
    if statement.table(target, A.CREATE) is not None:
        statement.add(I.WRITE, "SELECT INTO creates a table and fills it")
        statement.add(I.SCHEMA_CHANGE, "SELECT INTO creates a table")
    if isinstance(node.parent, exp.Select) and node.parent.args.get("from_") is not None:
        _shared_with_every_session(statement, target)


def _shared_with_every_session(statement: _Statement, target: exp.Expr | None) -> None:
    """Rows read into a T-SQL ## table (or a tempdb table) are readable by every session."""
    if global_temporary(target, statement.dialect_name):
        statement.add(
            I.EXPORT,
            "a ## global temporary table (or a table made in tempdb) is visible to every "
            "session on the server: the rows put in it are readable by anyone connected (a # "
            "table is the session's own)",
        )


def _handle_insert(statement: _Statement, node: exp.Insert, chunk: _Chunk | None) -> None:
    if isinstance(node.parent, exp.When):
        return  # a MERGE branch inserting into the MERGE target, recorded by _handle_merge
    target = node.this
    scheduled_by_write(statement, node)
    if insert_outside(statement, node):
        return
    if isinstance(node.expression, exp.Query):
        _shared_with_every_session(statement, target)
    if node.args.get("overwrite") and _static_partition(target):
        # INSERT OVERWRITE ... PARTITION (day = '2024-06-01'): the idempotent reload of one
        # named partition; the rest of the table is untouched.
        statement.table(target, A.WRITE)
        statement.add(I.WRITE, "INSERT OVERWRITE rewrites one named partition")
        statement.add(I.DELETE, "INSERT OVERWRITE replaces that partition's rows")
        return
    if node.args.get("overwrite") and _empty_source(node.expression):
        statement.table(target, A.REPLACE)
        statement.add(I.DELETE, "INSERT OVERWRITE replaces the existing rows")
        statement.add(I.MASS_MUTATION, "INSERT OVERWRITE from a source with no rows empties it")
        return
    if node.args.get("where") is not None:  # Databricks INSERT INTO t REPLACE WHERE <cond>
        statement.table(target, A.WRITE)  # the rows it matches, like one named partition
        statement.add(I.WRITE, "INSERT ... REPLACE WHERE writes rows")
        statement.add(I.DELETE, "INSERT ... REPLACE WHERE deletes the rows its condition matches")
        names = target_names(target)
        _check_unbounded(statement, node.args["where"], "INSERT ... REPLACE", names, node)
        where = node.args["where"]
        if _one_sided(where.this if isinstance(where, exp.Where) else where):
            statement.add(
                I.MASS_MUTATION,
                "REPLACE WHERE bounded on one side only deletes every row past the bound, "
                "however few rows the source brings back",
            )
        return
    if node.args.get("overwrite"):
        statement.table(target, A.REPLACE)
        statement.add(I.WRITE, "INSERT OVERWRITE writes rows")
        statement.add(I.DELETE, "INSERT OVERWRITE replaces the existing rows")
        if (kept := null_emptied_rewrite(node.expression, target)) is not None:
            statement.add(
                I.MASS_MUTATION,
                f"INSERT OVERWRITE keeps the table's rows that pass {kept.sql()[:60]}: one NULL "
                "in that set makes NOT IN unknown for every row, and the table is emptied",
            )
        return
    statement.table(target, A.WRITE)
    statement.add(I.WRITE, "INSERT writes rows")
    judge_upsert(statement, node, target)


_LOWER_BOUNDS = (exp.GT, exp.GTE)
_UPPER_BOUNDS = (exp.LT, exp.LTE)


def _one_sided(condition: exp.Expr) -> bool:
    """`order_date >= '2000-01-01'`: every part of an AND bounds a column on the same side,
    so the slice it names is open (an equality, IN, BETWEEN or a closing bound ends it)."""
    leaves = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    sides = set()
    for leaf in leaves:
        leaf = leaf.unnest()
        if isinstance(leaf, _LOWER_BOUNDS + _UPPER_BOUNDS):
            column_left = isinstance(leaf.this, exp.Column)
            lower = isinstance(leaf, _LOWER_BOUNDS) == column_left
            sides.add("lower" if lower else "upper")
        else:
            return False
    return len(sides) == 1


def _static_partition(target: exp.Expr) -> bool:
    """Every partition column is given a constant: exactly one partition is named."""
    partition = target.args.get("partition") if isinstance(target, exp.Table) else None
    if not isinstance(partition, exp.Partition) or not partition.expressions:
        return False
    return all(
        isinstance(item, exp.EQ) and isinstance(item.expression, exp.Literal)
        for item in partition.expressions
    )


def _handle_update(statement: _Statement, node: exp.Update, chunk: _Chunk | None) -> None:
    if isinstance(node.parent, exp.When):
        return  # a MERGE branch: bounded by the MERGE's ON condition, judged by _handle_merge
    target = node.this
    written = _aliased_target(node) if statement.dialect_name in _ALIAS_TARGETS else target
    if written is not target:
        statement.claimed_tables.add(id(target))  # `UPDATE o ... FROM orders o`: o is no table
    if isinstance(written, exp.Table):
        # MySQL `UPDATE a JOIN b ON ... SET a.x = b.y` may write either side; claim the first.
        statement.table(written, A.WRITE)
    statement.add(I.WRITE, "UPDATE changes rows")
    scheduled_by_write(statement, node)
    names = target_names(target) | target_names(written)
    judged = _scratch_as_sources(statement, node)
    if (
        judged.args.get("where") is None
        and _bounded_by_join(judged)
        and _joined_on_target(judged, names)
    ):
        # an inner join's ON condition limits the rows, as a WHERE would (not a self-join)
        if (joined := unlinked_table(judged, names)) is not None:
            _unlinked(statement, "UPDATE", joined, judged)
        return
    _check_unbounded(statement, judged.args.get("where"), "UPDATE", names, judged)


# Dialects whose UPDATE may name its target by an alias its FROM clause defines (T-SQL
# `UPDATE o SET ... FROM dbo.orders o JOIN ...`). Elsewhere a FROM item cannot be the target:
# Postgres rejects `UPDATE o ... FROM orders o` (the name is specified twice).
_ALIAS_TARGETS = frozenset({"tsql", "fabric"})


def _bounded_by_join(node: exp.Expr) -> bool:
    """UPDATE ... JOIN ... ON <condition> (MySQL) or UPDATE ... FROM a JOIN b ON ... (T-SQL)."""
    joins = list(node.this.args.get("joins") or []) if isinstance(node.this, exp.Table) else []
    source = node.args.get("from_")
    if isinstance(source, exp.From):
        joins.extend(
            source.this.args.get("joins") or [] if isinstance(source.this, exp.Table) else []
        )
        joins.extend(source.args.get("joins") or [])
    joins.extend(node.args.get("joins") or [])
    for join in joins:
        side = str(join.args.get("side") or "").upper()
        on = join.args.get("on")
        if on is not None and side in ("", "INNER") and predicate_truth(on) is not True:
            return True
    return False


def _handle_delete(statement: _Statement, node: exp.Delete, chunk: _Chunk | None) -> None:
    targets = _deleted_tables(node, index_of(statement.indexes, node))
    for named in node.args.get("tables") or []:
        statement.claimed_tables.add(id(named))  # `DELETE o FROM orders o`: o is no table read
    for target in targets:
        statement.table(target, A.DELETE)
    if isinstance(node.parent, exp.Alter):
        statement.table(node.parent.this, A.DELETE)  # ClickHouse `ALTER TABLE t DELETE WHERE`
    statement.add(I.DELETE, "DELETE removes rows")
    if all(session_table(target, statement.dialect_name) for target in targets):
        return  # a T-SQL #temp table is session scratch: emptying it loses no kept data
    # DELETE ... USING and multi-table deletes count as unbounded without a WHERE (as specified:
    # a join is easy to get wrong and the cost of a wrong one is every row), unless the join is
    # on the key of rows the script itself picked with a restricting filter.
    names = target_names(node.this) | target_names(targets[0])
    if isinstance(node.parent, exp.Alter):
        names |= target_names(node.parent.this)
    if len(targets) > 1 and (parent := referenced_parent(node, targets)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"DELETE also removes {parent[0]}, picked only as the row the other deleted rows "
            f"point at ({parent[1].sql()[:60]}): every such parent goes, with whatever else "
            "still points at it",
        )
    judged = _scratch_as_sources(statement, node)
    where = judged.args.get("where") or _self_join_condition(judged)
    if where is None and _joined_to_picked_rows(statement, judged, names):
        return
    one_target = len(targets) == 1
    if (
        where is None
        and one_target
        and keeps_one_per_key(node, targets[0], statement.scratch, statement.dialect_name)
    ):
        return
    _check_unbounded(statement, where, "DELETE", names, judged)


def _self_join_condition(node: exp.Expr) -> exp.Where | None:
    """`DELETE t1 FROM users t1 JOIN users t2 ON t1.email = t2.email AND t1.id > t2.id`: a table
    inner-joined only to itself on a self-join dedupe's conditions (a key pairing and a strict
    order) deletes the rows its ON picks, as that WHERE would: the top copy of each key stays."""
    table = node.this
    joins = table.args.get("joins") if isinstance(table, exp.Table) else None
    if not joins or node.args.get("joins") or node.args.get("using"):
        return None
    conditions: list[exp.Expr] = []
    mirrors: set[str] = set()
    for join in joins:
        other, on = join.this, join.args.get("on")
        inner = not join.args.get("side") and str(join.args.get("kind") or "INNER") == "INNER"
        if not inner or on is None or not isinstance(other, exp.Table):
            return None
        if (other.name.lower(), other.db.lower()) != (table.name.lower(), table.db.lower()):
            return None
        conditions.append(on.copy())
        mirrors.add(other.alias_or_name.lower())
    condition = exp.and_(*conditions)
    if not keeps_top_copy(condition, target_names(table), frozenset(mirrors)):
        return None  # any other ON: judged as a join without a WHERE, as specified
    return exp.Where(this=condition)


def _deleted_tables(node: exp.Delete, index: NodeIndex) -> list[exp.Expr]:
    """The tables a DELETE empties; `DELETE o FROM orders o JOIN ...` names orders by its alias.
    `index`: the DELETE's nodes."""
    tables = node.args.get("tables")
    if not tables:
        return [node.this]
    aliased = {table.alias.lower(): table for table in index.find_all(exp.Table) if table.alias}
    return [
        aliased.get(table.name.lower(), table)
        if isinstance(table, exp.Table) and not table.db
        else table
        for table in tables
    ]


def _scratch_as_sources(statement: _Statement, node: exp.Expr) -> exp.Expr:
    """The statement with each of the script's temporary tables that copies a whole table read
    as that table (under the same name): joined to it on its key, the target meets itself."""
    copies = {key: rows.copy_of for key, rows in statement.scratch.items() if rows.copy_of}
    if not copies:
        return node
    changed = {
        table.name.lower()
        for table in (node.this, *(node.args.get("tables") or []))
        if isinstance(table, exp.Table)
    }

    def as_source(part: exp.Expr) -> exp.Expr:
        if not isinstance(part, exp.Table) or part.name.lower() in changed:
            return part
        source = copies.get(scratch_key(part, statement.dialect_name) or "")
        if source is None:
            return part
        read = source.copy()
        read.set("alias", exp.TableAlias(this=exp.to_identifier(part.alias_or_name)))
        read.set("joins", part.args.get("joins"))
        return read

    return node.transform(as_source)


def _joined_to_picked_rows(statement: _Statement, node: exp.Expr, target: frozenset[str]) -> bool:
    """`DELETE o FROM orders o JOIN picked p ON p.id = o.id`: an inner join, on an equality of a
    target column and a column of a temporary table the script filled only with rows a
    restricting filter picked, keeps the target's rows that filter picked; so does a derived
    table that picks them in place (`JOIN (SELECT id FROM orders WHERE load_id = 'L1') p`)."""
    for join in node.find_all(exp.Join):
        joined = join.this
        side = str(join.args.get("side") or "").upper()
        if side not in ("", "INNER") or str(join.args.get("kind") or "").upper() not in _INNER:
            continue  # `JOIN` and `INNER JOIN` alike; not SEMI, ANTI, CROSS, OUTER
        rows: ScratchRows | None = None
        if isinstance(joined, exp.Subquery):
            rows = derived_rows(statement, joined)
        elif isinstance(joined, exp.Table):
            rows = statement.scratch.get(scratch_key(joined, statement.dialect_name) or "")
        else:
            continue
        if rows is None or not rows.picked:
            continue
        alias = joined.alias_or_name.lower()
        if any(_keyed(condition, target, alias) for condition in _conjuncts(join.args.get("on"))):
            return True
    return False


_INNER = frozenset({"", "INNER"})


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    return _leaves(condition, exp.And) if condition is not None else []


def _keyed(condition: exp.Expr, target: frozenset[str], joined: str) -> bool:
    """`o.id = p.id`: one side a column of the target, the other a column of the joined table."""
    if not isinstance(condition, exp.EQ):
        return False
    sides = (condition.this, condition.expression)
    if not all(isinstance(side, exp.Column) for side in sides):
        return False
    owners = {side.table.lower() for side in sides}
    return joined in owners and bool((owners - {joined}) & target)


def _empty_source(using: exp.Expr | None) -> bool:
    """A source that yields no rows: `(SELECT ... WHERE FALSE)`, `LIMIT 0` (MERGE, INSERT)."""
    query = using.this if isinstance(using, exp.Subquery) else using
    if not isinstance(query, exp.Select):
        return False
    where = query.args.get("where")
    if where is not None and predicate_truth(where.this) is False:
        return True
    limit = query.args.get("limit")
    return limit is not None and str(getattr(limit.expression, "this", "")) == "0"


def _handle_truncate(statement: _Statement, node: exp.TruncateTable, chunk: _Chunk | None) -> None:
    kind = K.DATABASE if node.args.get("is_database") else K.TABLE
    # A session's temporary table (as DELETE), or a table scratch by its name (sql_scratch.yaml),
    # whose job reloads it: emptying it loses what replacing it, which is allowed, would.
    scratch = all(
        session_table(t, statement.dialect_name) or scratch_table(t) for t in node.expressions
    )
    if kind is K.TABLE and node.expressions and scratch:
        for target in node.expressions:
            statement.table(target, A.WRITE, kind)
        statement.add(I.WRITE, "empties a temporary or scratch table: no kept data is lost")
        return
    for target in node.expressions:
        statement.table(target, A.DELETE, kind)
    statement.add(I.DELETE, "TRUNCATE removes every row")
    statement.add(I.MASS_MUTATION, "TRUNCATE removes every row")


_DROP_KINDS: dict[str, ObjectKind] = {
    "TABLE": K.TABLE,
    "VIEW": K.VIEW,
    "SCHEMA": K.SCHEMA,
    "DATABASE": K.DATABASE,
    "INDEX": K.INDEX,
    "FUNCTION": K.FUNCTION,
    "PROCEDURE": K.FUNCTION,
    "SEQUENCE": K.SEQUENCE,
    "STAGE": K.STAGE,
    "COLUMN": K.COLUMN,
    "DICTIONARY": K.TABLE,
    "STREAM": K.TABLE,
}
