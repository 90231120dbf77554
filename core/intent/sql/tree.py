"""Classification of a parsed statement: one walk over its syntax tree with a handler table."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.sql.access import (
    _PREFIX_STATEMENTS,
    _STATEMENT_OPERATIONS,
    _operation_name,
    _walk,
)
from guardrails_core.intent.sql.blocks import _block_body, _procedure_statement
from guardrails_core.intent.sql.commands import (
    _classify_by_keywords,
    _command_words,
    _match_rule,
    _trailing_statement,
)
from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.specials import _SPECIAL_COMMANDS
from guardrails_core.intent.sql.statement import _Chunk, _Statement, _statement_words
from guardrails_core.model import (
    StatementEffect,
)

# --------------------------------------------------------------------------- tree classification


def _classify_tree(
    statement: _Statement,
    tree: exp.Expr,
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> None:
    if isinstance(tree, exp.Command):
        _classify_by_keywords(statement, chunk, source, prepared, parse_failed=False)
        return
    root_type = type(tree)
    if root_type not in _STATEMENT_OPERATIONS and not isinstance(tree, exp.Query):
        # sqlglot reads some statements as bare expressions (`START TRANSACTION` as an alias,
        # `hello world` too): only a known keyword rule makes them statements.
        words, _ = _command_words(chunk, source, statement.names.dialect)
        if _match_rule(words) is not None or (words[:1] and words[0] in _SPECIAL_COMMANDS):
            _classify_by_keywords(statement, chunk, source, prepared, parse_failed=False)
            return
        if _is_call(tree):  # a procedural step that only calls (PL/SQL `pkg.proc(x);`)
            _procedure_statement(
                statement, _statement_words(chunk, source, statement.names.dialect)
            )
            return
        statement.operation = "UNKNOWN"
        statement.add(I.UNPARSEABLE, f"not a SQL statement (parsed as {root_type.__name__})")
        return
    if root_type in _PREFIX_STATEMENTS:
        # Parsed as SET / USE / BEGIN ...: make sure nothing else hides in the same chunk.
        found = _statement_words(chunk, source, statement.names.dialect)
        hidden = _trailing_statement(statement, found)
        if root_type is exp.Transaction and not hidden:
            _block_body(statement, found)
    statement.operation = _operation_name(tree)
    if isinstance(tree, exp.Query | exp.Pivot):
        statement.add(I.READ, "query")
    if _plans_only(tree):
        statement.operation = "EXPLAIN"
        statement.add(I.READ, "EXPLAIN plans the statement without running it")
        return
    _walk(statement, tree, chunk)


def _is_call(tree: exp.Expr) -> bool:
    """`proc(x)`, `pkg.proc(x)` or `v := pkg.fn(x)` as a whole statement."""
    if isinstance(tree, exp.PropertyEQ):
        tree = tree.expression
    if isinstance(tree, exp.Dot):
        tree = tree.expression
    return isinstance(tree, exp.Anonymous)


def _plans_only(tree: exp.Expr) -> bool:
    """EXPLAIN <DML> (parsed as DESCRIBE): planned, not run, unless ANALYZE makes it run."""
    if not isinstance(tree, exp.Describe):
        return False
    explained = tree.this
    style = str(tree.args.get("style") or "").upper()
    runs = "ANALYZE" in style or any(
        "ANALYZE" in str(option).upper() for option in tree.args.get("expressions") or []
    )
    return isinstance(explained, exp.Update | exp.Delete | exp.Insert | exp.Merge) and not runs
