"""Patterns that match every value: `LIKE '%'`, `REGEXP '.*'`, `ILIKE ANY ('%', ...)`, a search
for the empty text (`STARTSWITH(x, '')`, `strpos(x, '') > 0`), and patterns tested against a
constant (`'abc' LIKE 'a%'`), for predicates.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from guardrails_core.intent.complements import unparen


def match_anything(node: exp.Expr, constant: Callable[[exp.Expr | None], Any]) -> bool | None:
    """LIKE / ILIKE / REGEXP / SIMILAR TO with a pattern that matches every value; LIKE ANY
    (...) with one such pattern, LIKE ALL (...) with only such patterns."""
    quantified = node.expression
    if isinstance(quantified, exp.Any | exp.All) and isinstance(
        unparen(quantified.this), exp.Tuple | exp.Array
    ):
        truths = [
            match_anything(type(node)(this=node.this, expression=pattern), constant)
            for pattern in unparen(quantified.this).expressions
        ]
        if isinstance(quantified, exp.Any):
            return True if any(truth is True for truth in truths) else None
        return True if truths and all(truth is True for truth in truths) else None
    pattern = constant(node.expression)
    subject = constant(node.this)
    if not isinstance(pattern, str):
        return None
    if isinstance(subject, str):
        return _pattern_matches(node, pattern, subject)
    if isinstance(node, exp.Like | exp.ILike | exp.SimilarTo):
        return True if pattern and set(pattern) == {"%"} else None
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    # A regular expression that finds a match in the empty string and in arbitrary text.
    return True if compiled.search("") and compiled.search("x\ny 1") else None


def _pattern_matches(node: exp.Expr, pattern: str, subject: str) -> bool | None:
    if isinstance(node, exp.Like | exp.ILike):
        regex = "".join(
            ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
        )
        folded = re.fullmatch(regex, subject, re.IGNORECASE | re.DOTALL) is not None
        if isinstance(node, exp.ILike):
            return folded
        exact = re.fullmatch(regex, subject, re.DOTALL) is not None
        # 'abc' LIKE 'ABC': true where LIKE ignores case (SQLite, MySQL's default collation),
        # false elsewhere; the database's rules decide, so the value is not known here.
        return exact if exact == folded else None
    try:
        return re.search(pattern, subject) is not None
    except re.error:
        return None


# Tests whether a text starts with, ends with or holds another (`STARTSWITH`, `starts_with`,
# `^@`, `ENDSWITH`, `CONTAINS`): every text does so for the empty text.
FINDS_TEXT = (exp.StartsWith, exp.EndsWith, exp.Contains)


def finds_text(node: exp.Expr, constant: Callable[[exp.Expr | None], Any]) -> bool | None:
    """`STARTSWITH(invoice_no, '')`: true for every value; with both texts known, their value."""
    wanted, subject = constant(node.expression), constant(node.this)
    if not isinstance(wanted, str):
        return None
    if isinstance(subject, str):
        if isinstance(node, exp.StartsWith):
            return subject.startswith(wanted)
        return subject.endswith(wanted) if isinstance(node, exp.EndsWith) else wanted in subject
    return True if wanted == "" else None


# What a search for the empty text returns where it is not position 1: SQL Server's CHARINDEX
# returns 0 (`= 0` holds for every row, `> 0` for none); Oracle's '' is NULL, so INSTR is NULL.
_EMPTY_SEARCH = {"tsql": exp.Literal.number(0), "oracle": exp.null()}


def empty_search_by_dialect(condition: exp.Expr, dialect: str | None) -> exp.Expr:
    """The condition with each search for the empty text replaced by what the dialect returns
    for it (unchanged where that is position 1, which the predicate reader assumes)."""
    found = _EMPTY_SEARCH.get(dialect or "")
    searches = condition.find_all(exp.StrPosition)
    if found is None or not any(_empty_search(node) for node in searches):
        return condition

    def replaced(node: exp.Expr) -> exp.Expr:
        return found.copy() if isinstance(node, exp.StrPosition) and _empty_search(node) else node

    return condition.transform(replaced)


def _empty_search(node: exp.StrPosition) -> bool:
    wanted = node.args.get("substr")
    return isinstance(wanted, exp.Literal) and wanted.is_string and wanted.this == ""


def empty_text_position(
    node: exp.Expr, constant: Callable[[exp.Expr | None], Any]
) -> exp.Expr | None:
    """`strpos(x, '')`, `INSTR(x, '')`, `POSITION('' IN x)`, `LOCATE('', x)`: the empty text is
    found at position 1 of every value, so the search is the number 1 (`> 0` holds for all)."""
    if (
        isinstance(node, exp.StrPosition)
        and node.args.get("position") is None
        and constant(node.args.get("substr")) == ""
    ):
        return exp.Literal.number(1)
    return None
