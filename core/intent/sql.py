"""SQL -> statement effects: what each statement of a script will do, through sqlglot.

The script is tokenised once by the dialect's tokenizer, split into statements at top-level
semicolons (never by regex: strings, comments and dollar quotes are already single tokens), and
each statement is parsed and classified by one walk over its syntax tree. Whatever sqlglot cannot
parse is classified by its leading keywords, and anything still not understood is `unparseable`,
so that the policy can fail closed. `analyze_sql` never raises.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.model import (
    CommandKind,
    Finding,
    Intent,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    StatementEffect,
    sorted_intents,
)

# sqlglot logs a warning for every statement it falls back to parsing as a generic Command; we
# classify those ourselves, so the warning is noise in task logs.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

MAX_DEPTH = 4
"""How deep literal dynamic SQL (EXECUTE 'EXECUTE ''...''') is unwrapped before giving up."""

A = ObjectAction
K = ObjectKind
I = Intent  # noqa: E741 - the intent vocabulary reads best short in the tables below

# --------------------------------------------------------------------------- dialects

DIALECT_ALIASES: dict[str, str] = {
    "postgresql": "postgres",
    "pg": "postgres",
    "psql": "postgres",
    "mariadb": "mysql",
    "aurora-mysql": "mysql",
    "mssql": "tsql",
    "sqlserver": "tsql",
    "sql-server": "tsql",
    "azuresql": "tsql",
    "synapse": "tsql",
    "presto": "trino",
    "athena": "athena",
    "starburst": "trino",
    "spark2": "spark2",
    "spark_sql": "spark",
    "sparksql": "spark",
    "hive": "hive",
    "gcpbigquery": "bigquery",
    "google_cloud_platform": "bigquery",
    "sqlite3": "sqlite",
    "ch": "clickhouse",
}

MYSQL_FAMILY = frozenset({"mysql", "singlestore", "doris", "starrocks"})

_DIALECTS: dict[str | None, Dialect] = {}


class UnknownDialectError(ValueError):
    """The dialect name is neither a sqlglot dialect nor one of our aliases."""


_RESOLVED: dict[str, str] = {}


def resolve_dialect(name: str | None) -> str | None:
    """Our canonical dialect name for a user-facing name (`postgresql` -> `postgres`)."""
    if name is None or name == "":
        return None
    resolved = _RESOLVED.get(name)
    if resolved is not None:
        return resolved
    lowered = name.strip().lower()
    canonical = DIALECT_ALIASES.get(lowered, lowered)
    # Dialect.classes imports every dialect module on each access: look it up once per name.
    if canonical not in Dialect.classes:
        known = sorted({*Dialect.classes.keys(), *DIALECT_ALIASES.keys()} - {""})
        raise UnknownDialectError(
            f"unknown SQL dialect {name!r}; known dialects: {', '.join(known)}"
        )
    _RESOLVED[name] = canonical
    return canonical


_TOOLS = threading.local()


def _tokenizer_and_parser(dialect: Dialect) -> tuple[Any, Any]:
    """One tokenizer and one parser per thread and dialect: both reset their state on every
    call, and building them costs more than tokenising a short statement."""
    tools: dict[int, tuple[Any, Any]] | None = getattr(_TOOLS, "by_dialect", None)
    if tools is None:
        tools = _TOOLS.by_dialect = {}
    found = tools.get(id(dialect))
    if found is None:
        found = tools[id(dialect)] = (dialect.tokenizer(), dialect.parser())
    return found


def _dialect(name: str | None) -> Dialect:
    cached = _DIALECTS.get(name)
    if cached is None:
        cached = Dialect.get_or_raise(name)
        _DIALECTS[name] = cached
    return cached


# --------------------------------------------------------------------------- dialect quirks
# Each quirk is one small function that rewrites the text *without moving any character*, so
# every span we report still points into the original input.

_MYSQL_EXECUTABLE_COMMENT = re.compile(r"/\*(?:M?!)(\d{5,6})?")


def unwrap_mysql_executable_comments(text: str) -> str:
    """`/*! ... */`, `/*!50000 ... */` and MariaDB's `/*M! ... */` are code on MySQL, not comments.

    The opening and closing markers are blanked out (same length) so the body is analysed as the
    statement text it is. Quotes and ordinary comments are skipped so markers inside them stay.
    """
    if "/*" not in text or "!" not in text:
        return text
    chars = list(text)
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char in "'\"`":
            position = _skip_quoted(text, position)
            continue
        if text.startswith("--", position) or char == "#":
            newline = text.find("\n", position)
            position = length if newline < 0 else newline + 1
            continue
        if text.startswith("/*", position):
            close = text.find("*/", position + 2)
            close = length if close < 0 else close
            marker = _MYSQL_EXECUTABLE_COMMENT.match(text, position)
            if marker:
                for index in range(position, marker.end()):
                    chars[index] = " "
                for index in range(close, min(close + 2, length)):
                    chars[index] = " "
                position = marker.end()
                continue
            position = close + 2
            continue
        position += 1
    return "".join(chars)


def _skip_quoted(text: str, position: int) -> int:
    quote = text[position]
    position += 1
    while position < len(text):
        if text[position] == "\\" and quote != "`":
            position += 2
            continue
        if text[position] == quote:
            if text.startswith(quote * 2, position):
                position += 2
                continue
            return position + 1
        position += 1
    return position


def blank_byte_order_mark(text: str) -> str:
    """A leading BOM (files saved by some editors) is not part of the first keyword."""
    return " " + text[1:] if text.startswith("\ufeff") else text


def _preprocess(text: str, dialect: str | None) -> str:
    text = blank_byte_order_mark(text)
    if dialect is None or dialect in MYSQL_FAMILY:
        # With no dialect we cannot rule MySQL out, so its executable comments count as code.
        text = unwrap_mysql_executable_comments(text)
    return text


# --------------------------------------------------------------------------- look-alikes

_QUOTED_TOKENS = frozenset(
    {
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.BYTE_STRING,
        TokenType.UNICODE_STRING,
        TokenType.IDENTIFIER,
    }
)


def _lookalike_character(token: Token) -> str | None:
    """A character in an unquoted word that imitates ASCII (fullwidth letters, odd spaces).

    Fullwidth `DROP` (U+FF24 ...) is not the keyword DROP to sqlglot, but a database or a later
    normalisation step may read it as one: such input is `unparseable`, never an identifier.
    """
    if token.token_type in _QUOTED_TOKENS or token.text.isascii():
        return None
    for char in token.text:
        if char.isascii():
            continue
        category = unicodedata.category(char)
        if (
            category in ("Cf", "Zs", "Cc", "Zl", "Zp")
            or unicodedata.normalize("NFKC", char) != char
        ):
            return char
    return None


_COMMENT = re.compile(r"--[^\n]*|#[^\n]*|//[^\n]*|/\*.*?(?:\*/|$)", flags=re.DOTALL)


def _odd_code_characters(source: str, tokens: list[Token]) -> list[int]:
    """Positions of non-ASCII spacing or format characters in code, outside strings and comments.

    sqlglot treats U+3000 or U+00A0 as whitespace where PostgreSQL, for one, reads them as part
    of an identifier: when the parser and the database disagree on where words end, the analysis
    cannot be trusted, so such statements are `unparseable`.
    """
    if source.isascii():
        return []
    odd = [
        position
        for position, char in enumerate(source)
        if not char.isascii() and unicodedata.category(char) in ("Zs", "Cf", "Cc", "Zl", "Zp")
    ]
    if not odd:
        return []
    covered: list[tuple[int, int]] = [
        (token.start, token.end + 1) for token in tokens if token.token_type in _QUOTED_TOKENS
    ]
    covered.extend(match.span() for match in _COMMENT.finditer(source))
    return [p for p in odd if not any(start <= p < end for start, end in covered)]


# --------------------------------------------------------------------------- accumulation


@dataclass
class _Names:
    """Per-dialect identifier normalisation and the caller's default schema/catalog."""

    dialect: Dialect
    default_schema: str | None = None
    default_catalog: str | None = None

    def parser(self) -> Any:
        return _tokenizer_and_parser(self.dialect)[1]

    def tokenize(self, text: str) -> list[Token]:
        tokens: list[Token] = _tokenizer_and_parser(self.dialect)[0].tokenize(text)
        return tokens

    def identifier(self, node: exp.Expr | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, exp.Identifier):
            return _normalise(self.dialect, node.this, quoted=bool(node.args.get("quoted")))
        if isinstance(node, exp.Literal | exp.Var):
            return str(node.this)
        name = node.name
        return name or None


def _normalise(dialect: Dialect, text: str, *, quoted: bool) -> str:
    strategy = dialect.normalization_strategy
    if strategy is NormalizationStrategy.CASE_SENSITIVE:
        return text
    insensitive = strategy in (
        NormalizationStrategy.CASE_INSENSITIVE,
        NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE,
    )
    if quoted and not insensitive:
        return text
    if strategy in (
        NormalizationStrategy.UPPERCASE,
        NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE,
    ):
        return text.upper()
    return text.lower()


