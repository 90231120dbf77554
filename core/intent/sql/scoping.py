"""Is an UPDATE, DELETE or MERGE scoped? Proven only when its condition restricts the changed
table's rows (issue principle 2): each check below names one way a condition that reads as a
filter still holds for every row, or picks far more rows than written."""

from __future__ import annotations

from typing import NamedTuple

from sqlglot import exp

from guardrails_core.intent.derived_outputs import with_outputs
from guardrails_core.intent.like_patterns import empty_search_by_dialect
from guardrails_core.intent.node_index import NodeIndex, bfs_nodes, index_of
from guardrails_core.intent.predicates import (
    _restricted,
    missed_time_window,
    predicate_truth,
    self_compared_column,
    version_slice_branch,
)
from guardrails_core.intent.sampling import restricts_nothing
from guardrails_core.intent.sql.dialects import STRING_FALLBACK_DIALECTS, I
from guardrails_core.intent.sql.join_links import (
    cte_queries,
    inequality_to,
    unequal_exists,
    unfiltered_parent,
    unlinked_table,
)
from guardrails_core.intent.sql.kept_sets import kept_set
from guardrails_core.intent.sql.key_exclusions import all_but_one_key
from guardrails_core.intent.sql.outer_columns import outer_membership
from guardrails_core.intent.sql.own_extremes import own_extreme_cutoff
from guardrails_core.intent.sql.ranked_keys import every_copy
from guardrails_core.intent.sql.script_constants import with_constants
from guardrails_core.intent.sql.self_join_dedupe import keeps_no_copy, keeps_top_copy
from guardrails_core.intent.sql.statement import (
    _Statement,
)
from guardrails_core.intent.target_columns import (
    escaping_branch,
    fold_identifiers,
    looks_at_target,
    unscoped_branch,
)
from guardrails_core.intent.value_ranges import NUMERIC_STRING_DIALECTS, matches_every_text


def _qualified_table(node: exp.Expr | None) -> str | None:
    """catalog.schema.name of a table node, lower-cased, for comparing two references."""
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table) or not node.name:
        return None
    return ".".join(part.lower() for part in (node.catalog, node.db, node.name) if part)


def _check_unbounded(
    statement: _Statement,
    where: exp.Expr | None,
    verb: str,
    target: frozenset[str],
    node: exp.Expr | None = None,
) -> None:
    _check_condition(statement, where, verb, target, node)
    if where is None or not statement.constants:
        return
    # Variables the script set to constants (`SET @pat = '%'`): the condition is judged again
    # with their values, when it was not found wide as written (a value only adds a finding).
    valued = with_constants(where, statement.constants, statement.dialect_name)
    if valued is not where and not _found_wide(statement):
        _check_condition(statement, valued, verb, target, node)


def _found_wide(statement: _Statement) -> bool:
    return any(finding.intent is I.MASS_MUTATION for finding in statement.findings)


