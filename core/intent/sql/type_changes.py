"""Column type changes that rewrite every value: a narrowing new type (rules/sql_type_changes.yaml)
or a USING expression that computes new values, each an UPDATE of the column without a WHERE."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.statement import _matching_paren, _Statement
from guardrails_core.yaml_data import load_yaml

RULES = Path(__file__).parent.parent / "rules" / "sql_type_changes.yaml"


class _Lossy(NamedTuple):
    sized: bool
    whole: bool  # only a type with no digits after the point
    refused_by: frozenset[str]
    why: str
    cut_by_cast: frozenset[str] = frozenset()
    silent_when_restated: frozenset[str] = frozenset()


class _Rules(NamedTuple):
    unjudged: frozenset[str]  # widening only, or the type restated whatever changes
    lossy: dict[str, _Lossy]
    wrapping: dict[str, dict[str, _Lossy]]  # dialect -> type -> why (a cast that never fails)


@functools.cache
def _rules() -> _Rules:
    data = load_yaml(RULES.read_text(encoding="utf-8"))
    lossy: dict[str, _Lossy] = {}
    for row in data["lossy"]:
        entry = _Lossy(
            bool(row.get("sized")),
            bool(row.get("whole")),
            frozenset(str(name) for name in row.get("refused_by") or ()),
            str(row["why"]),
            frozenset(str(name) for name in row.get("cut_by_cast") or ()),
            frozenset(str(name) for name in row.get("silent_when_restated") or ()),
        )
        for name in row["types"]:
            lossy[str(name).upper()] = entry
    wrapping = {
        str(dialect): {
            str(name).upper(): _Lossy(False, False, frozenset(), str(row["why"]))
            for name in row["types"]
        }
        for dialect, row in (data.get("wrapping") or {}).items()
    }
    unjudged = [*data["widening_only"], *data["restated"]]
    return _Rules(frozenset(str(name) for name in unjudged), lossy, wrapping)


def judge_type_change(
    statement: _Statement,
    column: str,
    new_type: exp.Expr | None,
    using: exp.Expr | None = None,
    *,
    restated: bool = False,
) -> None:
    """Name `mass_mutation` when changing `column` to `new_type` (USING `using`) can change
    stored values rather than only their type. `restated`: the statement writes the column's
    whole definition (MySQL's MODIFY), so only a loss its dialect lets pass silently counts."""
    if isinstance(using, exp.Expr) and not _same_values(using, column):
        statement.add(
            I.MASS_MUTATION,
            f"ALTER COLUMN {column} ... USING {using.sql()[:60]} rewrites every value of the "
            "column, as an UPDATE without a WHERE would",
        )
        return
    dialect = statement.dialect_name
    if not isinstance(new_type, exp.DataType) or dialect in _rules().unjudged:
        return
    name = new_type.this.name
    lossy = _rules().lossy.get(name) or _rules().wrapping.get(dialect or "", {}).get(name)
    cast = isinstance(using, exp.Cast | exp.TryCast) and using.to.this.name == name
    if lossy is None or (
        dialect in lossy.refused_by and not (cast and dialect in lossy.cut_by_cast)
    ):
        return
    if restated and dialect not in lossy.silent_when_restated:
        return
    if lossy.sized and not new_type.expressions:
        return
    if lossy.whole and not _whole_numbers(new_type):
        return
    statement.add(
        I.MASS_MUTATION,
        f"changing {column} to {new_type.sql()} converts every stored value: {lossy.why}",
    )


def _whole_numbers(new_type: exp.DataType) -> bool:
    """DECIMAL(14,0) or DECIMAL(14): a precision and no digits after the point."""
    sizes = [param.this for param in new_type.expressions]
    if len(sizes) == 1:
        return True
    return len(sizes) == 2 and isinstance(sizes[1], exp.Literal) and str(sizes[1].this) == "0"


def _same_values(using: exp.Expr, column: str) -> bool:
    """`USING c`, `USING c::int`, `USING c AT TIME ZONE 'UTC'`: the column's own values,
    converted (not computed anew)."""
    while isinstance(using, exp.Paren | exp.Cast | exp.TryCast | exp.AtTimeZone):
        using = using.this
    return isinstance(using, exp.Column) and using.name.lower() == column.lower()


def judge_written_type_changes(statement: _Statement, tokens: list[Token]) -> None:
    """`MODIFY COLUMN c Int32 CODEC(...)` in an ALTER sqlglot keeps as a Command: each new type
    read from its tokens and judged as the parsed ALTER's are."""
    words = [token.text.upper() for token in tokens]
    for position in range(len(tokens) - 3):
        if words[position : position + 2] != ["MODIFY", "COLUMN"]:
            continue
        start = position + 2 + 2 * (words[position + 2 : position + 4] == ["IF", "EXISTS"])
        if start + 1 >= len(tokens):
            return
        end = start + 2
        if end < len(tokens) and tokens[end].token_type is TokenType.L_PAREN:
            end = (_matching_paren(tokens, end) or len(tokens) - 1) + 1
        written = " ".join(token.text for token in tokens[start + 1 : end])
        try:
            new_type = exp.DataType.build(written, dialect=statement.names.dialect)
        except (SqlglotError, ValueError):
            continue
        judge_type_change(statement, tokens[start].text, new_type)