@dataclass
class _Statement:
    """Mutable accumulator for one statement while its tree is walked."""

    names: _Names
    dialect_name: str | None
    depth: int
    operation: str = ""
    intents: set[Intent] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    objects: dict[tuple[str, str, str], ObjectRef] = field(default_factory=dict)
    embedded: list[StatementEffect] = field(default_factory=list)
    claimed_tables: set[int] = field(default_factory=set)
    cte_names: set[str] = field(default_factory=set)
    tables: list[exp.Table] = field(default_factory=list)

    def add(self, intent: Intent, message: str) -> None:
        self.intents.add(intent)
        for finding in self.findings:
            if finding.intent is intent and finding.message == message:
                return
        self.findings.append(Finding(intent=intent, message=message))

    def obj(
        self,
        kind: ObjectKind,
        action: ObjectAction,
        name: str | None,
        *,
        schema: str | None = None,
        catalog: str | None = None,
        column: str | None = None,
    ) -> ObjectRef | None:
        if not name:
            return None
        ref = ObjectRef(
            kind=kind, action=action, name=name, schema=schema, catalog=catalog, column=column
        )
        self.objects.setdefault((kind.value, action.value, ref.qualified), ref)
        return ref

    def table(
        self, node: exp.Expr | None, action: ObjectAction, kind: ObjectKind = K.TABLE
    ) -> ObjectRef | None:
        """Record a table-like node as touched with `action` (and not as a plain read)."""
        if isinstance(node, exp.Schema):
            node = node.this
        if not isinstance(node, exp.Table):
            return None
        self.claimed_tables.add(id(node))
        special = _stage_or_location(node)
        if special is not None:
            special_kind, location = special
            return self.obj(special_kind, action, location)
        if kind in (K.SCHEMA, K.DATABASE):
            # `DROP SCHEMA s` arrives as Table(db=s), `DROP DATABASE d` as Table(this=d): the
            # schema or database is the object itself, with no default schema around it.
            parts = [self.names.identifier(node.args.get(key)) for key in ("catalog", "db", "this")]
            present = [part for part in parts if part]
            if not present:
                return None
            return self.obj(
                kind, action, present[-1], catalog=present[-2] if len(present) > 1 else None
            )
        catalog, schema, name = self.qualify(node)
        return self.obj(kind, action, name, schema=schema, catalog=catalog)

    def qualify(self, node: exp.Table) -> tuple[str | None, str | None, str | None]:
        names = self.names
        name = names.identifier(node.args.get("this"))
        schema = names.identifier(node.args.get("db")) or None
        catalog = names.identifier(node.args.get("catalog")) or None
        if name and schema is None:
            schema = names.default_schema
        if name and catalog is None:
            catalog = names.default_catalog
        return catalog, schema, name

    def embed(self, effects: Iterable[StatementEffect]) -> None:
        for effect in effects:
            self.embedded.append(effect)
            self.intents.update(effect.intents)
            for ref in effect.objects:
                self.objects.setdefault((ref.kind.value, ref.action.value, ref.qualified), ref)

    def build(self, index: int, text: str, span: tuple[int, int]) -> StatementEffect:
        return StatementEffect(
            index=index,
            kind=CommandKind.SQL,
            dialect=self.dialect_name,
            text=text,
            span=span,
            operation=self.operation or "UNKNOWN",
            intents=sorted_intents(self.intents),
            objects=tuple(self.objects.values()),
            findings=tuple(self.findings),
            embedded=tuple(self.embedded),
        )


def _stage_or_location(node: exp.Table) -> tuple[ObjectKind, str] | None:
    """Snowflake stages (`@stage/path`, `@~`, `@%t`) and quoted URLs or paths used as tables."""
    this = node.args.get("this")
    if isinstance(this, exp.Var) and str(this.this).startswith("@"):
        return K.STAGE, str(this.this)
    if isinstance(this, exp.Literal) and this.is_string:
        return _location_kind(this.this), this.this
    return None


def _location_kind(location: str) -> ObjectKind:
    return K.URL if "://" in location and not location.startswith("file://") else K.FILE


# --------------------------------------------------------------------------- entry point


def analyze_sql(
    text: str,
    dialect: str | None,
    *,
    depth: int = 0,
    default_schema: str | None = None,
    default_catalog: str | None = None,
) -> list[StatementEffect]:
    """One StatementEffect per statement of `text`, in order. Never raises."""
    try:
        canonical = resolve_dialect(dialect)
    except UnknownDialectError as error:
        return [_whole_text_unparseable(text, dialect, str(error))]
    try:
        return _analyze(
            text, canonical, depth, _Names(_dialect(canonical), default_schema, default_catalog)
        )
    except Exception as error:  # the analyzer must fail closed, never crash the guard
        return [_whole_text_unparseable(text, canonical, f"analyzer error: {error!r}")]


def _whole_text_unparseable(text: str, dialect: str | None, message: str) -> StatementEffect:
    return StatementEffect(
        index=0,
        kind=CommandKind.SQL,
        dialect=dialect,
        text=text.strip(),
        span=(0, len(text)),
        operation="UNKNOWN",
        intents=(I.UNPARSEABLE,),
        findings=(Finding(intent=I.UNPARSEABLE, message=message),),
    )


@dataclass
class _Chunk:
    tokens: list[Token]
    start: int
    end: int


def _analyze(
    text: str, dialect_name: str | None, depth: int, names: _Names
) -> list[StatementEffect]:
    source = _preprocess(text, dialect_name)
    try:
        tokens = names.tokenize(source)
    except SqlglotError as error:
        return [_whole_text_unparseable(text, dialect_name, f"cannot tokenise: {error}")]
    effects: list[StatementEffect] = []
    prepared: dict[str, list[StatementEffect]] = {}
    odd_characters = _odd_code_characters(source, tokens)
    for chunk in _split_statements(tokens, source):
        statement = _Statement(names=names, dialect_name=dialect_name, depth=depth)
        odd = next((p for p in odd_characters if chunk.start <= p < chunk.end), None)
        if odd is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"unusual character U+{ord(source[odd]):04X} between "
                "words: the database may split this statement differently",
            )
        else:
            _classify_chunk(statement, chunk, source, prepared)
        effects.append(
            statement.build(len(effects), text[chunk.start : chunk.end], (chunk.start, chunk.end))
        )
    return effects


def _split_statements(tokens: list[Token], source: str) -> list[_Chunk]:
    """Statements are the token runs between top-level semicolons (the tokenizer has already
    swallowed semicolons inside strings, comments, dollar quotes and command bodies)."""
    chunks: list[_Chunk] = []
    current: list[Token] = []
    for token in tokens:
        if token.token_type is TokenType.SEMICOLON:
            if current:
                chunks.append(_chunk(current, source, token.start))
            current = []
        else:
            current.append(token)
    if current:
        chunks.append(_chunk(current, source, len(source)))
    return chunks


def _chunk(tokens: list[Token], source: str, boundary: int) -> _Chunk:
    # The end is taken from the terminating semicolon, not the last token: the tokenizer folds a
    # command's body (DO, EXECUTE, ...) into one STRING token whose recorded offsets are unreliable.
    start = tokens[0].start
    end = boundary
    while end > start and source[end - 1].isspace():  # scan back, never copy the prefix
        end -= 1
    return _Chunk(tokens=tokens, start=start, end=max(end, tokens[0].end + 1))


def _classify_chunk(
    statement: _Statement, chunk: _Chunk, source: str, prepared: dict[str, list[StatementEffect]]
) -> None:
    ascii_only = source.isascii()
    for token in () if ascii_only else chunk.tokens:
        char = _lookalike_character(token)
        if char is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"look-alike character {char!r} (U+{ord(char):04X}) in {token.text!r}: "
                "not read as SQL",
            )
            return
    parser = statement.names.parser()
    try:
        parsed = parser.parse(chunk.tokens, source)
        tree = parsed[0] if parsed else None
    except SqlglotError as error:
        if not _recover_from_parse_error(statement, chunk, source, prepared):
            statement.operation = _leading_words(chunk.tokens, 1) or "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"does not parse as {_dialect_label(statement)}: {_first_line(str(error))}",
            )
            _classify_by_keywords(statement, chunk, source, prepared, parse_failed=True)
        return
    if tree is None:
        return
    _classify_tree(statement, tree, chunk, source, prepared)


def _dialect_label(statement: _Statement) -> str:
    return f"{statement.dialect_name} SQL" if statement.dialect_name else "SQL"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _leading_words(tokens: list[Token], count: int) -> str:
    return " ".join(token.text.upper() for token in tokens[:count])


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
        rule = _match_rule(words)
        if rule is not None and not rule.intents:
            statement.operation = rule.operation
            return
        statement.operation = "UNKNOWN"
        statement.add(I.UNPARSEABLE, f"not a SQL statement (parsed as {root_type.__name__})")
        return
    statement.operation = _operation_name(tree)
    if isinstance(tree, exp.Query):
        statement.add(I.READ, "query")
    _walk(statement, tree, chunk)


def _walk(statement: _Statement, tree: exp.Expr, chunk: _Chunk | None) -> None:
    handlers = _HANDLERS
    for node in tree.walk():
        node_type = type(node)
        if node_type is exp.Table:
            statement.tables.append(node)  # type: ignore[arg-type]
            continue
        if node_type is exp.CTE:
            alias = node.alias_or_name
            if alias:
                statement.cte_names.add(_normalise(statement.names.dialect, alias, quoted=False))
            continue
        handler = handlers.get(node_type)
        if handler is not None:
            handler(statement, node, chunk)
        elif node_type is exp.Anonymous:
            _check_function(statement, node)
    _record_reads(statement)


def _record_reads(statement: _Statement) -> None:
    """Every table not claimed as a target by a handler is read (CTE references excepted)."""
    for node in statement.tables:
        if id(node) in statement.claimed_tables:
            continue
        this = node.args.get("this")
        if isinstance(this, exp.Func):
            _table_function(statement, node, this)
            continue
        if isinstance(this, exp.Parameter | exp.Placeholder):
            continue
        if not node.args.get("db") and not node.args.get("catalog"):
            name = node.name
            if name and _normalise(statement.names.dialect, name, quoted=False) in (
                statement.cte_names
            ):
                continue
        ref = statement.table(node, A.READ)
        if ref is not None:
            statement.intents.add(I.READ)


# Table functions that read files, URLs or other servers (DuckDB, ClickHouse, Trino, Spark).
_READING_TABLE_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_text",
        "read_blob",
        "parquet_scan",
        "delta_scan",
        "iceberg_scan",
        "file",
        "url",
        "s3",
        "s3cluster",
        "gcs",
        "hdfs",
        "azureblobstorage",
        "remote",
        "remotesecure",
        "mysql",
        "postgresql",
        "jdbc",
        "odbc",
        "glob",
        "openrowset",
        "opendatasource",
        "openquery",
    }
)


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower() if isinstance(node, exp.Func) else ""


def _table_function(statement: _Statement, table: exp.Table, function: exp.Expr) -> None:
    name = _function_name(function)
    literal = next(
        (
            arg.this
            for arg in function.iter_expressions()
            if isinstance(arg, exp.Literal) and arg.is_string
        ),
        None,
    )
    statement.intents.add(I.READ)
    if name in _READING_TABLE_FUNCTIONS and literal:
        statement.obj(_location_kind(literal), A.READ, literal)
    if name in ("openrowset", "opendatasource", "openquery"):
        statement.add(I.HOST_ACCESS, f"{name.upper()} reaches an external data source")
    _check_function(statement, function)


# --------------------------------------------------------------------------- handlers


def _operation_name(tree: exp.Expr) -> str:
    base = _STATEMENT_OPERATIONS.get(type(tree))
    if isinstance(tree, exp.Query):
        return "SELECT INTO" if tree.args.get("into") else "SELECT"
    if isinstance(tree, exp.Create):
        kind = _kind(tree)
        return f"CREATE {'OR REPLACE ' if tree.args.get('replace') else ''}{kind}".strip()
    if isinstance(tree, exp.Drop):
        kind = _kind(tree)
        materialized = "MATERIALIZED " if tree.args.get("materialized") else ""
        return f"DROP {materialized}{kind}".strip()
    if isinstance(tree, exp.Alter):
        actions = tree.args.get("actions") or []
        if any(isinstance(action, exp.AlterRename) for action in actions):
            return f"ALTER {_kind(tree)} RENAME"
        return f"ALTER {_kind(tree)}".strip()
    if isinstance(tree, exp.Insert):
        if isinstance(tree.this, exp.Directory):
            return "INSERT OVERWRITE DIRECTORY"
        return "INSERT OVERWRITE" if tree.args.get("overwrite") else "INSERT"
    if isinstance(tree, exp.Copy):
        return "COPY FROM" if tree.args.get("kind") else "COPY TO"
    return base or type(tree).__name__.upper()