def _check_condition(
    statement: _Statement,
    where: exp.Expr | None,
    verb: str,
    target: frozenset[str],
    node: exp.Expr | None = None,
) -> None:
    if where is None:
        statement.add(I.MASS_MUTATION, f"{verb} without a WHERE clause touches every row")
        return
    condition = where.this if isinstance(where, exp.Where) else where
    if node is not None and isinstance(node.args.get("with_"), exp.With):
        condition = _target_outputs_inlined(_ctes_inlined(condition, node), node)
    # The statement's nodes from the walk that dispatched it, and the condition's parts from one
    # walk: the checks below look there (a generated condition has 50,000 nodes).
    index = index_of(statement.indexes, node) if node is not None else None
    parts = _ConditionParts.of(condition)
    if parts.national:  # a copy of the whole condition: only when there is an N'...' to read
        condition = condition.transform(_plain_string)
        parts = _ConditionParts.of(condition)
    folded = fold_identifiers(condition, statement.names.dialect, parts.identifiers)
    folded = empty_search_by_dialect(folded, statement.dialect_name)
    if folded is not condition:
        parts = _ConditionParts.of(folded)
    columns = parts.columns
    truth = predicate_truth(folded, target)
    if truth is True:
        statement.add(
            I.MASS_MUTATION,
            f"{verb} with an always-true WHERE ({condition.sql()[:80]}) touches every row",
        )
    elif (
        truth is None
        and not looks_at_target(folded, target, _mirrors_for(columns, node, target, index), columns)
        and not _joined_on_target(node, target, index)
        and not keeps_top_copy(folded, target, _mirrors(node, target, index))
    ):
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE ({condition.sql()[:80]}) never looks at a column of the row it "
            "changes, so it holds for all rows or none: scoping is not proven",
        )
    elif (
        truth is None
        and verb == "DELETE"
        and (kept_none := keeps_no_copy(folded, target, _mirrors(node, target, index)))
    ):
        statement.add(
            I.MASS_MUTATION,
            f"DELETE's self-join ({condition.sql()[:80]}) {kept_none}, the one meant to stay too",
        )
    elif (
        truth is None
        and folded.find(exp.Or) is not None  # without an OR, the check above said it all
        and not _joined_on_target(node, target, index)
        and (branch := unscoped_branch(folded, target, _mirrors(node, target, index))) is not None
    ):
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE holds by a branch that never looks at the row it changes "
            f"({branch.sql()[:60]}): when that branch is true, every row matches",
        )
    elif truth is None and restricts_nothing(folded, target, statement.dialect_name):
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE ({condition.sql()[:80]}) is false for none of the sample rows "
            "(NULLs, numbers, strings of every kind): scoping is not proven",
        )
    elif (
        truth is None
        and statement.dialect_name in NUMERIC_STRING_DIALECTS
        and matches_every_text(folded, columns)
    ):
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE ({condition.sql()[:80]}) compares a column that holds text with a "
            f"number that 0 passes: {statement.dialect_name} converts the strings to numbers, "
            "and every string that does not start with a digit reads as 0",
        )
    elif truth is None and (itself := self_compared_column(folded, target)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE compares a column with itself ({itself.sql()[:60]}): the filter meant "
            "to pick rows by it picks none out, so the rest of the condition is wider than written",
        )
    elif truth is None and (
        outer := outer_membership(
            parts.memberships, target, statement.scratch, (verb, statement.dialect_name)
        )
    ):
        statement.add(I.MASS_MUTATION, outer)
    elif truth is None and verb == "DELETE" and (copies := every_copy(parts.memberships, target)):
        statement.add(
            I.MASS_MUTATION,
            f"DELETE's subquery ranks the copies of each key but returns the key "
            f"({copies.this.sql()[:40]}), not the copy: every copy of a duplicated key matches, "
            "the one the ranking keeps too (return a row id or a unique column instead)",
        )
    elif (
        truth is None and verb == "DELETE" and (kept := kept_set(folded, target, node)) is not None
    ):
        statement.add(
            I.MASS_MUTATION,
            f"DELETE keeps only the rows a set lists ({kept.sql()[:60]}) and removes every other "
            "row: how many go depends on what the set lacks (a delta or an empty set: nearly all)",
        )
    elif truth is None and (excluded := all_but_one_key(folded, target)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE only excludes one key value ({excluded.sql()[:60]}): every other "
            "row matches",
        )
    elif truth is None and (unequal := unequal_exists(folded, target)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s EXISTS is tied to the row it changes only by an inequality "
            f"({unequal.sql()[:60]}): every row matches once the subquery has two different values",
        )
    elif truth is None and (window := missed_time_window(folded)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE has a time window that every recorded row passes "
            f"({window.sql()[:60]}): the rest of the condition picks far more rows than written",
        )
    elif truth is None and (own := own_extreme_cutoff(folded, target)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE has a cutoff at or past the table's own extreme of the column "
            f"({own.sql()[:60]}): every row with a value passes it",
        )
    elif truth is None and (versions := version_slice_branch(folded)) is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE picks versions by their end alone ({versions.sql()[:60]}): every "
            "current (or every closed) version of every key matches, not the rows meant",
        )
    elif truth is None and (escape := escaping_branch(folded, columns)) is not None:
        escaped, escaping = escape
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE ORs {escaping.sql()[:50]} with {escaped.sql()[:60]} unparenthesised: "
            "AND binds tighter than OR, so that branch escapes the AND's other filters",
        )
    elif truth is None and node is not None and (joined := unlinked_table(node, target)):
        _unlinked(statement, verb, joined, node)
    elif (
        truth is None
        and verb == "DELETE"
        and node is not None
        and (link := unfiltered_parent(node, target)) is not None
    ):
        statement.add(
            I.MASS_MUTATION,
            f"DELETE's only condition links its reference to the joined table's key "
            f"({link.sql()[:60]}): every row that has such a parent matches, nearly all of them",
        )
    elif truth is None and statement.dialect_name in STRING_FALLBACK_DIALECTS:
        fallback = _quoted_names_as_strings(condition)
        if fallback is not None and predicate_truth(fallback, target) is True:
            statement.add(
                I.MASS_MUTATION,
                f"{verb}'s WHERE ({condition.sql()[:80]}) holds for every row if a double-quoted "
                "name is not a column: the database then reads it as a string",
            )


