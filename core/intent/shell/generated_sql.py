"""SQL that a query writes and a second client runs: ``psql -Atc "SELECT format('DROP TABLE
%I.%I;', schemaname, tablename) FROM pg_tables WHERE ..." | psql``. The statement the query
builds is visible in its literal template; the objects it names are the rows it selects.

The template is judged with each selected value standing in as a name: the rows a filter pins
by equality (``schemaname = 'staging'``) keep that value, the rest become ``"*"``, every name
the catalogue holds. A filter that pins the object's own name (``tablename IN ('a', 'b')``)
selects a scoped set; any other selects every object of a kind (of a schema), so a destructive
template is a mass change whose objects are only known at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from guardrails_core.intent.sql.dialects import parse_as_analyzed
from guardrails_core.intent.sql.folding import split_format

# Catalogue columns that hold an object's own name (not its schema or database).
_NAME_COLUMNS = frozenset(
    ("tablename", "table_name", "relname", "viewname", "matviewname", "name", "indexname")
)
_STAND_IN = "*"


@dataclass(frozen=True, slots=True)
class Generated:
    """A statement a query prints once per row: its template, and whether the rows are a
    scoped set of named objects."""

    template: str
    scoped: bool


def generated_statement(sql: str, dialect: str | None) -> Generated | None:
    """The template a one-column SELECT builds with format(), CONCAT() or ``||``, or None."""
    parsed = parse_as_analyzed(sql, dialect)
    if parsed is None or len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        return None
    select = parsed[0]
    if len(select.expressions) != 1:
        return None
    pinned = _pinned(select.args.get("where"))
    parts = _parts(select.expressions[0].unalias())
    if parts is None or not any(isinstance(part, str) for part in parts):
        return None
    text = "".join(
        part if isinstance(part, str) else _stand_in(part, pinned, dialect) for part in parts
    )
    template = text.strip().rstrip(";").strip()
    if not template or ";" in template:
        return None
    scoped = any(column in _NAME_COLUMNS for column in pinned)
    return Generated(template, scoped)


def _parts(node: exp.Expression) -> list[str | exp.Expression] | None:
    """The pieces of a string builder: literal text, and the expressions spliced in."""
    if isinstance(node, exp.Literal) and node.is_string:
        return [node.this]
    if isinstance(node, exp.Format) and isinstance(node.this, exp.Literal):
        spliced = split_format(node.this.this, node.expressions)
        if spliced is None:
            return None
        return [piece if isinstance(piece, str) else piece[1] for piece in spliced]
    if isinstance(node, exp.Concat) and not isinstance(node, exp.ConcatWs):  # no separator
        pieces: list[str | exp.Expression] = []
        for argument in node.expressions:
            inner = _parts(argument)
            pieces.extend(inner if inner is not None else [argument])
        return pieces
    if isinstance(node, exp.DPipe):
        left, right = _parts(node.this), _parts(node.expression)
        return [
            *(left if left is not None else [node.this]),
            *(right if right is not None else [node.expression]),
        ]
    return None


def _stand_in(value: exp.Expression, pinned: dict[str, str], dialect: str | None) -> str:
    """A selected value as the name it stands for: the literal a filter pins its column to
    (``quote_ident(schemaname)`` is schemaname's), else `*`."""
    if isinstance(value, exp.Literal) and value.is_string:
        return str(value.this)
    column = value if isinstance(value, exp.Column) else value.find(exp.Column)
    name = pinned.get(column.name.lower(), _STAND_IN) if column is not None else _STAND_IN
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect or None)


def _pinned(where: exp.Expression | None) -> dict[str, str]:
    """Columns the filter's top-level conjuncts fix to one literal (or a list of them)."""
    if where is None:
        return {}
    pinned: dict[str, str] = {}
    for condition in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if isinstance(condition, exp.EQ):
            column, value = condition.this, condition.expression
            if isinstance(column, exp.Column) and isinstance(value, exp.Literal):
                pinned[column.name.lower()] = value.this
        elif isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
            values = condition.expressions
            if values and all(isinstance(v, exp.Literal) for v in values):
                pinned[condition.this.name.lower()] = values[0].this if len(values) == 1 else "*"
    return pinned
