"""Dynamic SQL text built from literals, folded to the statement it will run: concatenations
(`||`, `+`, CONCAT), FORMAT('... %s', ...), identifier quoting (quote_ident, QUOTENAME,
DBMS_ASSERT.*), case changes, REVERSE, characters by code (CHAR(68)), and script variables
assigned such text earlier (`SET @s = ...`, `DECLARE @s ... = ...`, `DECLARE v STRING DEFAULT
...`). What cannot be folded stays unknown (None), so the statement that runs it stays `dynamic`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlglot import exp

from guardrails_core.intent.sql.dialects import MAX_DEPTH, I
from guardrails_core.intent.sql.statement import _Statement, analyze_nested
from guardrails_core.model import StatementEffect

# Functions that return their text argument as an identifier, quoted or checked: the name is
# the same object whatever the quoting (lower-case names; a package's functions by package).
_IDENTIFIER_FUNCTIONS = frozenset({"quote_ident", "quotename", "dbms_assert"})
_TEXT_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "trim": str.strip,
    "reverse": lambda text: text[::-1],
}
# Functions that decode a literal (PostgreSQL decode(x, 'base64'), MySQL FROM_BASE64 / UNHEX,
# Oracle HEXTORAW, Snowflake BASE64_DECODE_STRING / HEX_DECODE_STRING, BigQuery FROM_BASE64 /
# FROM_HEX), and those that read the bytes as text (convert_from, UTL_RAW.CAST_TO_VARCHAR2,
# SAFE_CONVERT_BYTES_TO_STRING): an encoded statement is folded to the one it spells.
_DECODERS: dict[str, Callable[[str], bytes]] = {
    "base64": lambda text: base64.b64decode(text, validate=True),
    "from_base64": lambda text: base64.b64decode(text, validate=True),
    "base64_decode_string": lambda text: base64.b64decode(text, validate=True),
    "hex": bytes.fromhex,
    "unhex": bytes.fromhex,
    "hextoraw": bytes.fromhex,
    "from_hex": bytes.fromhex,
    "hex_decode_string": bytes.fromhex,
}
_BYTES_AS_TEXT = frozenset({"convert_from", "cast_to_varchar2", "safe_convert_bytes_to_string"})
# Functions that join one text per row: STRING_AGG('TRUNCATE TABLE ' + name, ';').
_AGGREGATES = frozenset({"group_concat", "string_agg", "listagg"})
# Functions that make one character of a code point: CHAR(68) + CHAR(82) is 'DR'.
_CHARACTER_FUNCTIONS = frozenset({"chr", "char", "nchar"})
# What stands for a piece of dynamic SQL known only at run time, when the rest is read.
VISIBLE_PLACEHOLDER = "dynamic_part"
# What stands for a name quoted at run time (%I, quote_ident, QUOTENAME): one identifier,
# named as any other run-time piece is in the objects reported.
IDENTIFIER_PLACEHOLDER = VISIBLE_PLACEHOLDER
_PARTIAL = "#visible"  # texts key suffix: a variable's text with placeholders
_TEMPLATE = "#names"  # texts key suffix: a variable's text whose run-time pieces are only names
# Dialects where `SELECT @v = expression` assigns the variable (elsewhere it compares).
SELECT_ASSIGNS = frozenset({"tsql", "fabric"})
_FORMAT_SPEC = re.compile(r"%[-+ #0-9.]*[a-zA-Z%]")
_T = TypeVar("_T")


def variable_name(node: exp.Expr | None) -> str | None:
    """The lower-case name a script variable goes by: `@s` (T-SQL, MySQL) or `s`."""
    if isinstance(node, exp.Parameter):
        return "@" + node.name.lower()
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Parameter) and not node.db:
        return "@" + node.this.name.lower()  # T-SQL EXEC(@q) reads (@q) as a table name
    if isinstance(node, exp.Column) and not node.table:
        return node.name.lower()
    if isinstance(node, exp.Identifier | exp.Var):
        return node.name.lower()
    return None


def fold_text(
    node: exp.Expr | None, texts: dict[str, str], unknown: str | None = None
) -> str | None:
    """The text `node` evaluates to when it is built only from literals and known variables
    (with `unknown`: what cannot be known is that placeholder instead of failing the fold)."""
    if node is None:
        return unknown
    if isinstance(node, exp.Paren):
        return fold_text(node.this, texts, unknown)
    if (isinstance(node, exp.Literal) and node.is_string) or isinstance(node, exp.National):
        return str(node.this)
    if (
        isinstance(node, exp.Table)
        and isinstance(node.this, exp.Identifier)
        and (node.this.args.get("quoted") and not node.args.get("db"))
    ):
        return str(node.this.this)  # T-SQL EXEC('...') parses the literal as a quoted name
    if isinstance(node, exp.Add | exp.DPipe | exp.Concat):
        return _joined([fold_text(part, texts, unknown) for part in node.iter_expressions()])
    if isinstance(node, exp.Format):
        return _formatted(node, texts, unknown)
    if isinstance(node, exp.Subquery):
        # `(SELECT CONCAT('DROP TABLE ', GROUP_CONCAT(name)) FROM ...)`: its rows are known only
        # at run time; the text its one column is built from shows what the statement does.
        select = node.this
        if unknown is None or not isinstance(select, exp.Select) or len(select.expressions) != 1:
            return unknown
        return fold_text(select.expressions[0].unalias(), texts, unknown)
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        package = node.this.name.lower() if isinstance(node.this, exp.Identifier) else ""
        return _function_text(package, node.expression, texts, unknown)
    if isinstance(node, exp.Func):
        return _function_text("", node, texts, unknown)
    name = variable_name(node)
    known = texts.get(name) if name is not None else None
    if known is None and unknown is not None and name is not None:
        known = texts.get(name + _PARTIAL)
    return unknown if known is None else known


def assembled_text(statement: _Statement, node: exp.Expr | None, what: str) -> str | None:
    """`fold_text`, naming the statement `dynamic` when the text was put together at run time
    (pieces, functions, variables) rather than written as one literal: what is folded here is
    what the script would build if it runs as read."""
    text = fold_text(node, statement.texts)
    if text is not None and not _plain_literal(node):
        statement.add(I.DYNAMIC, f"{what} runs SQL assembled at run time (read here as folded)")
    if text is None and (template := identifier_template(node, statement.texts)) is not None:
        _judge_named_at_run_time(statement, template, what)
        return template
    if text is None:
        _visible_parts(statement, visible_text(node, statement.texts), what)
    return text


def identifier_template(node: exp.Expr | None, texts: dict[str, str]) -> str | None:
    """Dynamic SQL text whose only run-time pieces are identifiers (`format('ANALYZE %I.%I', s,
    t)`, `'DROP TABLE ' || quote_ident(t)`, QUOTENAME(@t)), each written as a placeholder name:
    quoting makes the piece one name, so the statement around it is known."""
    if node is None:
        return None
    name = variable_name(node) if isinstance(node, exp.Parameter | exp.Table) else None
    if name is not None:  # `EXEC sp_executesql @sql`, @sql built from QUOTENAME(...) pieces
        return texts.get(name + _TEMPLATE)
    marked = node.copy().transform(lambda part: _name_placeholder(part, texts))
    if marked.find(exp.Literal) is None or IDENTIFIER_PLACEHOLDER not in marked.sql():
        return None
    return fold_text(marked, texts)


def _name_placeholder(part: exp.Expr, texts: dict[str, str]) -> exp.Expr:
    placeholder = exp.Literal.string(IDENTIFIER_PLACEHOLDER)
    function = part.expression if isinstance(part, exp.Dot) else part
    package = part.this.name.lower() if isinstance(part, exp.Dot) else ""
    if isinstance(function, exp.Func) and not isinstance(function, exp.Format):
        name = (
            function.name if isinstance(function, exp.Anonymous) else function.sql_name()
        ).lower()
        quoting = package in _IDENTIFIER_FUNCTIONS or name in _IDENTIFIER_FUNCTIONS
        return placeholder if quoting and fold_text(part, texts) is None else part
    if not isinstance(part, exp.Format) or (pattern := fold_text(part.this, texts)) is None:
        return part
    pieces = split_format(pattern, list(part.expressions))
    if pieces is None:
        return part
    values = [
        placeholder if spec.endswith("I") and fold_text(value, texts) is None else value
        for spec, value in (piece for piece in pieces if not isinstance(piece, str))
    ]
    return exp.Format(this=exp.Literal.string(pattern), expressions=values)


#: What a template's statement may do and still run unreviewed, whichever names it is given.
_NAME_BLIND_INTENTS = frozenset({I.READ})


def _judge_named_at_run_time(statement: _Statement, template: str, what: str) -> None:
    """A statement whose names alone come at run time (the caller embeds what it does): a read,
    an ANALYZE or a VACUUM is that whichever tables it names; anything else stays dynamic, and a
    delete is a delete from as many tables as the names stand for."""
    if statement.depth >= MAX_DEPTH:
        return
    inner = analyze_nested(template, statement.dialect_name, depth=statement.depth + 1)
    intents = {intent for effect in inner for intent in effect.intents}
    if not inner or not intents <= _NAME_BLIND_INTENTS:
        statement.add(I.DYNAMIC, f"{what} runs SQL naming objects at run time: {template[:80]}")
    if I.DELETE in intents:
        statement.add(
            I.MASS_MUTATION,
            f"{what} deletes from objects named only at run time ({template[:80]}): whichever "
            "tables the names stand for, as many as it runs for",
        )


def visible_variable(texts: dict[str, str], name: str) -> str | None:
    """The text a variable holds with its run-time pieces as placeholders, if it was built so."""
    return texts.get(name + _PARTIAL)


def visible_effects(statement: _Statement, text: str | None) -> list[StatementEffect]:
    """What the visible pieces of run-time SQL do, where they read as SQL."""
    if text is None or statement.depth >= MAX_DEPTH:
        return []
    inner = analyze_nested(text, statement.dialect_name, depth=statement.depth + 1)
    return [effect for effect in inner if I.UNPARSEABLE not in effect.intents]


def _visible_parts(statement: _Statement, text: str | None, what: str) -> None:
    """What the visible pieces of run-time SQL do is named too (the statement stays dynamic):
    `EXECUTE 'DROP TABLE ' || name` drops a table, whichever one."""
    readable = visible_effects(statement, text)
    if readable and text is not None:
        statement.add(I.DYNAMIC, f"{what} runs SQL built at run time; visible part: {text[:80]}")
        statement.embed(readable)


def visible_text(node: exp.Expr | None, texts: dict[str, str]) -> str | None:
    """Dynamic SQL text with what is only known at run time as a placeholder name
    (`'DROP TABLE stg.' || r.name` -> `DROP TABLE stg.dynamic_part`), when some of it is visible."""
    text = fold_text(node, texts, VISIBLE_PLACEHOLDER)
    if text is None or not text.replace(VISIBLE_PLACEHOLDER, "").strip(" \t\n'\".,;()[]`"):
        return None
    return text


def _plain_literal(node: exp.Expr | None) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Table):  # EXEC('...') is a quoted name; EXEC(@q) a variable's
        return isinstance(node.this, exp.Identifier)
    return isinstance(node, exp.National) or (isinstance(node, exp.Literal) and node.is_string)


def _joined(parts: list[str | None]) -> str | None:
    if not parts or any(part is None for part in parts):
        return None
    return "".join(part for part in parts if part is not None)


def _function_text(
    package: str, node: exp.Func, texts: dict[str, str], unknown: str | None
) -> str | None:
    name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
    arguments = list(node.iter_expressions())
    if not arguments:
        return unknown
    code = arguments[0]
    if name in _CHARACTER_FUNCTIONS and len(arguments) == 1 and isinstance(code, exp.Literal):
        if not code.is_string and str(code.this).isdigit() and int(str(code.this)) < 0x110000:
            return chr(int(str(code.this)))
        return unknown
    first = fold_text(arguments[0], texts, unknown)
    if first is None:
        return None
    if package in _IDENTIFIER_FUNCTIONS or name in _IDENTIFIER_FUNCTIONS:
        return first  # the same object, however its name is quoted
    if name in _AGGREGATES and unknown is not None:
        return first  # one row's text stands for the text of every row
    if name in _BYTES_AS_TEXT:
        return first  # decoded bytes read as the text they spell
    decoder = _DECODERS.get(name) if len(arguments) == 1 else None
    if name == "decode" and len(arguments) == 2:
        decoder = _DECODERS.get((fold_text(arguments[1], texts) or "").lower())
    if decoder is not None:
        return _decoded(decoder, first, unknown)
    transform = _TEXT_FUNCTIONS.get(name)
    return transform(first) if transform is not None and len(arguments) == 1 else unknown


def _decoded(decoder: Callable[[str], bytes], text: str, unknown: str | None) -> str | None:
    """`text` decoded (base64, hex) to the UTF-8 text it spells, or `unknown` if it is not."""
    try:
        return decoder(text).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return unknown


def _formatted(node: exp.Format, texts: dict[str, str], unknown: str | None) -> str | None:
    """FORMAT('TRUNCATE TABLE %s.%s', 'sales', 'orders') with text arguments; PostgreSQL's %L
    writes its value as a quoted literal (`WHERE email = %L`)."""
    pattern = fold_text(node.this, texts, unknown)
    values = [fold_text(value, texts, unknown) for value in node.expressions]
    if pattern is None or any(value is None for value in values):
        return None
    pieces = split_format(pattern, [value for value in values if value is not None])
    if pieces is None:
        return None
    return "".join(
        piece if isinstance(piece, str) else _spliced(*piece, unknown) for piece in pieces
    )


def _spliced(spec: str, value: str, unknown: str | None) -> str:
    """A value where its spec stands; `%L` writes it as a quoted literal (unless unknown)."""
    if spec.endswith("L") and value != unknown:
        return "'" + value.replace("'", "''") + "'"
    return value


def split_format(pattern: str, arguments: Sequence[_T]) -> list[str | tuple[str, _T]] | None:
    """FORMAT's pattern cut into its text and, for each spec (`%s`, `%I`, `%L`, `%-10s`), the
    spec with the argument it takes in turn; `%%` is text (`%`). Text comes before each spec and
    after the last, even empty. None when the specs outnumber the arguments."""
    remaining = list(arguments)
    pieces: list[str | tuple[str, _T]] = []
    position = 0
    for match in _FORMAT_SPEC.finditer(pattern):
        pieces.append(pattern[position : match.start()])
        if match.group() == "%%":
            pieces.append("%")
        elif remaining:
            pieces.append((match.group(), remaining.pop(0)))
        else:
            return None
        position = match.end()
    pieces.append(pattern[position:])
    return pieces


def script_assignments(
    tree: exp.Expr | None, dialect: str | None = None
) -> tuple[list[tuple[exp.Expr | None, exp.Expr | None]], bool]:
    """The (variable, value) pairs `tree` assigns (SET, DECLARE ... = / DEFAULT, SELECT ... INTO
    @v, T-SQL SELECT @v = ...), and whether they are assigned once per row read (then how often,
    if ever, is known only at run time)."""
    assigned: list[tuple[exp.Expr | None, exp.Expr | None]] = []
    per_row = False
    if isinstance(tree, exp.Set):
        for item in tree.expressions:
            inner = item.this if isinstance(item, exp.SetItem) else None
            if isinstance(inner, exp.EQ):
                assigned.extend(_paired(inner.this, inner.expression))
    elif isinstance(tree, exp.Declare):
        for item in tree.expressions:
            targets = item.this if isinstance(item.this, list) else [item.this]
            assigned.extend((target, item.args.get("default")) for target in targets)
    elif (
        isinstance(tree, exp.Select)
        and isinstance(into := tree.args.get("into"), exp.Into)
        and len(tree.expressions) == 1
    ):
        # MySQL `SELECT CONCAT('DROP TABLE ', GROUP_CONCAT(table_name)) INTO @ddl FROM ...`
        assigned.append((into.this, tree.expressions[0]))
    elif isinstance(tree, exp.Select) and any(
        isinstance(item, exp.PropertyEQ) for item in tree.expressions
    ):
        # MySQL `SELECT @pat := '%'` (once per row read when it has a FROM)
        assigned.extend(
            (item.this, item.expression)
            for item in tree.expressions
            if isinstance(item, exp.PropertyEQ) and isinstance(item.this, exp.Parameter)
        )
        per_row = tree.args.get("from_") is not None
    elif isinstance(tree, exp.Select) and dialect in SELECT_ASSIGNS:
        # T-SQL `SELECT @sql = @sql + N'DROP TABLE ' + name FROM sys.tables` (or `@sql += ...`)
        assigned.extend(
            (item.this, item.expression)
            for item in tree.expressions
            if isinstance(item, exp.EQ) and isinstance(item.this, exp.Parameter)
        )
        per_row = tree.args.get("from_") is not None
    return assigned, per_row


def _paired(
    targets: exp.Expr, values: exp.Expr | None
) -> list[tuple[exp.Expr | None, exp.Expr | None]]:
    """Snowflake `SET (a, b) = ('prod', '2999-12-31')` assigns each variable of the tuple the
    value in its place; a tuple of another length assigns each an unknown value."""
    if not isinstance(targets, exp.Tuple):
        return [(targets, values)]
    if isinstance(values, exp.Tuple) and len(values.expressions) == len(targets.expressions):
        return list(zip(targets.expressions, values.expressions, strict=True))
    return [(target, exp.Anonymous(this="unknown")) for target in targets.expressions]


def remember_assignments(
    tree: exp.Expr | None, texts: dict[str, str], dialect: str | None = None
) -> list[str]:
    """Record the text each variable is assigned by `tree` (`script_assignments`); a variable
    assigned something that does not fold is forgotten, but for its visible pieces
    (`visible_variable`). Returns the names assigned."""
    assigned, per_row = script_assignments(tree, dialect)
    names: list[str] = []
    for target, value in assigned:
        name = variable_name(target)
        if name is None:
            continue
        text = None if per_row else fold_text(value, texts)
        partial = visible_text(value, texts) if text is None else None  # may read its old value
        texts.pop(name + _PARTIAL, None)
        template = (
            identifier_template(value, texts)
            if text is None and isinstance(value, exp.Expr)
            else None
        )
        texts.pop(name + _TEMPLATE, None)
        if template is not None:  # per row too: one statement per name, each judged alike
            texts[name + _TEMPLATE] = template
        if text is None:
            texts.pop(name, None)
            if partial is not None:
                texts[name + _PARTIAL] = partial
                names.append(name)
        else:
            texts[name] = text
            names.append(name)
    return names