def _unlinked(statement: _Statement, verb: str, joined: exp.Expr, node: exp.Expr) -> None:
    unequal = inequality_to(node, joined)
    if unequal is not None:
        statement.add(
            I.MASS_MUTATION,
            f"{verb} links {joined.alias_or_name} to the row it changes only by an inequality "
            f"({unequal.sql()[:60]}): every row matches but one equal to all of its values "
            "(with two different values, every row)",
        )
        return
    statement.add(
        I.MASS_MUTATION,
        f"{verb} joins {joined.sql()[:60]} without a condition linking it to the row it changes: "
        "its filter is on or off for every row at once (the join condition is missing)",
    )


def _ctes_inlined(condition: exp.Expr, node: exp.Expr) -> exp.Expr:
    """`WITH doomed AS (q) DELETE ... WHERE id IN (SELECT id FROM doomed)`: the condition with
    each CTE its subqueries read written in place, so a CTE over the target is seen as one."""
    if node.args["with_"].args.get("recursive"):
        return condition
    ctes = cte_queries(node)

    def named(part: exp.Expr) -> bool:
        return isinstance(part, exp.Table) and not part.db and part.name.lower() in ctes

    if not any(named(table) for table in condition.find_all(exp.Table)):
        return condition

    def inline(part: exp.Expr) -> exp.Expr:
        if not named(part):
            return part
        alias = part.args.get("alias") or exp.TableAlias(this=exp.to_identifier(part.name))
        return exp.Subquery(this=ctes[part.name.lower()].copy(), alias=alias)

    return condition.transform(inline)


def _target_outputs_inlined(condition: exp.Expr, node: exp.Expr) -> exp.Expr:
    """`WITH d AS (SELECT *, ROW_NUMBER() OVER (...) AS rn FROM t) DELETE FROM d WHERE rn >= 1`
    (T-SQL deletes through a CTE): the filter with each named output of the CTE it changes
    written in place, so a rank filter that every row passes is seen as one."""
    changed = node.this
    if not isinstance(changed, exp.Table) or changed.db:
        return condition
    query = cte_queries(node).get(changed.name.lower())
    if not isinstance(query, exp.Select):
        return condition
    outputs = {
        expression.alias.lower(): expression.this
        for expression in query.expressions
        if isinstance(expression, exp.Alias)
    }
    return with_outputs(
        condition, outputs, {"", changed.alias_or_name.lower(), changed.name.lower()}
    )


def _quoted_names_as_strings(condition: exp.Expr) -> exp.Expr | None:
    """The condition with each unqualified double-quoted column read as a string, or None."""
    quoted = [
        column
        for column in condition.find_all(exp.Column)
        if not column.table
        and isinstance(column.this, exp.Identifier)
        and column.this.args.get("quoted")
    ]
    if not quoted:
        return None
    return condition.transform(
        lambda node: exp.Literal.string(node.name) if node in quoted else node
    )


def _joined_on_target(
    node: exp.Expr | None, target: frozenset[str], index: NodeIndex | None = None
) -> bool:
    """A join whose ON condition reads the target row (or a self-join alias of it) restricts it
    as a WHERE would."""
    if node is None:
        return False
    mirrors: frozenset[str] | None = None  # a walk over the statement: only once a join has ON
    for join in node.find_all(exp.Join) if index is None else index.find_all(exp.Join):
        on = join.args.get("on")
        if on is None:
            continue
        if mirrors is None:
            mirrors = _mirrors(node, target, index)
        if looks_at_target(fold_identifiers(on), target, mirrors):
            return True
    return False


