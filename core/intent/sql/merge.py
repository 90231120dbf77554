"""MERGE: what its match condition and its WHEN branches do to the target's rows."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.predicates import predicate_truth, target_names
from guardrails_core.intent.sampling import restricts_nothing
from guardrails_core.intent.sql.dialects import A, I
from guardrails_core.intent.sql.dml import _empty_source
from guardrails_core.intent.sql.scoping import _qualified_table
from guardrails_core.intent.sql.statement import _Chunk, _Statement
from guardrails_core.intent.sql.temporaries import scratch_key


def _merge_condition(node: exp.Merge, using: exp.Expr | None) -> exp.Expr | None:
    """The MERGE's match condition; DuckDB's `USING (id)` names columns equal on both sides
    (sqlglot keeps them apart and sets `on` to False)."""
    on = node.args.get("on")
    if isinstance(on, exp.Expr):
        return on
    columns = [c for c in node.args.get("using_cond") or [] if isinstance(c, exp.Identifier)]
    if not columns or not isinstance(node.this, exp.Table) or using is None:
        return None
    target, source = node.this.alias_or_name, using.alias_or_name
    return exp.and_(
        *(
            exp.EQ(
                this=exp.column(column.copy(), table=target),
                expression=exp.column(column.copy(), table=source),
            )
            for column in columns
        )
    )


def _handle_merge(statement: _Statement, node: exp.Merge, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.WRITE)
    statement.add(I.WRITE, "MERGE writes rows")
    using = node.args.get("using")
    on = _merge_condition(node, using)
    target = _qualified_table(node.this)
    on_truth = predicate_truth(on, target_names(node.this))
    if on_truth is None and target is not None and _qualified_table(_plain_source(using)) == target:
        on_truth = _self_merge(on)  # MERGE t USING t ON t.id = s.id: every row matches
    if on_truth is None and on is not None and restricts_nothing(on, target_names(node.this)):
        on_truth = True  # ON t.id + 0 = t.id: every target row matches whatever the source
    source_empty = _empty_source(using)
    whens = node.args.get("whens")
    written: dict[str, exp.Expr] = {}  # what the matched UPDATE set, by column
    for when in whens.expressions if whens is not None else []:
        then = when.args.get("then")
        deletes = isinstance(then, exp.Var) and str(then.this).upper() == "DELETE"
        mutates = deletes or isinstance(then, exp.Update)
        by_source = bool(when.args.get("source"))
        if isinstance(then, exp.Update) and when.args.get("matched"):
            written = _assignments(then, target_names(node.this))
        if deletes:
            statement.table(node.this, A.DELETE)
            statement.add(I.DELETE, "MERGE has a WHEN ... THEN DELETE branch")
            condition = when.args.get("condition")
            if statement.dialect_name == "oracle" and written and condition is not None:
                _deletes_what_it_wrote(statement, condition, written, node)
            if by_source:
                statement.add(
                    I.DELETE,
                    "WHEN NOT MATCHED BY SOURCE THEN DELETE removes every target row the source "
                    "lacks (all of them if the source is empty)",
                )
        condition = when.args.get("condition")
        if not mutates or not (condition is None or predicate_truth(condition) is True):
            continue
        verb = "DELETE" if deletes else "UPDATE"
        if when.args.get("matched") and on_truth is True:
            statement.add(
                I.MASS_MUTATION,
                f"MERGE ... ON an always-true condition THEN {verb} touches every row",
            )
        elif by_source and (on_truth is False or source_empty or _partial_source(using, statement)):
            statement.add(
                I.MASS_MUTATION,
                f"MERGE ... NOT MATCHED BY SOURCE THEN {verb} with a source that can match "
                "nothing, or only a sample or slice, touches every target row outside it",
            )


def _plain_source(using: exp.Expr | None) -> exp.Expr | None:
    """`(SELECT * FROM t) s` is t itself: no filter, join or limit between them."""
    query = using.this if isinstance(using, exp.Subquery) else None
    if not isinstance(query, exp.Select) or any(
        query.args.get(key) for key in ("where", "joins", "limit", "group", "having", "qualify")
    ):
        return using
    source = query.args.get("from_")
    return source.this if isinstance(source, exp.From) else using


def _partial_source(using: exp.Expr | None, statement: _Statement) -> bool:
    """A source cut to a sample (`LIMIT n`, `TABLESAMPLE`) or filtered to a slice (`WHERE
    LoadId = 5`), or a table of the script's that a filtered read filled (`INSERT INTO #stage
    SELECT ... WHERE batch_id = 42`: one batch, scratch_rows.py): NOT MATCHED BY SOURCE then
    covers every target row outside it. A whole table is a full snapshot."""
    if isinstance(using, exp.Table):
        rows = statement.scratch.get(scratch_key(using, statement.dialect_name) or "")
        return rows is not None and rows.picked
    query = using.this if isinstance(using, exp.Subquery) else using
    if not isinstance(query, exp.Select):
        return False
    where = query.args.get("where")
    if where is not None and predicate_truth(where.this) is not True:
        return True
    return bool(query.args.get("limit")) or any(True for _ in query.find_all(exp.TableSample))


def _self_merge(on: exp.Expr | None) -> bool | None:
    """`ON t.id = s.id` when t and s are the same table: each row matches itself."""
    if (
        isinstance(on, exp.EQ)
        and isinstance(on.this, exp.Column)
        and isinstance(on.expression, exp.Column)
        and on.this.name.lower() == on.expression.name.lower()
    ):
        return True
    return None


def _assignments(update: exp.Update, target: frozenset[str]) -> dict[str, exp.Expr]:
    """`SET d.updated_at = SYSDATE`: the value each target column is given, by its name."""
    written = {}
    for assignment in update.expressions:
        column = assignment.this if isinstance(assignment, exp.EQ) else None
        if isinstance(column, exp.Column) and (not column.table or column.table.lower() in target):
            written[column.name.lower()] = assignment.expression
    return written


def _deletes_what_it_wrote(
    statement: _Statement, condition: exp.Expr, written: dict[str, exp.Expr], node: exp.Merge
) -> None:
    """Oracle's `UPDATE SET ... DELETE WHERE cond` tests cond on the values just written (read
    by recovery.py as a second matched branch): with them in place, an always-true cond
    (`updated_at = SYSDATE ... DELETE WHERE updated_at <= SYSDATE`) deletes every updated row."""
    target = target_names(node.this)

    def as_written(part: exp.Expr) -> exp.Expr:
        if isinstance(part, exp.Column) and (not part.table or part.table.lower() in target):
            value = written.get(part.name.lower())
            return value.copy() if value is not None else part
        return part

    if predicate_truth(condition.transform(as_written), target) is True:
        statement.add(
            I.MASS_MUTATION,
            f"MERGE ... DELETE WHERE {condition.sql()[:60]} holds for the values the UPDATE just "
            "wrote: every matched row is deleted",
        )