def _kind(tree: exp.Expr) -> str:
    kind = tree.args.get("kind")
    return str(kind).upper() if kind else "TABLE"


Handler = Callable[[_Statement, Any, "_Chunk | None"], None]


def _handle_into(statement: _Statement, node: exp.Into, chunk: _Chunk | None) -> None:
    target = node.this
    if isinstance(target, exp.Table) and isinstance(target.this, exp.Parameter):
        return  # MySQL `SELECT ... INTO @variable` assigns variables, it touches no table
    if statement.table(target, A.CREATE) is not None:
        statement.add(I.WRITE, "SELECT INTO creates a table and fills it")
        statement.add(I.SCHEMA_CHANGE, "SELECT INTO creates a table")


def _handle_insert(statement: _Statement, node: exp.Insert, chunk: _Chunk | None) -> None:
    if isinstance(node.parent, exp.When):
        return  # a MERGE branch inserting into the MERGE target, recorded by _handle_merge
    target = node.this
    if isinstance(target, exp.Directory):
        location = target.this.name if target.this is not None else "directory"
        statement.obj(_location_kind(location), A.EXPORT_TARGET, location)
        statement.add(I.EXPORT, f"INSERT OVERWRITE DIRECTORY writes query results to {location}")
        return
    if node.args.get("is_function") or isinstance(target, exp.Func):
        function = target if isinstance(target, exp.Func) else None
        name = _function_name(function) if function is not None else "function"
        literal = _first_string_argument(function)
        statement.obj(
            _location_kind(literal) if literal else K.URL, A.EXPORT_TARGET, literal or name
        )
        statement.add(I.EXPORT, f"INSERT INTO FUNCTION {name}(...) sends rows out of the database")
        return
    if node.args.get("overwrite"):
        statement.table(target, A.REPLACE)
        statement.add(I.WRITE, "INSERT OVERWRITE writes rows")
        statement.add(I.DELETE, "INSERT OVERWRITE replaces the existing rows")
        return
    statement.table(target, A.WRITE)
    statement.add(I.WRITE, "INSERT writes rows")


def _first_string_argument(function: exp.Expr | None) -> str | None:
    if function is None:
        return None
    for arg in function.iter_expressions():
        if isinstance(arg, exp.Literal) and arg.is_string:
            return str(arg.this)
    return None


def _handle_update(statement: _Statement, node: exp.Update, chunk: _Chunk | None) -> None:
    if isinstance(node.parent, exp.When):
        return  # a MERGE branch: bounded by the MERGE's ON condition, judged by _handle_merge
    target = node.this
    for table in _joined_tables(target):
        # MySQL `UPDATE a JOIN b ON ... SET a.x = b.y` may write either side; claim the first.
        statement.table(table, A.WRITE)
        break
    statement.add(I.WRITE, "UPDATE changes rows")
    _check_unbounded(statement, node.args.get("where"), "UPDATE")


def _handle_delete(statement: _Statement, node: exp.Delete, chunk: _Chunk | None) -> None:
    targets = node.args.get("tables") or [node.this]
    for target in targets:
        statement.table(target, A.DELETE)
    if isinstance(node.parent, exp.Alter):
        statement.table(node.parent.this, A.DELETE)  # ClickHouse `ALTER TABLE t DELETE WHERE`
    statement.add(I.DELETE, "DELETE removes rows")
    _check_unbounded(statement, node.args.get("where"), "DELETE")


def _joined_tables(node: exp.Expr | None) -> list[exp.Table]:
    if isinstance(node, exp.Table):
        return [node]
    return []


def _check_unbounded(statement: _Statement, where: exp.Expr | None, verb: str) -> None:
    if where is None:
        statement.add(I.MASS_MUTATION, f"{verb} without a WHERE clause touches every row")
        return
    condition = where.this if isinstance(where, exp.Where) else where
    if predicate_truth(condition) is True:
        statement.add(
            I.MASS_MUTATION,
            f"{verb} with an always-true WHERE ({condition.sql()[:80]}) touches every row",
        )


def _handle_merge(statement: _Statement, node: exp.Merge, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.WRITE)
    statement.add(I.WRITE, "MERGE writes rows")
    on_always_true = predicate_truth(node.args.get("on")) is True
    whens = node.args.get("whens")
    for when in whens.expressions if whens is not None else []:
        then = when.args.get("then")
        deletes = isinstance(then, exp.Var) and str(then.this).upper() == "DELETE"
        mutates = deletes or isinstance(then, exp.Update)
        if deletes:
            statement.table(node.this, A.DELETE)
            statement.add(I.DELETE, "MERGE has a WHEN ... THEN DELETE branch")
            if when.args.get("source"):
                statement.add(
                    I.DELETE,
                    "WHEN NOT MATCHED BY SOURCE THEN DELETE removes every target row the source "
                    "lacks (all of them if the source is empty)",
                )
        condition = when.args.get("condition")
        branch_unbounded = condition is None or predicate_truth(condition) is True
        if mutates and on_always_true and branch_unbounded and when.args.get("matched"):
            verb = "DELETE" if deletes else "UPDATE"
            statement.add(
                I.MASS_MUTATION,
                f"MERGE ... ON an always-true condition THEN {verb} touches every row",
            )


def _handle_truncate(statement: _Statement, node: exp.TruncateTable, chunk: _Chunk | None) -> None:
    kind = K.DATABASE if node.args.get("is_database") else K.TABLE
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
# Dropping these destroys stored data, not just a definition.
_DATA_HOLDING_KINDS = frozenset({K.TABLE, K.SCHEMA, K.DATABASE, K.COLUMN})


def _handle_drop(statement: _Statement, node: exp.Drop, chunk: _Chunk | None) -> None:
    if isinstance(node.parent, exp.Alter):
        _alter_drop(statement, node.parent, node)
        return
    kind_name = _kind(node)
    kind = _DROP_KINDS.get(kind_name, K.TABLE)
    targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
    for target in targets:
        if isinstance(target, exp.Table):
            statement.table(target, A.DROP, kind)
        else:
            statement.obj(kind, A.DROP, statement.names.identifier(target))
    label = f"{'materialized ' if node.args.get('materialized') else ''}{kind_name.lower()}"
    statement.add(I.SCHEMA_CHANGE, f"DROP {label.upper()} removes the {label}")
    if kind in _DATA_HOLDING_KINDS:
        statement.add(I.DELETE, f"dropping a {label} destroys its data")


def _alter_drop(statement: _Statement, alter: exp.Alter, node: exp.Drop) -> None:
    kind_name = _kind(node)
    table = alter.this if isinstance(alter.this, exp.Table) else None
    catalog, schema, name = statement.qualify(table) if table is not None else (None, None, None)
    if kind_name == "COLUMN":
        for column in node.args.get("tables") or []:
            statement.obj(
                K.COLUMN,
                A.DROP,
                name,
                schema=schema,
                catalog=catalog,
                column=statement.names.identifier(
                    column.this if isinstance(column, exp.Column) else column
                ),
            )
        statement.add(I.SCHEMA_CHANGE, "ALTER TABLE ... DROP COLUMN removes a column")
        statement.add(I.DELETE, "dropping a column destroys its data")
    elif kind_name == "PARTITION" or "PARTITION" in node.sql().upper()[:30]:
        statement.add(I.DELETE, "dropping a partition destroys its rows")
    else:
        statement.add(I.SCHEMA_CHANGE, f"ALTER ... DROP {kind_name}")


def _handle_create(statement: _Statement, node: exp.Create, chunk: _Chunk | None) -> None:
    kind_name = _kind(node)
    kind = _DROP_KINDS.get(kind_name, K.TABLE)
    replace = bool(node.args.get("replace"))
    target = node.this
    statement.add(I.SCHEMA_CHANGE, f"CREATE {kind_name} defines a new {kind_name.lower()}")
    if isinstance(target, exp.Index):
        statement.obj(K.INDEX, A.CREATE, statement.names.identifier(target.this))
        table = target.args.get("table")
        if isinstance(table, exp.Table):
            statement.table(table, A.ALTER)
        return
    if kind_name in ("FUNCTION", "PROCEDURE") and isinstance(target, exp.UserDefinedFunction):
        table = target.this if isinstance(target.this, exp.Table) else None
        if table is not None:
            statement.table(table, A.REPLACE if replace else A.CREATE, K.FUNCTION)
        else:
            statement.obj(
                K.FUNCTION,
                A.REPLACE if replace else A.CREATE,
                statement.names.identifier(target.this),
            )
        return
    if kind_name == "TRIGGER":
        for table in node.find_all(exp.Table):
            statement.table(table, A.ALTER)  # a trigger changes how its table behaves
        return
    action = A.REPLACE if replace else A.CREATE
    statement.table(target, action, kind)
    if kind is K.TABLE and (node.expression is not None or replace):
        statement.add(I.WRITE, "CREATE TABLE ... AS fills the new table")
    if replace and kind is K.TABLE:
        statement.add(I.DELETE, "CREATE OR REPLACE TABLE discards the existing table and its data")
    if kind is K.STAGE:
        _stage_location(statement, node)


def _stage_location(statement: _Statement, node: exp.Create) -> None:
    properties = node.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.Property) and prop.name.upper() == "URL":
            value = prop.args.get("value")
            if isinstance(value, exp.Literal):
                statement.obj(K.URL, A.WRITE, value.this)