class _ConditionParts(NamedTuple):
    """What the checks of a condition look up in it, in walk order, from one walk over it (a
    generated predicate has 50,000 nodes: folding names, looking at the target, finding N'...'
    strings and IN lists each walked it)."""

    identifiers: list[exp.Identifier]
    columns: list[exp.Column]
    memberships: list[exp.In]
    national: bool  # a T-SQL N'...' string

    @classmethod
    def of(cls, condition: exp.Expr) -> _ConditionParts:
        identifiers: list[exp.Identifier] = []
        columns: list[exp.Column] = []
        memberships: list[exp.In] = []
        national = False
        identifier, national_string, membership = exp.Identifier, exp.National, exp.In
        wanted = (identifier, exp.Column, national_string, membership)
        for node in bfs_nodes(condition):
            if not isinstance(node, wanted):
                continue
            kind = type(node)
            if kind is identifier:
                identifiers.append(node)  # type: ignore[arg-type]
            elif kind is membership:
                memberships.append(node)  # type: ignore[arg-type]
            elif kind is national_string:
                national = True
            else:  # a Column, or a Pseudocolumn (Oracle ROWNUM, ...)
                columns.append(node)  # type: ignore[arg-type]
        return cls(identifiers, columns, memberships, national)


def _mirrors_for(
    columns: list[exp.Column],
    node: exp.Expr | None,
    target: frozenset[str],
    index: NodeIndex | None = None,
) -> frozenset[str]:
    """The self-join aliases a condition (its `columns`) can use: looks_at_target reads them
    only for `x.c = y.c` (two columns of one name), so without such a comparison the
    statement's tables, a walk over all of it, are not looked at."""
    for column in columns:
        parent = column.parent
        if isinstance(parent, _EQUALITIES) and isinstance(parent.expression, exp.Column):
            return _mirrors(node, target, index)
    return frozenset()


_EQUALITIES = (exp.EQ, exp.NullSafeEQ)


def _mirrors(
    node: exp.Expr | None, target: frozenset[str], index: NodeIndex | None = None
) -> frozenset[str]:
    """Other aliases of the changed table in the same statement (a self-join), and of derived
    tables that hold every row of it, column for column (`USING (SELECT id FROM t) d`)."""
    if node is None or not isinstance(node.this, exp.Table):
        return frozenset()
    tables = list(node.find_all(exp.Table)) if index is None else index.find_all(exp.Table)
    changed = _qualified_table(_aliased_target(node, tables))
    aliases = {
        table.alias_or_name.lower()
        for table in tables
        if table is not node.this
        and _qualified_table(table) == changed
        and table.find_ancestor(exp.Select) is None
    }
    derived = node.find_all(exp.Subquery) if index is None else index.find_all(exp.Subquery)
    aliases.update(
        subquery.alias.lower()
        for subquery in derived
        if subquery.alias
        and subquery.find_ancestor(exp.Select) is None
        and _copies_every_row(subquery.this, changed)
    )
    return frozenset(aliases - target)


def _copies_every_row(body: exp.Expr, changed: str | None) -> bool:
    """A SELECT of plain columns of the changed table that drops no row (no filter, limit,
    grouping or join): its rows are the table's own, under another alias. Computed outputs
    (a ranking a dedupe filters on) make it something else."""
    if not isinstance(body, exp.Select) or changed is None:
        return False
    source = body.args.get("from_")
    return (
        isinstance(source, exp.From)
        and isinstance(source.this, exp.Table)
        and _qualified_table(source.this) == changed
        and all(isinstance(output.unalias(), exp.Column | exp.Star) for output in body.expressions)
        and not _restricted(body)
    )


def _aliased_target(node: exp.Expr, tables: list[exp.Table] | None = None) -> exp.Expr:
    """The table a statement's target alias stands for (T-SQL `UPDATE o ... FROM orders o`).
    `tables`: the statement's tables, when a walk over it already found them."""
    this: exp.Expr = node.this
    if isinstance(this, exp.Table) and not this.db and not this.alias:
        for table in node.find_all(exp.Table) if tables is None else tables:
            if table is not this and table.alias.lower() == this.name.lower():
                return table
    return this


def _plain_string(node: exp.Expr) -> exp.Expr:
    """T-SQL's N'...' compares as the string it holds (`d < N'9999-12-31'`)."""
    return exp.Literal.string(node.name) if isinstance(node, exp.National) else node