def _handle_alter(statement: _Statement, node: exp.Alter, chunk: _Chunk | None) -> None:
    kind = _DROP_KINDS.get(_kind(node), K.TABLE)
    target = node.this
    actions = node.args.get("actions") or []
    catalog, schema, name = (
        statement.qualify(target) if isinstance(target, exp.Table) else (None, None, None)
    )
    renamed = False
    mutations_only = bool(actions) and all(isinstance(action, exp.Delete) for action in actions)
    for action in actions:
        if isinstance(action, exp.AlterRename):
            renamed = True
            statement.table(target, A.RENAME, kind)
            statement.table(action.this, A.CREATE, kind)
            statement.add(I.SCHEMA_CHANGE, f"RENAME moves {name} to a new name")
        elif isinstance(action, exp.RenameColumn):
            old = statement.names.identifier(_column_identifier(action.this))
            statement.obj(K.COLUMN, A.RENAME, name, schema=schema, catalog=catalog, column=old)
            statement.add(I.SCHEMA_CHANGE, f"RENAME COLUMN {old}")
        elif isinstance(action, exp.ColumnDef):
            column = statement.names.identifier(action.this)
            statement.obj(K.COLUMN, A.CREATE, name, schema=schema, catalog=catalog, column=column)
            statement.add(I.SCHEMA_CHANGE, f"ADD COLUMN {column}")
        elif isinstance(action, exp.AlterColumn):
            column = statement.names.identifier(_column_identifier(action.this))
            statement.obj(K.COLUMN, A.ALTER, name, schema=schema, catalog=catalog, column=column)
            statement.add(I.SCHEMA_CHANGE, f"ALTER COLUMN {column}")
        elif isinstance(action, exp.SwapTable):
            renamed = True  # both tables end up holding the other's data
            statement.table(target, A.REPLACE, kind)
            statement.table(action.this, A.REPLACE, kind)
            statement.add(I.SCHEMA_CHANGE, "SWAP WITH exchanges the contents of two tables")
        elif isinstance(action, exp.Delete | exp.Drop):
            continue  # handled by their own handlers during the walk
        else:
            statement.add(I.SCHEMA_CHANGE, f"ALTER {_kind(node)} changes its definition")
    if not renamed and not mutations_only:
        statement.table(target, A.ALTER, kind)
    if not actions:
        statement.add(I.SCHEMA_CHANGE, f"ALTER {_kind(node)} changes its definition")


def _column_identifier(node: exp.Expr | None) -> exp.Expr | None:
    return node.this if isinstance(node, exp.Column) else node


def _handle_copy(statement: _Statement, node: exp.Copy, chunk: _Chunk | None) -> None:
    loading = bool(node.args.get("kind"))
    target = node.this
    files = node.args.get("files") or []
    program = _copy_program(chunk)
    if loading:
        # COPY t FROM ... loads; Snowflake's COPY INTO @stage / 's3://' FROM ... unloads.
        destination = _stage_or_location(target) if isinstance(target, exp.Table) else None
        if destination is not None:
            kind, location = destination
            statement.claimed_tables.add(id(target))
            statement.obj(kind, A.EXPORT_TARGET, location)
            statement.add(I.EXPORT, f"COPY INTO {location} unloads data out of the database")
            statement.operation = "COPY INTO LOCATION"
            statement.add(I.READ, "COPY INTO a location reads the source")
            return
        statement.table(target, A.WRITE)
        statement.add(I.WRITE, "COPY ... FROM loads rows")
        if program is not None:
            statement.obj(K.PROGRAM, A.EXECUTE, program)
            statement.add(I.HOST_ACCESS, f"COPY ... FROM PROGRAM runs {program!r} on the server")
            _embed_shell(statement, program)
            return
        for source in files:
            _copy_endpoint(statement, source, A.READ)
        return
    statement.add(I.READ, "COPY ... TO reads the source")
    if program is not None:
        statement.obj(K.PROGRAM, A.EXPORT_TARGET, program)
        statement.add(I.EXPORT, f"COPY ... TO PROGRAM pipes data into {program!r}")
        statement.add(I.HOST_ACCESS, f"COPY ... TO PROGRAM runs {program!r} on the server")
        _embed_shell(statement, program)
        return
    for destination in files:
        if isinstance(destination, exp.Identifier) and destination.name.upper() == "STDOUT":
            statement.add(I.READ, "COPY ... TO STDOUT streams rows to this client session")
            continue
        statement.add(I.EXPORT, "COPY ... TO writes table data to a file outside the database")
        _copy_endpoint(statement, destination, A.EXPORT_TARGET)


def _copy_endpoint(statement: _Statement, node: exp.Expr, action: ObjectAction) -> None:
    if isinstance(node, exp.Literal):
        statement.obj(_location_kind(node.this), action, node.this)
    elif isinstance(node, exp.Table):
        location = _stage_or_location(node)
        if location is not None:
            statement.claimed_tables.add(id(node))
            statement.obj(location[0], action, location[1])


def _copy_program(chunk: _Chunk | None) -> str | None:
    """COPY ... PROGRAM 'cmd': sqlglot keeps the command only as a bare Var, so read the token."""
    if chunk is None:
        return None
    tokens = chunk.tokens
    for position, token in enumerate(tokens[:-1]):
        if token.text.upper() == "PROGRAM" and tokens[position + 1].token_type is TokenType.STRING:
            return tokens[position + 1].text
    return None


def _handle_export(statement: _Statement, node: exp.Export, chunk: _Chunk | None) -> None:
    options = node.args.get("options")
    uri = None
    for prop in options.expressions if options is not None else []:
        if isinstance(prop, exp.Property) and prop.name.lower() == "uri":
            value = prop.args.get("value")
            uri = value.this if isinstance(value, exp.Literal) else None
    statement.obj(_location_kind(uri) if uri else K.URL, A.EXPORT_TARGET, uri or "unknown")
    statement.add(I.EXPORT, f"EXPORT DATA writes query results to {uri or 'an external location'}")
    statement.add(I.READ, "EXPORT DATA runs a query")


def _handle_grant(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    verb = "GRANT" if isinstance(node, exp.Grant) else "REVOKE"
    securable = node.args.get("securable")
    kind = _DROP_KINDS.get(str(node.args.get("kind") or "TABLE").upper(), K.TABLE)
    if isinstance(securable, exp.Table):
        statement.table(securable, A.GRANT, kind)
    for principal in node.args.get("principals") or []:
        statement.obj(K.ROLE, A.GRANT, statement.names.identifier(principal.this))
    statement.add(I.PRIVILEGE, f"{verb} changes who may do what")


def _handle_attach(statement: _Statement, node: exp.Attach, chunk: _Chunk | None) -> None:
    this = node.this
    target = this.this if isinstance(this, exp.Alias) else this
    location = target.name if isinstance(target, exp.Expr) else ""
    if location in (":memory:", ""):
        statement.add(I.SCHEMA_CHANGE, "ATTACH of an in-memory database")
        return
    statement.obj(_location_kind(location), A.EXPORT_TARGET, location)
    statement.add(
        I.EXPORT,
        f"ATTACH {location} opens (or creates) a database file that data can be copied into",
    )


def _handle_execute(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """T-SQL EXEC: a procedure call, xp_cmdshell, EXEC('literal') or sp_executesql N'literal'."""
    target = node.this
    arguments = list(node.expressions)
    if isinstance(target, exp.Subquery | exp.Paren):
        inner = target.this
        literal = _literal_sql(inner)
        if literal is not None and isinstance(inner, exp.Table):
            statement.claimed_tables.add(id(inner))  # the literal is text, not a table
        statement.operation = "EXECUTE"
        _dynamic_text(statement, literal, "EXEC (...)")
        return
    procedure = ""
    if isinstance(target, exp.Table):
        statement.claimed_tables.add(id(target))
        procedure = (target.name or "").lower()
        statement.obj(K.FUNCTION, A.EXECUTE, target.name)
    statement.operation = "EXECUTE"
    if isinstance(node, exp.ExecuteSql) or procedure == "sp_executesql":
        literal = _literal_sql(arguments[0]) if arguments else None
        _dynamic_text(statement, literal, "sp_executesql")
        return
    rule = _FUNCTION_RULES.get(procedure)
    if rule is not None:
        for intent in rule.intents:
            statement.add(intent, rule.message)
        # xp_cmdshell hands its text to cmd.exe, not a POSIX shell: it stays opaque here.
        return
    statement.add(
        I.DYNAMIC,
        f"EXEC {target.sql() if target is not None else ''} runs a stored "
        "procedure whose body is not visible here",
    )


def _literal_sql(node: exp.Expr | None) -> str | None:
    """The text of a string literal, or of a concatenation of string literals; else None."""
    if node is None:
        return None
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    if isinstance(node, exp.National):
        return str(node.this)
    if (
        isinstance(node, exp.Table)
        and isinstance(node.this, exp.Identifier)
        and (node.this.args.get("quoted") and not node.args.get("db"))
    ):
        return str(node.this.this)  # T-SQL EXEC('...') parses the literal as a quoted name
    if isinstance(node, exp.Add | exp.DPipe | exp.Concat):
        parts = [_literal_sql(part) for part in node.iter_expressions()]
        if parts and all(part is not None for part in parts):
            return "".join(part for part in parts if part is not None)
    return None


def _dynamic_text(statement: _Statement, literal: str | None, what: str) -> None:
    """Literal dynamic SQL is analysed and reported for what it contains; anything built at run
    time is opaque and reported as `dynamic`."""
    if literal is None:
        statement.add(I.DYNAMIC, f"{what} runs SQL built at run time; it cannot be checked here")
        return
    if statement.depth >= MAX_DEPTH:
        statement.add(I.DYNAMIC, f"{what} nests dynamic SQL deeper than {MAX_DEPTH} levels")
        statement.add(I.UNPARSEABLE, "dynamic SQL nested too deeply to analyse")
        return
    inner = analyze_sql(
        literal,
        statement.dialect_name,
        depth=statement.depth + 1,
        default_schema=statement.names.default_schema,
        default_catalog=statement.names.default_catalog,
    )
    statement.embed(inner)
    if not inner:
        statement.add(I.DYNAMIC, f"{what} with an empty text")


def _embed_shell(statement: _Statement, command: str) -> None:
    if statement.depth >= MAX_DEPTH:
        return
    from guardrails_core.intent.shell import analyze_shell  # shell imports sql: import late

    statement.embed(analyze_shell(command, depth=statement.depth + 1))


def _handle_put(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    source = node.this
    location = source.name if isinstance(source, exp.Expr) else ""
    statement.obj(K.FILE, A.READ, location or "local file")
    target = node.args.get("target")
    if isinstance(target, exp.Expr):
        statement.obj(K.STAGE, A.WRITE, target.sql())
    statement.add(I.WRITE, "PUT uploads a local file into a stage")


def _handle_load_data(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.WRITE)
    statement.add(I.WRITE, "LOAD DATA loads rows from a file")


def _handle_install(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.add(I.HOST_ACCESS, f"INSTALL {node.name} downloads and loads native extension code")


def _handle_undrop(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.CREATE)
    statement.add(I.SCHEMA_CHANGE, "UNDROP restores a dropped object")


def _handle_comment(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.ALTER)
    statement.add(I.SCHEMA_CHANGE, "COMMENT changes object metadata")


def _handle_read_only(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.add(I.READ, f"{statement.operation} reads metadata")


def _handle_no_effect(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    return None


def _handle_detach(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.add(I.SCHEMA_CHANGE, "DETACH closes an attached database")


_HANDLERS: dict[type[exp.Expr], Handler] = {
    exp.Into: _handle_into,
    exp.Insert: _handle_insert,
    exp.Update: _handle_update,
    exp.Delete: _handle_delete,
    exp.Merge: _handle_merge,
    exp.TruncateTable: _handle_truncate,
    exp.Drop: _handle_drop,
    exp.Create: _handle_create,
    exp.Alter: _handle_alter,
    exp.Copy: _handle_copy,
    exp.Export: _handle_export,
    exp.Grant: _handle_grant,
    exp.Revoke: _handle_grant,
    exp.Attach: _handle_attach,
    exp.Detach: _handle_detach,
    exp.Execute: _handle_execute,
    exp.ExecuteSql: _handle_execute,
    exp.Put: _handle_put,
    exp.LoadData: _handle_load_data,
    exp.Install: _handle_install,
    exp.Undrop: _handle_undrop,
    exp.Comment: _handle_comment,
    exp.Describe: _handle_read_only,
    exp.Show: _handle_read_only,
}

# Root statement types we understand, and how their operation reads.
_STATEMENT_OPERATIONS: dict[type[exp.Expr], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.TruncateTable: "TRUNCATE",
    exp.Drop: "DROP",
    exp.Create: "CREATE",
    exp.Alter: "ALTER",
    exp.Copy: "COPY",
    exp.Export: "EXPORT DATA",
    exp.Grant: "GRANT",
    exp.Revoke: "REVOKE",
    exp.Attach: "ATTACH",
    exp.Detach: "DETACH",
    exp.Execute: "EXECUTE",
    exp.ExecuteSql: "EXECUTE",
    exp.Put: "PUT",
    exp.LoadData: "LOAD DATA",
    exp.Install: "INSTALL",
    exp.Undrop: "UNDROP",
    exp.Comment: "COMMENT",
    exp.Describe: "DESCRIBE",
    exp.Show: "SHOW",
    exp.Set: "SET",
    exp.Use: "USE",
    exp.Transaction: "BEGIN",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
    exp.Pragma: "PRAGMA",
    exp.Analyze: "ANALYZE",
    exp.Cache: "CACHE",
    exp.Uncache: "UNCACHE",
    exp.Refresh: "REFRESH",
    exp.Kill: "KILL",
    exp.Summarize: "SUMMARIZE",
    exp.Declare: "DECLARE",
}
for _statement_type in _STATEMENT_OPERATIONS:
    _HANDLERS.setdefault(_statement_type, _handle_no_effect)
_HANDLERS[exp.Summarize] = _handle_read_only


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class FunctionRule:
    intents: tuple[Intent, ...]
    message: str
    # What the function's first string argument names (a server file, a connection string).
    argument: tuple[ObjectKind, ObjectAction] | None = None
    # The function runs the SQL text of its last string argument (dblink_exec('conn', 'sql')).
    runs_sql_argument: bool = False


_FUNCTION_RULES: dict[str, FunctionRule] = {
    name: rule
    for names, rule in (
        (
            ("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file"),
            FunctionRule(
                (I.HOST_ACCESS,), "reads files on the database server", argument=(K.FILE, A.READ)
            ),
        ),
        (
            ("lo_import",),
            FunctionRule(
                (I.HOST_ACCESS,), "lo_import reads a server file", argument=(K.FILE, A.READ)
            ),
        ),
        (
            ("lo_export",),
            FunctionRule(
                (I.EXPORT, I.HOST_ACCESS),
                "lo_export writes database data to a server file",
                argument=(K.FILE, A.EXPORT_TARGET),
            ),
        ),
        (
            ("pg_file_write", "pg_file_unlink", "pg_file_rename"),
            FunctionRule((I.HOST_ACCESS,), "adminpack writes server files"),
        ),
        (
            (
                "dblink",
                "dblink_exec",
                "dblink_connect",
                "dblink_connect_u",
                "dblink_send_query",
                "dblink_open",
            ),
            FunctionRule(
                (I.HOST_ACCESS,), "dblink runs SQL on another server", runs_sql_argument=True
            ),
        ),
        (
            ("load_file",),
            FunctionRule(
                (I.HOST_ACCESS,), "LOAD_FILE reads a server file", argument=(K.FILE, A.READ)
            ),
        ),
        (("sys_exec", "sys_eval"), FunctionRule((I.HOST_ACCESS,), "runs a shell command")),
        (
            ("xp_cmdshell",),
            FunctionRule((I.HOST_ACCESS,), "xp_cmdshell runs an operating-system command"),
        ),
        (
            (
                "xp_dirtree",
                "xp_fileexist",
                "xp_regwrite",
                "xp_regread",
                "sp_oacreate",
                "sp_oamethod",
            ),
            FunctionRule((I.HOST_ACCESS,), "extended procedure reaches the server host"),
        ),
        (("sp_configure",), FunctionRule((I.PRIVILEGE,), "sp_configure changes server options")),
        (
            ("sp_addrolemember", "sp_addsrvrolemember", "sp_grantlogin", "sp_addlogin"),
            FunctionRule((I.PRIVILEGE,), "changes role membership or logins"),
        ),
    )
    for name in names
}

# Oracle packages whose calls reach outside the database.
_PACKAGE_RULES: dict[str, FunctionRule] = {
    "utl_file": FunctionRule((I.HOST_ACCESS,), "UTL_FILE reads or writes server files"),
    "utl_http": FunctionRule((I.EXPORT,), "UTL_HTTP sends data to a URL"),
    "utl_tcp": FunctionRule((I.EXPORT,), "UTL_TCP sends data over the network"),
    "utl_smtp": FunctionRule((I.EXPORT,), "UTL_SMTP sends mail"),
    "dbms_scheduler": FunctionRule((I.HOST_ACCESS,), "DBMS_SCHEDULER can run host programs"),
    "dbms_java": FunctionRule((I.HOST_ACCESS,), "DBMS_JAVA can run host code"),
    "dbms_sql": FunctionRule((I.DYNAMIC,), "DBMS_SQL runs SQL built at run time"),
}

# Functions that run the SQL text they are given (the text is analysed when it is a literal).
_SQL_TEXT_FUNCTIONS = frozenset(
    {"query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema"}
)


def _check_function(statement: _Statement, node: exp.Expr) -> None:
    name = _function_name(node)
    rule = _FUNCTION_RULES.get(name)
    parent = node.parent
    if rule is None and isinstance(parent, exp.Dot) and parent.expression is node:
        package = parent.this.name.lower() if isinstance(parent.this, exp.Expr) else ""
        rule = _PACKAGE_RULES.get(package)
    if rule is not None:
        for intent in rule.intents:
            statement.add(intent, f"{name}(): {rule.message}")
        strings = [
            arg.this
            for arg in node.iter_expressions()
            if isinstance(arg, exp.Literal) and arg.is_string
        ]
        if rule.argument is not None and strings:
            statement.obj(rule.argument[0], rule.argument[1], strings[0])
        if rule.runs_sql_argument and len(strings) >= 2 and statement.depth < MAX_DEPTH:
            # dblink's remote SQL: its dialect is unknown, so analyse it as PostgreSQL (dblink's).
            statement.embed(analyze_sql(strings[-1], "postgres", depth=statement.depth + 1))
        return
    if name in _SQL_TEXT_FUNCTIONS:
        _dynamic_text(statement, _first_string_argument(node), f"{name}()")


# --------------------------------------------------------------------------- predicates


def predicate_truth(node: exp.Expr | None) -> bool | None:
    """True if the predicate holds for every row, False if for none, None if it depends.

    Catches the usual ways of writing "everything": constants (`1=1`, `TRUE`, `'a'='a'`, `2>1`,
    MySQL's bare `WHERE 1`), self-comparisons (`id = id`, `x >= x`), `P OR <always true>`,
    `P OR NOT P` (`x IS NULL OR x IS NOT NULL`), `x LIKE '%'` and `EXISTS (SELECT 1)`.
    """
    if node is None:
        return None
    node_type = type(node)
    if node_type is exp.Paren:
        return predicate_truth(node.this)
    if node_type is exp.Boolean:
        return bool(node.this)
    if node_type is exp.Null:
        return False
    constant = _constant(node)
    if constant is not _UNKNOWN:
        return _truthy(constant)
    if node_type is exp.Not:
        inner = predicate_truth(node.this)
        return None if inner is None else not inner
    if node_type is exp.And:
        left, right = predicate_truth(node.this), predicate_truth(node.expression)
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if node_type is exp.Or:
        left, right = predicate_truth(node.this), predicate_truth(node.expression)
        if left is True or right is True or _complementary(node.this, node.expression):
            return True
        return False if left is False and right is False else None
    if node_type in _COMPARISONS:
        return _comparison_truth(node)
    if node_type is exp.Is:
        return _is_truth(node)
    if node_type is exp.Like:
        pattern = _constant(node.expression)
        return True if isinstance(pattern, str) and pattern and set(pattern) == {"%"} else None
    if node_type is exp.In:
        return _in_truth(node)
    if node_type is exp.Between:
        return _between_truth(node)
    if node_type is exp.Exists:
        return _exists_truth(node)
    return None


_UNKNOWN: Any = object()
_COMPARISONS = {exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ}
_SELF_COMPARISON_TRUTH: dict[type[exp.Expr], bool] = {
    exp.EQ: True,
    exp.GTE: True,
    exp.LTE: True,
    exp.NullSafeEQ: True,
    exp.NEQ: False,
    exp.GT: False,
    exp.LT: False,
}


def _constant(node: exp.Expr | None) -> Any:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        try:
            return float(node.this)
        except ValueError:
            return _UNKNOWN
    if isinstance(node, exp.Neg):
        inner = _constant(node.this)
        return -inner if isinstance(inner, float) else _UNKNOWN
    if isinstance(node, exp.Paren):
        return _constant(node.this)
    if isinstance(node, exp.Boolean):
        return 1.0 if node.this else 0.0
    return _UNKNOWN


def _truthy(value: Any) -> bool | None:
    if isinstance(value, float):
        return value != 0
    return None  # a bare string predicate coerces differently per engine


def _comparison_truth(node: exp.Expr) -> bool | None:
    left, right = node.this, node.expression
    a, b = _constant(left), _constant(right)
    if a is not _UNKNOWN and b is not _UNKNOWN:
        if type(a) is not type(b):
            return None
        comparisons: dict[type[exp.Expr], Callable[[Any, Any], bool]] = {
            exp.EQ: lambda x, y: x == y,
            exp.NullSafeEQ: lambda x, y: x == y,
            exp.NEQ: lambda x, y: x != y,
            exp.GT: lambda x, y: x > y,
            exp.GTE: lambda x, y: x >= y,
            exp.LT: lambda x, y: x < y,
            exp.LTE: lambda x, y: x <= y,
        }
        return comparisons[type(node)](a, b)
    if left == right and not _nondeterministic(left):
        return _SELF_COMPARISON_TRUTH[type(node)]
    return None


def _nondeterministic(node: exp.Expr) -> bool:
    return any(isinstance(inner, exp.Rand | exp.Anonymous) for inner in node.walk())


def _is_truth(node: exp.Expr) -> bool | None:
    negated = bool(node.args.get("negate"))
    if isinstance(node.expression, exp.Null):
        if isinstance(node.this, exp.Null):
            return not negated
        if _constant(node.this) is not _UNKNOWN:
            return negated
    return None


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _complementary(left: exp.Expr, right: exp.Expr) -> bool:
    """`P OR NOT P`, including `x IS NULL OR x IS NOT NULL` and parenthesised forms."""
    left, right = _unparen(left), _unparen(right)
    for a, b in ((left, right), (right, left)):
        if isinstance(b, exp.Not) and _unparen(b.this) == a:
            return True
        if (
            isinstance(a, exp.Is)
            and isinstance(b, exp.Is)
            and a.this == b.this
            and (
                a.expression == b.expression
                and bool(a.args.get("negate")) != bool(b.args.get("negate"))
            )
        ):
            return True
    return False


def _in_truth(node: exp.Expr) -> bool | None:
    value = _constant(node.this)
    options = [_constant(option) for option in node.expressions]
    if value is _UNKNOWN or not options or any(option is _UNKNOWN for option in options):
        if node.this is not None and any(option == node.this for option in node.expressions):
            return None if node.args.get("negate") else True
        return None
    return value in options


def _between_truth(node: exp.Expr) -> bool | None:
    value, low, high = (
        _constant(node.this),
        _constant(node.args.get("low")),
        _constant(node.args.get("high")),
    )
    if _UNKNOWN in (value, low, high) or len({type(value), type(low), type(high)}) != 1:
        return None
    return bool(low <= value <= high)


def _exists_truth(node: exp.Expr) -> bool | None:
    query = node.this
    if (
        isinstance(query, exp.Select)
        and not query.args.get("from_")
        and not query.args.get("where")
    ):
        return True
    return None


# --------------------------------------------------------------------------- keyword commands
# Statements sqlglot returns as a generic Command (or cannot parse) are classified by their
# leading keywords. An entry is data: (keywords, operation, intents, message). Anything with no
# entry is `unparseable`: never silently read as harmless.


@dataclass(frozen=True)
class CommandRule:
    keywords: tuple[str, ...]
    operation: str
    intents: tuple[Intent, ...]
    message: str


def _rule(
    keywords: str, intents: tuple[Intent, ...], message: str, operation: str = ""
) -> CommandRule:
    words = tuple(keywords.split())
    return CommandRule(words, operation or keywords, intents, message)


COMMAND_RULES: tuple[CommandRule, ...] = (
    # privileges: users, roles, logins, ownership, default privileges, row-level policies
    *(
        _rule(f"{verb} {what}", (I.PRIVILEGE,), f"{verb} {what} changes who may do what")
        for verb in ("CREATE", "ALTER", "DROP", "RENAME")
        for what in (
            "USER",
            "ROLE",
            "LOGIN",
            "GROUP",
            "POLICY",
            "ROW ACCESS POLICY",
            "MASKING POLICY",
            "NETWORK POLICY",
            "SECURITY INTEGRATION",
        )
    ),
    _rule("ALTER DEFAULT PRIVILEGES", (I.PRIVILEGE,), "changes privileges of future objects"),
    _rule("GRANT", (I.PRIVILEGE,), "GRANT changes who may do what"),
    _rule("REVOKE", (I.PRIVILEGE,), "REVOKE changes who may do what"),
    _rule("SET PASSWORD", (I.PRIVILEGE,), "SET PASSWORD changes credentials"),
    _rule("REASSIGN OWNED", (I.PRIVILEGE,), "REASSIGN OWNED changes object ownership"),
    _rule(
        "DROP OWNED",
        (I.PRIVILEGE, I.SCHEMA_CHANGE, I.DELETE),
        "DROP OWNED drops every object a role owns",
    ),
    _rule("AUDIT", (I.PRIVILEGE,), "AUDIT changes auditing"),
    _rule("NOAUDIT", (I.PRIVILEGE,), "NOAUDIT disables auditing"),
    # server and host
    _rule(
        "ALTER SYSTEM",
        (I.HOST_ACCESS,),
        "ALTER SYSTEM changes server configuration (settings such as archive_command run "
        "shell commands)",
    ),
    _rule("SHUTDOWN", (I.HOST_ACCESS,), "SHUTDOWN stops the server"),
    _rule("LOAD", (I.HOST_ACCESS,), "LOAD loads a shared library into the server"),
    _rule("CREATE EXTENSION", (I.SCHEMA_CHANGE,), "CREATE EXTENSION installs database code"),
    _rule("DROP EXTENSION", (I.SCHEMA_CHANGE,), "DROP EXTENSION removes database code"),
    _rule(
        "CREATE SERVER",
        (I.SCHEMA_CHANGE, I.HOST_ACCESS),
        "CREATE SERVER defines a connection to another server",
    ),
    _rule("CREATE USER MAPPING", (I.PRIVILEGE,), "CREATE USER MAPPING stores remote credentials"),
    # unloads, stage transfers
    _rule("GET", (I.EXPORT,), "GET downloads staged files to the client machine"),
    _rule("PUT", (I.WRITE,), "PUT uploads local files into a stage"),
    _rule("REMOVE", (I.DELETE,), "REMOVE deletes staged files"),
    _rule("RM", (I.DELETE,), "RM deletes staged files"),
    _rule("LIST", (I.READ,), "LIST reads a stage listing"),
    _rule("LS", (I.READ,), "LS reads a stage listing"),
    # schema changes sqlglot leaves generic
    *(
        _rule(f"{verb} {what}", (I.SCHEMA_CHANGE,), f"{verb} {what} changes the schema")
        for verb in ("CREATE", "ALTER", "DROP")
        for what in (
            "TRIGGER",
            "RULE",
            "TYPE",
            "DOMAIN",
            "EVENT",
            "STAGE",
            "PIPE",
            "TASK",
            "STREAM",
            "SEQUENCE",
            "FUNCTION",
            "PROCEDURE",
            "INDEX",
            "SCHEMA",
            "DATABASE",
            "VIEW",
            "MATERIALIZED VIEW",
            "TABLE",
            "EXTERNAL TABLE",
            "FOREIGN TABLE",
            "FILE FORMAT",
            "WAREHOUSE",
            "CONNECTION",
            "TEXT SEARCH",
            "PUBLICATION",
            "SUBSCRIPTION",
            "COLLATION",
            "OPERATOR",
            "AGGREGATE",
            "CAST",
            "LANGUAGE",
            "STATISTICS",
            "TABLESPACE",
            "DICTIONARY",
            "INTEGRATION",
        )
    ),
    _rule("ALTER TABLE", (I.SCHEMA_CHANGE,), "ALTER TABLE changes a table definition"),
    _rule("RENAME TABLE", (I.SCHEMA_CHANGE,), "RENAME TABLE moves tables to new names"),
    _rule("RENAME", (I.SCHEMA_CHANGE,), "RENAME moves an object to a new name"),
    _rule("COMMENT ON", (I.SCHEMA_CHANGE,), "COMMENT changes object metadata"),
    _rule("IMPORT FOREIGN SCHEMA", (I.SCHEMA_CHANGE,), "imports remote table definitions"),
    _rule("MSCK REPAIR TABLE", (I.SCHEMA_CHANGE,), "MSCK REPAIR rescans partitions"),
    _rule("UNDROP", (I.SCHEMA_CHANGE,), "UNDROP restores a dropped object"),
    # data changes
    _rule("TRUNCATE", (I.DELETE, I.MASS_MUTATION), "TRUNCATE removes every row"),
    _rule("PURGE", (I.DELETE, I.SCHEMA_CHANGE), "PURGE destroys dropped objects for good"),
    _rule("REFRESH MATERIALIZED VIEW", (I.WRITE,), "REFRESH rewrites a materialized view"),
    _rule("RESTORE TABLE", (I.WRITE, I.DELETE), "RESTORE replaces a table with an old version"),
    _rule("FLASHBACK TABLE", (I.WRITE, I.DELETE), "FLASHBACK replaces a table with an old version"),
    _rule("OPTIMIZE", (), "OPTIMIZE compacts storage"),
    _rule("LOAD DATA", (I.WRITE,), "LOAD DATA loads rows from a file"),
    # maintenance, session and transaction control: no effect on data
    *(
        _rule(words, (), f"{words} does not change data")
        for words in (
            "VACUUM",
            "ANALYZE",
            "CLUSTER",
            "REINDEX",
            "CHECKPOINT",
            "DISCARD",
            "RESET",
            "LISTEN",
            "NOTIFY",
            "UNLISTEN",
            "SAVEPOINT",
            "RELEASE",
            "START TRANSACTION",
            "BEGIN",
            "END",
            "COMMIT",
            "ROLLBACK",
            "ABORT",
            "SET",
            "USE",
            "LOCK",
            "DEALLOCATE",
            "CLOSE",
            "FETCH",
            "MOVE",
            "GO",
            "CACHE",
            "UNCACHE",
            "KILL",
            "FLUSH",
            "SYNC",
        )
    ),
    *(
        _rule(words, (I.READ,), f"{words} reads metadata or data")
        for words in ("SHOW", "DESCRIBE", "DESC", "DECLARE", "HELP", "VALUES", "TABLE")
    ),
)

_RULES_BY_FIRST_WORD: dict[str, list[CommandRule]] = {}
for _command_rule in COMMAND_RULES:
    _RULES_BY_FIRST_WORD.setdefault(_command_rule.keywords[0], []).append(_command_rule)
for _rules in _RULES_BY_FIRST_WORD.values():
    _rules.sort(key=lambda rule: -len(rule.keywords))

# Words that may sit between the verb and the object kind without changing the meaning.
_NOISE_WORDS = frozenset(
    {
        "OR",
        "REPLACE",
        "IF",
        "NOT",
        "EXISTS",
        "TEMP",
        "TEMPORARY",
        "GLOBAL",
        "LOCAL",
        "UNIQUE",
        "SECURE",
        "TRANSIENT",
        "VOLATILE",
        "CONCURRENTLY",
        "RECURSIVE",
        "UNLOGGED",
    }
)


def _command_words(chunk: _Chunk, source: str, dialect: Dialect) -> tuple[list[str], list[Token]]:
    """Upper-case leading words of a statement, re-tokenising a body the tokenizer folded away."""
    tokens = chunk.tokens
    if (
        len(tokens) >= 2
        and tokens[1].token_type is TokenType.STRING
        and (tokens[0].token_type in dialect.tokenizer_class.COMMANDS)
    ):
        try:
            rest = dialect.tokenize(tokens[1].text)
        except SqlglotError:
            rest = []
        tokens = [tokens[0], *rest]
    words = [token.text.upper() for token in tokens if token.token_type not in _QUOTED_TOKENS]
    return words, tokens


def _match_rule(words: list[str]) -> CommandRule | None:
    if not words:
        return None
    significant = [words[0], *(word for word in words[1:6] if word not in _NOISE_WORDS)]
    for rule in _RULES_BY_FIRST_WORD.get(words[0], ()):
        if tuple(significant[: len(rule.keywords)]) == rule.keywords:
            return rule
    return None


def _classify_by_keywords(
    statement: _Statement,
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
    *,
    parse_failed: bool,
) -> None:
    dialect = statement.names.dialect
    words, tokens = _command_words(chunk, source, dialect)
    if not words:
        statement.add(I.UNPARSEABLE, "empty statement")
        return
    special = _SPECIAL_COMMANDS.get(words[0])
    if special is not None and special(statement, words, tokens, chunk, source, prepared):
        return
    rule = _match_rule(words)
    if rule is None:
        statement.operation = statement.operation or words[0]
        if not parse_failed:
            statement.add(
                I.UNPARSEABLE,
                f"{words[0]} ... is not a statement the analyzer recognises; it is not assumed "
                "harmless",
            )
        return
    statement.operation = rule.operation
    for intent in rule.intents:
        statement.add(intent, rule.message)
    _name_objects_from_words(statement, rule, tokens)
    _apply_keyword_hints(statement, words)


_KIND_WORDS: dict[str, ObjectKind] = {
    "USER": K.ROLE,
    "ROLE": K.ROLE,
    "LOGIN": K.ROLE,
    "GROUP": K.ROLE,
    "TABLE": K.TABLE,
    "VIEW": K.VIEW,
    "SCHEMA": K.SCHEMA,
    "DATABASE": K.DATABASE,
    "STAGE": K.STAGE,
    "SEQUENCE": K.SEQUENCE,
    "INDEX": K.INDEX,
    "FUNCTION": K.FUNCTION,
    "PROCEDURE": K.FUNCTION,
}
_VERB_ACTIONS: dict[str, ObjectAction] = {
    "CREATE": A.CREATE,
    "ALTER": A.ALTER,
    "DROP": A.DROP,
    "RENAME": A.RENAME,
    "TRUNCATE": A.DELETE,
    "REFRESH": A.WRITE,
    "RESTORE": A.WRITE,
    "FLASHBACK": A.WRITE,
}
_NAME_TOKENS = frozenset({TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING})


def _name_objects_from_words(statement: _Statement, rule: CommandRule, tokens: list[Token]) -> None:
    """Best-effort name of the object a keyword-classified statement acts on."""
    verb = rule.keywords[0]
    action = _VERB_ACTIONS.get(verb)
    kind = (
        K.TABLE
        if verb in ("TRUNCATE", "RESTORE", "FLASHBACK")
        else next(
            (_KIND_WORDS[word] for word in reversed(rule.keywords[1:]) if word in _KIND_WORDS), None
        )
    )
    if kind is None or action is None:
        return
    if kind is K.ROLE:
        action = A.GRANT
    position = 1
    while position < len(tokens) and (
        tokens[position].text.upper() in {*rule.keywords, *_NOISE_WORDS, "ONLY", "MATERIALIZED"}
    ):
        position += 1
    if position >= len(tokens) or (
        tokens[position].token_type not in _NAME_TOKENS | {TokenType.TABLE, TokenType.SCHEMA}
        and not tokens[position].text.replace("_", "").isalnum()
    ):
        return
    parts = [tokens[position]]
    while position + 2 < len(tokens) and tokens[position + 1].token_type is TokenType.DOT:
        parts.append(tokens[position + 2])
        position += 2
    names = [
        _normalise(
            statement.names.dialect, part.text, quoted=part.token_type is TokenType.IDENTIFIER
        )
        for part in parts
    ]
    if kind is K.ROLE or kind in (K.SCHEMA, K.DATABASE):
        statement.obj(kind, action, names[-1])
        return
    schema = names[-2] if len(names) > 1 else statement.names.default_schema
    catalog = names[-3] if len(names) > 2 else statement.names.default_catalog
    statement.obj(kind, action, names[-1], schema=schema, catalog=catalog)


# Words anywhere in a keyword-classified statement that add an intent the leading words miss.
_KEYWORD_HINTS: tuple[tuple[tuple[str, ...], Intent, str], ...] = (
    (("OWNER", "TO"), I.PRIVILEGE, "OWNER TO changes object ownership"),
    (("SECURITY", "DEFINER"), I.PRIVILEGE, "SECURITY DEFINER runs code with its owner's rights"),
)


def _apply_keyword_hints(statement: _Statement, words: list[str]) -> None:
    for sequence, intent, message in _KEYWORD_HINTS:
        width = len(sequence)
        if any(tuple(words[i : i + width]) == sequence for i in range(len(words) - width + 1)):
            statement.add(intent, message)


# --- commands with their own logic ------------------------------------------------------------

SpecialCommand = Callable[
    [_Statement, list[str], list[Token], _Chunk, str, dict[str, list[StatementEffect]]], bool
]


def _special_execute(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """EXECUTE IMMEDIATE 'sql' (Snowflake, BigQuery, Oracle) or PostgreSQL's EXECUTE plan(...)."""
    statement.operation = "EXECUTE"
    if len(words) > 1 and words[1] == "IMMEDIATE":
        literal = _single_literal(tokens[2:])
        _dynamic_text(statement, literal, "EXECUTE IMMEDIATE")
        return True
    if len(tokens) > 1 and tokens[1].token_type in _QUOTED_TOKENS - {TokenType.IDENTIFIER}:
        _dynamic_text(statement, _single_literal(tokens[1:]), "EXECUTE '...'")
        return True
    if len(tokens) > 1 and tokens[1].token_type is TokenType.L_PAREN:
        _dynamic_text(statement, _concatenated_literal(tokens[2:]), "EXEC (...)")
        return True
    name = tokens[1].text.lower() if len(tokens) > 1 else ""
    if name in prepared:
        statement.embed(prepared[name])
        return True
    if len(tokens) > 1:
        statement.obj(K.FUNCTION, A.EXECUTE, tokens[1].text)
    statement.add(
        I.DYNAMIC,
        f"EXECUTE {tokens[1].text if len(tokens) > 1 else ''} runs a "
        "statement prepared elsewhere; its text is not visible here",
    )
    return True


def _single_literal(tokens: list[Token]) -> str | None:
    """The text when `tokens` are one string literal, optionally followed by USING/INTO clauses."""
    if not tokens or tokens[0].token_type not in _QUOTED_TOKENS - {TokenType.IDENTIFIER}:
        return None
    if len(tokens) > 1 and tokens[1].text.upper() not in ("USING", "INTO"):
        return None
    return tokens[0].text


def _concatenated_literal(tokens: list[Token]) -> str | None:
    """`'DROP ' + 'TABLE t')`: string literals joined by + or ||, up to the closing parenthesis."""
    parts: list[str] = []
    for token in tokens:
        if token.token_type is TokenType.R_PAREN:
            return "".join(parts) if parts else None
        if token.token_type in (TokenType.STRING, TokenType.NATIONAL_STRING):
            parts.append(token.text)
        elif token.token_type not in (TokenType.PLUS, TokenType.DPIPE):
            return None
    return None


def _special_prepare(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """PREPARE name AS statement (PostgreSQL) or PREPARE name FROM 'text' | @var (MySQL)."""
    statement.operation = "PREPARE"
    if len(tokens) < 3:
        return False
    name = tokens[1].text.lower()
    for position, token in enumerate(tokens[2:], start=2):
        upper = token.text.upper()
        if upper == "FROM":
            literal = _single_literal(tokens[position + 1 :])
            before = len(statement.embedded)
            _dynamic_text(statement, literal, "PREPARE ... FROM")
            prepared[name] = statement.embedded[before:]
            return True
        if upper == "AS":
            text = _rest_after(chunk, source, "AS")
            if not text:
                return False
            before = len(statement.embedded)
            _dynamic_text(statement, text, "PREPARE ... AS")
            prepared[name] = statement.embedded[before:]
            return True
    return False


def _rest_after(chunk: _Chunk, source: str, keyword: str) -> str:
    statement_text = source[chunk.start : chunk.end]
    match = re.search(rf"\b{keyword}\b", statement_text, flags=re.IGNORECASE)
    return statement_text[match.end() :].strip() if match else ""


def _special_do(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """A DO block is procedural code: always `dynamic`, plus whatever its statements show."""
    statement.operation = "DO"
    statement.add(I.DYNAMIC, "DO runs an anonymous procedural block")
    body = next((token.text for token in tokens[1:] if token.token_type in _QUOTED_TOKENS), None)
    if body is None:
        body = _rest_after(chunk, source, "DO")
    body = _strip_dollar_quotes(body)
    if statement.depth < MAX_DEPTH:
        statement.embed(_procedural_statements(body, statement))
    return True


def _strip_dollar_quotes(text: str) -> str:
    match = re.match(r"\s*(\$[A-Za-z_]*\$)(.*)\1", text, flags=re.DOTALL)
    return match.group(2) if match else text


# Control-flow words that start a PL/pgSQL, PL/SQL or T-SQL block line but are not SQL.
_BLOCK_WORDS = re.compile(
    r"^\s*(?:(?:DECLARE\b[^;]*?\bBEGIN|BEGIN|END\s+(?:IF|LOOP|CASE)?|END|LOOP|ELSE|EXCEPTION"
    r"\s+WHEN\s+[\w\s]+?THEN|ELSIF\s+.+?\s+THEN|IF\s+.+?\s+THEN|WHEN\s+.+?\s+THEN|"
    r"FOR\s+.+?\s+LOOP|WHILE\s+.+?\s+LOOP)\b\s*)+",
    flags=re.IGNORECASE | re.DOTALL,
)


def _procedural_statements(body: str, statement: _Statement) -> list[StatementEffect]:
    """Best effort over a procedural body: strip block words, analyse the SQL left in each step.

    What does not parse inside a block counts as `dynamic` (the block already is), not as
    `unparseable`: the verdict is decided by what we can see plus the block's own opacity.
    """
    effects: list[StatementEffect] = []
    for fragment in body.split(";"):
        sql = _BLOCK_WORDS.sub("", fragment).strip()
        if not sql or sql.upper() in ("END", "END LOOP", "END IF", "$$"):
            continue
        if sql.upper().startswith("PERFORM "):
            sql = "SELECT " + sql[len("PERFORM ") :]
        for effect in analyze_sql(
            sql,
            statement.dialect_name,
            depth=statement.depth + 1,
            default_schema=statement.names.default_schema,
            default_catalog=statement.names.default_catalog,
        ):
            if I.UNPARSEABLE in effect.intents:
                effect = effect.model_copy(
                    update={
                        "intents": sorted_intents(
                            (set(effect.intents) - {I.UNPARSEABLE}) | {I.DYNAMIC}
                        ),
                        "findings": (
                            *effect.findings,
                            Finding(
                                intent=I.DYNAMIC, message="procedural step not fully understood"
                            ),
                        ),
                    }
                )
            effects.append(effect)
    return effects


def _special_call(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    statement.operation = "CALL"
    name = tokens[1].text if len(tokens) > 1 else "procedure"
    statement.obj(K.FUNCTION, A.EXECUTE, name)
    statement.add(I.DYNAMIC, f"CALL {name} runs a stored procedure whose body is not visible here")
    return True


def _special_unload(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """Redshift UNLOAD ('query') TO 's3://...': an export; the query's reads are analysed."""
    statement.operation = "UNLOAD"
    strings = [token for token in tokens if token.token_type is TokenType.STRING]
    query = strings[0].text if strings else None
    destination = next(
        (
            tokens[i + 1].text
            for i, token in enumerate(tokens[:-1])
            if token.text.upper() == "TO" and tokens[i + 1].token_type is TokenType.STRING
        ),
        None,
    )
    statement.obj(
        _location_kind(destination) if destination else K.URL,
        A.EXPORT_TARGET,
        destination or "unknown",
    )
    statement.add(I.EXPORT, f"UNLOAD writes query results to {destination or 'a location'}")
    _dynamic_text(statement, query, "UNLOAD")
    return True


def _special_get(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """Snowflake GET @stage file:///dir downloads staged data to the client machine."""
    statement.operation = "GET"
    text = source[chunk.start : chunk.end]
    stage = re.search(r"@[\w.%~/\"-]+", text)
    local = re.search(r"file://\S+", text)
    if stage:
        statement.obj(K.STAGE, A.READ, stage.group(0))
    statement.obj(K.FILE, A.EXPORT_TARGET, local.group(0) if local else "local file")
    statement.add(I.EXPORT, "GET downloads staged files to the client machine")
    return True


def _special_explain(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """EXPLAIN plans a statement without running it; EXPLAIN ANALYZE runs it for real."""
    statement.operation = "EXPLAIN"
    text = source[chunk.start : chunk.end]
    match = re.match(
        r"\s*EXPLAIN\s*(\((?P<options>[^)]*)\))?\s*(?P<flags>(?:(?:ANALY[SZ]E|VERBOSE|"
        r"EXTENDED|FORMATTED|COST|CODEGEN|QUERY\s+PLAN|PLAN\s+FOR|USING\s+\w+)\s+)*)"
        r"(?P<body>.*)$",
        text,
        flags=re.IGNORECASE | re.DOTALL,
    )
    if not match or not match.group("body").strip():
        statement.add(I.READ, "EXPLAIN reads a plan")
        return True
    options = (match.group("options") or "") + " " + (match.group("flags") or "")
    runs = re.search(r"\bANALY[SZ]E\b(?!\s+(?:FALSE|OFF|0)\b)", options, flags=re.IGNORECASE)
    inner = analyze_sql(
        match.group("body"),
        statement.dialect_name,
        depth=statement.depth + 1,
        default_schema=statement.names.default_schema,
        default_catalog=statement.names.default_catalog,
    )
    if runs:
        statement.embed(inner)
        statement.add(I.READ, "EXPLAIN ANALYZE executes the statement")
    else:
        statement.add(I.READ, "EXPLAIN plans the statement without running it")
    return True


def _special_copy(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """COPY forms sqlglot cannot parse: direction and PROGRAM read from the keywords."""
    statement.operation = "COPY"
    upper = [token.text.upper() for token in tokens]
    program = _copy_program(chunk)
    if "TO" in upper:
        statement.add(I.EXPORT, "COPY ... TO writes data outside the database")
    elif "FROM" in upper or "INTO" in upper:
        statement.add(I.WRITE, "COPY ... FROM loads rows")
    if program is not None:
        statement.add(I.HOST_ACCESS, f"COPY ... PROGRAM runs {program!r} on the server")
        _embed_shell(statement, program)
    statement.add(I.UNPARSEABLE, "COPY statement only partly understood")
    return True


def _special_replace(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """MySQL REPLACE INTO is an upsert: read it as the INSERT it resembles."""
    if len(words) < 2 or words[1] not in ("INTO", "LOW_PRIORITY", "DELAYED"):
        return False
    text = source[chunk.start : chunk.end]
    as_insert = re.sub(r"^\s*REPLACE", "INSERT", text, count=1, flags=re.IGNORECASE)
    try:
        tree = sqlglot.parse_one(as_insert, dialect=statement.names.dialect)
    except SqlglotError:
        return False
    _walk(statement, tree, None)
    statement.operation = "REPLACE"
    statement.add(I.WRITE, "REPLACE INTO writes rows, deleting rows with the same key first")
    return True


def _special_vacuum(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """SQLite VACUUM INTO 'file' copies the whole database to a new file."""
    statement.operation = "VACUUM"
    if "INTO" not in words:
        return False
    target = next((token.text for token in tokens if token.token_type is TokenType.STRING), None)
    statement.obj(K.FILE, A.EXPORT_TARGET, target or "file")
    statement.add(I.EXPORT, f"VACUUM INTO copies the whole database to {target or 'a file'}")
    return True


def _special_load(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """LOAD DATA [LOCAL] INFILE 'f' INTO TABLE t (MySQL) is a load; other LOADs load code."""
    if len(words) < 2 or words[1] not in ("DATA", "XML"):
        return False
    statement.operation = "LOAD DATA"
    upper = [token.text.upper() for token in tokens]
    if "TABLE" in upper:
        position = upper.index("TABLE") + 1
        if position < len(tokens):
            parts = [tokens[position].text]
            if position + 2 < len(tokens) and tokens[position + 1].token_type is TokenType.DOT:
                parts.append(tokens[position + 2].text)
            names = [_normalise(statement.names.dialect, part, quoted=False) for part in parts]
            statement.obj(
                K.TABLE,
                A.WRITE,
                names[-1],
                schema=names[0] if len(names) > 1 else statement.names.default_schema,
            )
    infile = next((token.text for token in tokens if token.token_type is TokenType.STRING), None)
    if infile:
        statement.obj(K.FILE, A.READ, infile)
    statement.add(I.WRITE, "LOAD DATA loads rows from a file")
    return True


def _special_alter(
    statement: _Statement,
    words: list[str],
    tokens: list[Token],
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
) -> bool:
    """ClickHouse `ALTER TABLE t UPDATE x = 1 WHERE ...` is an UPDATE: read it as one."""
    text = source[chunk.start : chunk.end]
    match = re.match(
        r"\s*ALTER\s+TABLE\s+(?P<table>\S+)(?:\s+ON\s+CLUSTER\s+\S+)?\s+UPDATE\s+"
        r"(?P<rest>.*)$",
        text,
        flags=re.IGNORECASE | re.DOTALL,
    )
    if not match:
        return False
    try:
        tree = sqlglot.parse_one(
            f"UPDATE {match['table']} SET {match['rest']}", dialect=statement.names.dialect
        )
    except SqlglotError:
        return False
    statement.operation = "ALTER TABLE UPDATE"
    _walk(statement, tree, None)
    return True


_SPECIAL_COMMANDS: dict[str, SpecialCommand] = {
    "ALTER": _special_alter,
    "EXECUTE": _special_execute,
    "EXEC": _special_execute,
    "PREPARE": _special_prepare,
    "DO": _special_do,
    "CALL": _special_call,
    "UNLOAD": _special_unload,
    "GET": _special_get,
    "EXPLAIN": _special_explain,
    "COPY": _special_copy,
    "REPLACE": _special_replace,
    "VACUUM": _special_vacuum,
    "LOAD": _special_load,
}


# --------------------------------------------------------------------------- parse-error recovery


def _recover_from_parse_error(
    statement: _Statement, chunk: _Chunk, source: str, prepared: dict[str, list[StatementEffect]]
) -> bool:
    """Known constructs sqlglot rejects but whose meaning is certain are classified, not failed."""
    upper = [token.text.upper() for token in chunk.tokens]
    if not upper:
        return False
    if "INTO" in upper and ("OUTFILE" in upper or "DUMPFILE" in upper):
        return _recover_into_outfile(statement, chunk, source)
    special = _SPECIAL_COMMANDS.get(upper[0])
    if special is not None and upper[0] in ("LOAD", "REPLACE", "EXPLAIN", "EXECUTE", "EXEC"):
        words, tokens = _command_words(chunk, source, statement.names.dialect)
        return special(statement, words, tokens, chunk, source, prepared)
    return False


_CLAUSE_AFTER_INTO = frozenset(
    {"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "FOR", "LOCK", "WINDOW"}
)


def _recover_into_outfile(statement: _Statement, chunk: _Chunk, source: str) -> bool:
    """MySQL SELECT ... INTO OUTFILE|DUMPFILE 'path': blank the INTO clause, parse the query."""
    tokens = chunk.tokens
    upper = [token.text.upper() for token in tokens]
    start = next(
        (
            i
            for i in range(len(upper) - 1)
            if upper[i] == "INTO" and upper[i + 1] in ("OUTFILE", "DUMPFILE")
        ),
        None,
    )
    if start is None:
        return False
    end = start + 2
    while end < len(tokens) and upper[end] not in _CLAUSE_AFTER_INTO:
        end += 1
    path = tokens[start + 2].text if start + 2 < len(tokens) else "file"
    blank_from = tokens[start].start
    blank_to = tokens[end - 1].end + 1
    text = source[chunk.start : chunk.end]
    query = (
        text[: blank_from - chunk.start]
        + " " * (blank_to - blank_from)
        + text[blank_to - chunk.start :]
    )
    try:
        tree = sqlglot.parse_one(query, dialect=statement.names.dialect)
    except SqlglotError:
        return False
    statement.operation = "SELECT INTO OUTFILE"
    statement.add(I.READ, "query")
    _walk(statement, tree, None)
    statement.obj(K.FILE, A.EXPORT_TARGET, path)
    statement.add(I.EXPORT, f"SELECT ... INTO {upper[start + 1]} writes query results to {path}")
    return True
