"""SQL -> statement effects: what each statement of a script will do, through sqlglot.

The script is tokenised once by the dialect's tokenizer, split into statements at top-level
semicolons (never by regex: strings, comments and dollar quotes are already single tokens), and
each statement is parsed and classified by one walk over its syntax tree. Whatever sqlglot cannot
parse is classified by its leading keywords, and anything still not understood is `unparseable`,
so that the policy can fail closed. `analyze_sql` never raises.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.predicates import (
    Unknown,
    constant,
    fold_identifiers,
    looks_at_target,
    predicate_truth,
    target_names,
    unparen,
)
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


def _unwrap_mysql(text: str) -> tuple[str, list[int]]:
    """The unwrapped text, and positions where blanking a marker would change the meaning.

    MySQL reads `--` as a comment only when whitespace follows it, so `5 --/*! 1 OR 1=1 */` is
    `5 - -1 OR 1=1`; blanking that marker would turn the `--` into a comment and hide the rest.
    Such positions make their statement `unparseable`.
    """
    if "/*" not in text or "!" not in text:
        return text, []
    chars = list(text)
    suspicious: list[int] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char in "'\"`":
            position = _skip_quoted(text, position)
            continue
        if char == "#" or (
            text.startswith("--", position)
            and (position + 2 >= length or text[position + 2] in " \t\n\r\f\v")
        ):
            newline = text.find("\n", position)
            position = length if newline < 0 else newline + 1
            continue
        if text.startswith("/*", position):
            close = text.find("*/", position + 2)
            close = length if close < 0 else close
            marker = _MYSQL_EXECUTABLE_COMMENT.match(text, position)
            if marker:
                if position > 0 and text[position - 1] == "-":
                    suspicious.append(position)
                for index in range(position, marker.end()):
                    chars[index] = " "
                for index in range(close, min(close + 2, length)):
                    chars[index] = " "
                position = marker.end()
                continue
            position = close + 2
            continue
        position += 1
    return "".join(chars), suspicious


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


def _preprocess(text: str, dialect: str | None) -> tuple[str, list[int]]:
    """The text to tokenise (same length as the input), and positions that make their
    statement unparseable because databases would read them differently."""
    text = blank_byte_order_mark(text)
    if dialect is None or dialect in MYSQL_FAMILY:
        # With no dialect we cannot rule MySQL out, so its executable comments count as code.
        return _unwrap_mysql(text)
    return text, []


# With no dialect the text is also read as MySQL and PostgreSQL would: where the three disagree
# on what is code, string or comment (nested comments, backslash escapes, `--1`), the statement
# means different things on different databases and cannot be judged without the dialect.
_CROSS_CHECK_DIALECTS = ("mysql", "postgres")
_CODE, _QUOTED, _UNKNOWN_SPAN = 1, 2, 3


def _reading_mask(source: str, tokens: list[Token], dialect: Dialect) -> bytearray:
    mask = bytearray(len(source))  # 0: whitespace or comment
    commands = dialect.tokenizer_class.COMMANDS
    previous: Token | None = None
    for token in tokens:
        if (
            previous is not None
            and previous.token_type in commands
            and token.token_type is TokenType.STRING
        ):
            # A folded command body: its offsets are not reliable, so it matches anything.
            mask[previous.end + 1 :] = bytes([_UNKNOWN_SPAN]) * (len(source) - previous.end - 1)
            return mask
        kind = _QUOTED if token.token_type in _QUOTED_TOKENS else _CODE
        mask[token.start : token.end + 1] = bytes([kind]) * (token.end + 1 - token.start)
        previous = token
    return mask


def _divergent_readings(source: str, tokens: list[Token], dialect: Dialect) -> list[int]:
    """Positions where MySQL's or PostgreSQL's tokenizer reads `source` unlike `tokens` did."""
    base = _reading_mask(source, tokens, dialect)
    positions: list[int] = []
    for name in _CROSS_CHECK_DIALECTS:
        other_dialect = _dialect(name)
        try:
            other = _reading_mask(
                source, _tokenizer_and_parser(other_dialect)[0].tokenize(source), other_dialect
            )
        except SqlglotError:
            return [0]
        if other == base:
            continue
        for position, (a, b) in enumerate(zip(base, other, strict=True)):
            # Readings may differ on how an identifier is quoted (`a` vs "a"); what matters is
            # punctuation that can end a statement, open a comment or close a string.
            if a != b and _UNKNOWN_SPAN not in (a, b) and not _identifier_char(source[position]):
                positions.append(position)
                break
    return positions


def _identifier_char(char: str) -> bool:
    return char.isalnum() or char in '_$.`"[] \t\r\n'


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


# Findings and object references are immutable and recur across statements (the same tables,
# the same messages): one shared instance each saves building and validating them again.
_INTERNED_LIMIT = 50_000
_FINDINGS: dict[tuple[Intent, str], Finding] = {}
_OBJECTS: dict[tuple[Any, ...], ObjectRef] = {}


def _finding(intent: Intent, message: str) -> Finding:
    key = (intent, message)
    found = _FINDINGS.get(key)
    if found is None:
        if len(_FINDINGS) >= _INTERNED_LIMIT:
            _FINDINGS.clear()
        found = _FINDINGS[key] = Finding(intent=intent, message=message)
    return found


def _object_ref(
    kind: ObjectKind,
    action: ObjectAction,
    name: str,
    schema: str | None,
    catalog: str | None,
    column: str | None,
) -> ObjectRef:
    key = (kind, action, name, schema, catalog, column)
    found = _OBJECTS.get(key)
    if found is None:
        if len(_OBJECTS) >= _INTERNED_LIMIT:
            _OBJECTS.clear()
        found = _OBJECTS[key] = ObjectRef(
            kind=kind, action=action, name=name, schema=schema, catalog=catalog, column=column
        )
    return found


class _Statement:
    """Mutable accumulator for one statement while its tree is walked."""

    __slots__ = (
        "claimed_tables",
        "cte_names",
        "depth",
        "dialect_name",
        "embedded",
        "findings",
        "intents",
        "names",
        "objects",
        "operation",
        "tables",
    )

    def __init__(self, names: _Names, dialect_name: str | None, depth: int) -> None:
        self.names = names
        self.dialect_name = dialect_name
        self.depth = depth
        self.operation = ""
        self.intents: set[Intent] = set()
        self.findings: list[Finding] = []
        self.objects: dict[tuple[str, str, str], ObjectRef] = {}
        self.embedded: list[StatementEffect] = []
        self.claimed_tables: set[int] = set()
        self.cte_names: set[str] = set()
        self.tables: list[exp.Table] = []

    def add(self, intent: Intent, message: str) -> None:
        self.intents.add(intent)
        for finding in self.findings:
            if finding.intent is intent and finding.message == message:
                return
        self.findings.append(_finding(intent, message))

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
        ref = _object_ref(kind, action, name, schema, catalog, column)
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
        remote = _remote_table(node, name)
        if remote is not None:
            return self._remote(remote, action, name)
        return self.obj(kind, action, name, schema=schema, catalog=catalog)

    def _remote(self, remote: str, action: ObjectAction, name: str | None) -> ObjectRef | None:
        """A table that lives outside this database: a storage path, a linked server, a link."""
        writes = action not in (A.READ, A.GRANT)
        if remote == "location" and name:
            if writes:
                self.add(I.EXPORT, f"writes to the storage location {name}")
            return self.obj(_location_kind(name), A.EXPORT_TARGET if writes else A.READ, name)
        self.add(I.HOST_ACCESS, f"{name} is reached through {remote}")
        if writes:
            self.add(I.EXPORT, f"writes rows to {name} on another server")
        return self.obj(K.TABLE, action, name)

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


# Table functions that name another server when used as a table (T-SQL).
_REMOTE_TABLE_NAMES = frozenset({"openrowset", "opendatasource", "openquery"})


def _remote_table(node: exp.Table, name: str | None) -> str | None:
    r"""How a table is remote, if it is: a path-named table (Delta `delta.\`s3://...\``), a
    T-SQL four-part name or OPENROWSET (a linked server), an Oracle `table@link`."""
    if name and ("://" in name or name.startswith("/")):
        return "location"
    if isinstance(node.args.get("this"), exp.Dot):
        return "a linked server (four-part name)"
    if name and "@" in name and not name.startswith("@"):
        return "a database link"
    if name and name.lower() in _REMOTE_TABLE_NAMES:
        return name.upper()
    return None


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
    control = _CONTROL_BYTES.search(text)
    if control is not None:
        # libpq and most drivers stop at NUL and some ignore other control bytes: the database
        # would not run the text analysed here, so it is refused rather than guessed at.
        return [
            _whole_text_unparseable(
                text,
                canonical,
                f"contains the control character {control.group()!r} at offset {control.start()}: "
                "drivers truncate or drop it, so what runs is not what was analysed; remove it",
            )
        ]
    names = _Names(_dialect(canonical), default_schema, default_catalog)
    try:
        if text.count("(") > _DEEP_NESTING and _nesting(text) > _DEEP_NESTING:
            return _on_deep_stack(_analyze, text, canonical, depth, names)
        return _analyze(text, canonical, depth, names)
    except Exception as error:  # the analyzer must fail closed, never crash the guard
        return [_whole_text_unparseable(text, canonical, f"analyzer error: {error!r}")]


# sqlglot's parser recurses once per nesting level (and ~30 frames per level): past this depth
# the analysis runs on a thread with a large stack instead of failing with RecursionError.
_DEEP_NESTING = 150
_DEEP_STACK_BYTES = 1 << 30
_DEEP_RECURSION = 400_000
_DEEP_LOCK = threading.Lock()


def _nesting(text: str) -> int:
    deepest = level = 0
    for char in text:
        if char == "(":
            level += 1
            deepest = max(deepest, level)
        elif char == ")":
            level -= 1
    return deepest


def _on_deep_stack(
    function: Callable[..., list[StatementEffect]], *args: Any
) -> list[StatementEffect]:
    """Run `function` on a thread whose stack holds thousands of nested parentheses."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(function(*args))
        except BaseException as error:  # re-raised below, in the caller's thread
            outcome.append(error)

    with _DEEP_LOCK:  # the recursion limit is process-wide: one deep analysis at a time
        limit = sys.getrecursionlimit()
        previous = threading.stack_size(_DEEP_STACK_BYTES)
        try:
            sys.setrecursionlimit(max(limit, _DEEP_RECURSION))
            worker = threading.Thread(target=run, name="guardrails-deep-sql")
            worker.start()
            worker.join()
        finally:
            threading.stack_size(previous)
            sys.setrecursionlimit(limit)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


_CONTROL_BYTES = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


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
    source, ambiguous = _preprocess(text, dialect_name)
    try:
        tokens = names.tokenize(source)
    except SqlglotError as error:
        return [_whole_text_unparseable(text, dialect_name, f"cannot tokenise: {error}")]
    if dialect_name is None:
        ambiguous = [*ambiguous, *_divergent_readings(source, tokens, names.dialect)]
    effects: list[StatementEffect] = []
    prepared: dict[str, list[StatementEffect]] = {}
    odd_characters = _odd_code_characters(source, tokens)
    lexing_changed: str | None = None
    for chunk in _split_statements(tokens, source):
        statement = _Statement(names=names, dialect_name=dialect_name, depth=depth)
        odd = next((p for p in odd_characters if chunk.start <= p < chunk.end), None)
        # A divergence anywhere before a statement's end can move where that statement starts.
        unclear = next((p for p in ambiguous if p < chunk.end), None)
        if odd is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"unusual character U+{ord(source[odd]):04X} between "
                "words: the database may split this statement differently",
            )
        elif unclear is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                "comments, quotes or escapes here are read differently by different "
                "databases (name the SQL dialect to have it judged)",
            )
        elif lexing_changed is not None:
            statement.operation = _leading_words(chunk.tokens, 1) or "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"an earlier statement changed how SQL is read ({lexing_changed}); what "
                "follows cannot be analysed reliably",
            )
        else:
            _classify_chunk(statement, chunk, source, prepared)
            _named_effects(statement, chunk, source)
            lexing_changed = lexing_changed or _changes_lexing(source[chunk.start : chunk.end])
            if dialect_name in MYSQL_FAMILY:
                _remember_variable(source[chunk.start : chunk.end], statement, prepared)
        effects.append(
            statement.build(len(effects), text[chunk.start : chunk.end], (chunk.start, chunk.end))
        )
    return effects


_EFFECTS_FILE = Path(__file__).parent / "rules" / "sql_effects.yaml"


@functools.cache
def _effect_rows() -> tuple[tuple[re.Pattern[str], tuple[Intent, ...], str], ...]:
    data = yaml.safe_load(_EFFECTS_FILE.read_text(encoding="utf-8"))
    return tuple(
        (re.compile(row["pattern"]), tuple(Intent(i) for i in row["intents"]), row["message"])
        for row in data["effects"]
    )


_STRING_TOKENS = frozenset(
    {
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.BYTE_STRING,
        TokenType.UNICODE_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
    }
)


@functools.cache
def _effect_triggers() -> tuple[str, ...]:
    data = yaml.safe_load(_EFFECTS_FILE.read_text(encoding="utf-8"))
    return tuple(str(word) for word in data["triggers"])


def _named_effects(statement: _Statement, chunk: _Chunk, source: str) -> None:
    """Effects the words name (rules/sql_effects.yaml), outside strings and comments."""
    text = source[chunk.start : chunk.end].upper()
    if not any(word in text for word in _effect_triggers()):
        return
    words = " ".join(
        "'?'" if token.token_type in _STRING_TOKENS else token.text.upper()
        for token in chunk.tokens
    )
    for pattern, intents, message in _effect_rows():
        if pattern.search(words):
            for intent in intents:
                statement.add(intent, message)


_LEXING_MODES = re.compile(
    r"\b(SQL_MODE\b.*\b(NO_BACKSLASH_ESCAPES|ANSI_QUOTES|ANSI)\b|STANDARD_CONFORMING_STRINGS|"
    r"BACKSLASH_QUOTE|QUOTED_IDENTIFIER)",
    flags=re.IGNORECASE | re.DOTALL,
)


def _changes_lexing(text: str) -> str | None:
    """A SET that changes how the server tokenises later statements (quotes, escapes)."""
    if not re.match(r"\s*SET\b", text, flags=re.IGNORECASE):
        return None
    match = _LEXING_MODES.search(text)
    return match.group(0)[:60] if match else None


def _split_statements(tokens: list[Token], source: str) -> list[_Chunk]:
    """Statements are the token runs between top-level semicolons (the tokenizer has already
    swallowed semicolons inside strings, comments, dollar quotes and command bodies)."""
    semicolon = TokenType.SEMICOLON
    boundaries = [index for index, token in enumerate(tokens) if token.token_type is semicolon]
    chunks: list[_Chunk] = []
    start = 0
    for index in boundaries:
        if index > start:
            chunks.append(_chunk(tokens[start:index], source, tokens[index].start))
        start = index + 1
    if start < len(tokens):
        chunks.append(_chunk(tokens[start:], source, len(source)))
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
        if _match_rule(words) is not None or (words[:1] and words[0] in _SPECIAL_COMMANDS):
            _classify_by_keywords(statement, chunk, source, prepared, parse_failed=False)
            return
        statement.operation = "UNKNOWN"
        statement.add(I.UNPARSEABLE, f"not a SQL statement (parsed as {root_type.__name__})")
        return
    if root_type in _PREFIX_STATEMENTS:
        # Parsed as SET / USE / BEGIN ...: make sure nothing else hides in the same chunk.
        _trailing_statement(statement, _statement_words(chunk, source, statement.names.dialect))
    statement.operation = _operation_name(tree)
    if isinstance(tree, exp.Query | exp.Pivot):
        statement.add(I.READ, "query")
    if _plans_only(tree):
        statement.operation = "EXPLAIN"
        statement.add(I.READ, "EXPLAIN plans the statement without running it")
        return
    _walk(statement, tree, chunk)


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
    """The function's name as the database resolves it: `"pg_read_file"` is pg_read_file."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
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
    if name in _READING_TABLE_FUNCTIONS and _computed_location(function):
        # `read_csv('http://x/?d=' || (SELECT secret ...))`: the request itself carries data out.
        statement.add(I.EXPORT, f"{name}() fetches a location built from query data")
    if name in _READING_TABLE_FUNCTIONS and literal and _outside_workspace(literal):
        statement.add(I.HOST_ACCESS, f"{name}() reads {literal}, outside the working data")
    if name in _OTHER_SERVER_FUNCTIONS:
        statement.add(I.HOST_ACCESS, f"{name}() reaches another server or the host's files")
    if name in ("openrowset", "opendatasource", "openquery"):
        statement.add(I.HOST_ACCESS, f"{name.upper()} reaches an external data source")
    if name in ("executable",):
        statement.add(I.HOST_ACCESS, f"{name}() runs a program on the server")
    _check_function(statement, function)


_OTHER_SERVER_FUNCTIONS = frozenset(
    {
        "file",
        "url",
        "remote",
        "remotesecure",
        "mysql",
        "postgresql",
        "jdbc",
        "odbc",
        "hdfs",
        "executable",
        "cluster",
        "clusterallreplicas",
        "sqlite",
        "mongodb",
        "redis",
        "input",
    }
)


def _outside_workspace(location: str) -> bool:
    """An absolute or home path, or a web URL: not a pipeline's own relative or bucket data."""
    lowered = location.lower()
    return lowered.startswith(("/", "~", "file:", "http://", "https://", "ftp://", "..")) or (
        len(lowered) > 2 and lowered[1] == ":" and lowered[2] in "\\/"
    )


def _computed_location(function: exp.Expr) -> bool:
    """The first argument is built at run time from something other than literals."""
    first = next(iter(function.iter_expressions()), None)
    if first is None or isinstance(first, exp.Literal):
        return False
    return any(isinstance(node, exp.Column | exp.Subquery | exp.Select) for node in first.walk())


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
    if isinstance(target, exp.Table):
        # MySQL `UPDATE a JOIN b ON ... SET a.x = b.y` may write either side; claim the first.
        statement.table(target, A.WRITE)
    statement.add(I.WRITE, "UPDATE changes rows")
    if node.args.get("where") is None and _bounded_by_join(node):
        return  # an inner join's ON condition limits the rows, as a WHERE would
    _check_unbounded(statement, node.args.get("where"), "UPDATE", target_names(target), node)


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
    targets = node.args.get("tables") or [node.this]
    for target in targets:
        statement.table(target, A.DELETE)
    if isinstance(node.parent, exp.Alter):
        statement.table(node.parent.this, A.DELETE)  # ClickHouse `ALTER TABLE t DELETE WHERE`
    statement.add(I.DELETE, "DELETE removes rows")
    # DELETE ... USING and multi-table deletes count as unbounded without a WHERE (as specified:
    # a join is easy to get wrong and the cost of a wrong one is every row).
    names = target_names(node.this) | target_names(targets[0])
    _check_unbounded(statement, node.args.get("where"), "DELETE", names, node)


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
    if where is None:
        statement.add(I.MASS_MUTATION, f"{verb} without a WHERE clause touches every row")
        return
    condition = where.this if isinstance(where, exp.Where) else where
    folded = fold_identifiers(condition)
    truth = predicate_truth(folded, target)
    if truth is True:
        statement.add(
            I.MASS_MUTATION,
            f"{verb} with an always-true WHERE ({condition.sql()[:80]}) touches every row",
        )
    elif (
        truth is None
        and not looks_at_target(folded, target)
        and not _joined_on_target(node, target)
    ):
        statement.add(
            I.MASS_MUTATION,
            f"{verb}'s WHERE ({condition.sql()[:80]}) never looks at a column of the row it "
            "changes, so it holds for all rows or none: scoping is not proven",
        )


def _joined_on_target(node: exp.Expr | None, target: frozenset[str]) -> bool:
    """A join whose ON condition reads the target row restricts it as a WHERE would."""
    if node is None:
        return False
    for join in node.find_all(exp.Join):
        on = join.args.get("on")
        if on is not None and looks_at_target(fold_identifiers(on), target):
            return True
    return False


def _handle_merge(statement: _Statement, node: exp.Merge, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.WRITE)
    statement.add(I.WRITE, "MERGE writes rows")
    on = node.args.get("on")
    using = node.args.get("using")
    target = _qualified_table(node.this)
    on_truth = predicate_truth(on, target_names(node.this))
    if on_truth is None and target is not None and _qualified_table(using) == target:
        on_truth = _self_merge(on)  # MERGE t USING t ON t.id = s.id: every row matches
    source_empty = _empty_source(using)
    whens = node.args.get("whens")
    for when in whens.expressions if whens is not None else []:
        then = when.args.get("then")
        deletes = isinstance(then, exp.Var) and str(then.this).upper() == "DELETE"
        mutates = deletes or isinstance(then, exp.Update)
        by_source = bool(when.args.get("source"))
        if deletes:
            statement.table(node.this, A.DELETE)
            statement.add(I.DELETE, "MERGE has a WHEN ... THEN DELETE branch")
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
        elif by_source and (on_truth is False or source_empty):
            statement.add(
                I.MASS_MUTATION,
                f"MERGE ... NOT MATCHED BY SOURCE THEN {verb} with a source that can "
                "match nothing touches every row",
            )


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


def _empty_source(using: exp.Expr | None) -> bool:
    """A MERGE source that yields no rows: `(SELECT ... WHERE FALSE)`, `LIMIT 0`."""
    query = using.this if isinstance(using, exp.Subquery) else None
    if not isinstance(query, exp.Select):
        return False
    where = query.args.get("where")
    if where is not None and predicate_truth(where.this) is False:
        return True
    limit = query.args.get("limit")
    return limit is not None and str(getattr(limit.expression, "this", "")) == "0"


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
    kind = _object_kind(kind_name)
    if node.args.get("cascade"):
        statement.operation = f"{statement.operation} CASCADE"
    targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
    for target in targets:
        if isinstance(target, exp.Table):
            statement.table(target, A.DROP, kind)
        else:
            statement.obj(kind, A.DROP, statement.names.identifier(target))
    if kind_name in ("TRIGGER", "RULE", "POLICY"):
        for table in node.find_all(exp.Table):
            if id(table) not in statement.claimed_tables:
                statement.table(table, A.ALTER)  # `DROP TRIGGER t ON orders` changes orders
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
    kind = _object_kind(kind_name)
    replace = bool(node.args.get("replace"))
    target = node.this
    statement.add(I.SCHEMA_CHANGE, f"CREATE {kind_name} defines a new {kind_name.lower()}")
    if isinstance(target, exp.Index):
        statement.obj(K.INDEX, A.CREATE, statement.names.identifier(target.this))
        table = target.args.get("table")
        if isinstance(table, exp.Table):
            statement.table(table, A.ALTER)
        return
    if kind_name in ("FUNCTION", "PROCEDURE") and not isinstance(target, exp.UserDefinedFunction):
        statement.table(target, A.REPLACE if replace else A.CREATE, K.FUNCTION)
        _routine_body(statement, node, chunk)
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
        _routine_body(statement, node, chunk)
        return
    if kind_name == "TRIGGER":
        for table in node.find_all(exp.Table):
            statement.table(table, A.ALTER)  # a trigger changes how its table behaves
        return
    if replace and kind in (K.SCHEMA, K.DATABASE):
        # Replacing a schema or database drops everything in it first.
        statement.table(target, A.DROP, kind)
        statement.add(I.DELETE, f"CREATE OR REPLACE {kind_name} drops every object it holds")
        return
    action = A.REPLACE if replace else A.CREATE
    statement.table(target, action, kind)
    if kind is K.TABLE and (node.expression is not None or replace):
        statement.add(I.WRITE, "CREATE TABLE ... AS fills the new table")
    if replace and kind is K.TABLE:
        statement.add(I.DELETE, "CREATE OR REPLACE TABLE discards the existing table and its data")
    if kind is K.STAGE:
        _stage_location(statement, node)
    _external_storage(statement, node)


def _object_kind(kind_name: str) -> ObjectKind:
    """The kind of object a DDL statement names; objects that hold no data are OTHER."""
    return _DROP_KINDS.get(kind_name, K.OTHER)


# Table engines and sources that connect to another server (ClickHouse, MySQL FEDERATED).
_REMOTE_ENGINES = frozenset(
    {
        "federated",
        "mysql",
        "postgresql",
        "mongodb",
        "jdbc",
        "odbc",
        "redis",
        "sqlite",
        "executable",
        "executablepool",
        "http",
        "clickhouse",
        "remote",
    }
)
# Table engines whose data lives in files or object storage outside the database.
_LOCATION_ENGINES = frozenset(
    {
        "url",
        "s3",
        "s3queue",
        "hdfs",
        "file",
        "azureblobstorage",
        "gcs",
        "deltalake",
        "iceberg",
        "hudi",
    }
)


def _external_storage(statement: _Statement, node: exp.Create) -> None:
    """Tables stored outside the database: writing into them sends data out."""
    properties = node.args.get("properties")
    fills = node.expression is not None  # CREATE TABLE ... AS SELECT writes rows right away
    nested = (
        list(
            properties.find_all(
                exp.Property, exp.LocationProperty, exp.EngineProperty, exp.DictProperty
            )
        )
        if properties is not None
        else []
    )
    for prop in nested:
        location = _property_location(prop)
        if location is not None:
            statement.obj(_location_kind(location), A.EXPORT_TARGET if fills else A.READ, location)
            if fills:
                statement.add(I.EXPORT, f"CREATE TABLE ... AS writes rows to {location}")
            continue
        engine = _property_engine(prop)
        if engine in _REMOTE_ENGINES:
            statement.add(I.HOST_ACCESS, f"the {engine.upper()} engine connects to another server")
        elif engine in _LOCATION_ENGINES and fills:
            statement.add(
                I.EXPORT,
                f"CREATE TABLE ... AS writes rows through the "
                f"{engine.upper()} engine to external storage",
            )
        if isinstance(prop, exp.DictProperty) and str(prop.args.get("kind") or "").lower() in (
            _REMOTE_ENGINES
        ):
            statement.add(
                I.HOST_ACCESS, "the dictionary source runs a program or connects to another server"
            )


def _property_location(prop: exp.Expr) -> str | None:
    if isinstance(prop, exp.LocationProperty) and isinstance(prop.this, exp.Literal):
        return str(prop.this.this)
    if isinstance(prop, exp.Property) and prop.name.lower() in (
        "external_location",
        "location",
        "path",
        "url",
    ):
        value = prop.args.get("value")
        return str(value.this) if isinstance(value, exp.Literal) else None
    return None


def _property_engine(prop: exp.Expr) -> str | None:
    if isinstance(prop, exp.EngineProperty):
        engine = prop.this
        name = engine.name if isinstance(engine, exp.Expr) else str(engine)
        return name.lower()
    return None


# Languages whose routines run code on the database host without a sandbox.
_UNTRUSTED_LANGUAGES = frozenset(
    {
        "c",
        "internal",
        "plpythonu",
        "plpython2u",
        "plpython3u",
        "plperlu",
        "pltclu",
        "plsh",
        "plr",
        "pljavau",
    }
)
_SQL_LANGUAGES = frozenset({"sql", "plpgsql", "plsql", "tsql", "sqlscript", ""})


def _routine_body(statement: _Statement, node: exp.Create, chunk: _Chunk | None) -> None:
    """What a stored function or procedure will do when it is called, analysed now."""
    language = ""
    properties = node.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.LanguageProperty):
            language = prop.name.lower()
    words = {token.text.upper() for token in chunk.tokens} if chunk is not None else set()
    if language in _UNTRUSTED_LANGUAGES or "SONAME" in words:
        statement.add(
            I.HOST_ACCESS,
            f"a {language or 'native'} routine runs code on the database host when called",
        )
        return
    body = node.expression
    text = str(body.this) if isinstance(body, exp.Heredoc | exp.Literal) else None
    if text and language in _SQL_LANGUAGES:
        _deferred_body(statement, text, "the routine")


def _deferred_body(statement: _Statement, body: str, what: str) -> None:
    """Code stored now and run later (routines, triggers, rules, events, tasks): what it will
    do is judged now, since creating it is what makes it happen."""
    if statement.depth >= MAX_DEPTH:
        statement.add(I.DYNAMIC, f"{what} nests too deeply to analyse")
        return
    effects = _procedural_statements(body, statement)
    statement.embed(effects)
    if any(set(effect.intents) - {I.READ} for effect in effects):
        statement.add(I.SCHEMA_CHANGE, f"{what} stores statements that run later")


def _stage_location(statement: _Statement, node: exp.Create) -> None:
    properties = node.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.Property) and prop.name.upper() == "URL":
            value = prop.args.get("value")
            if isinstance(value, exp.Literal):
                statement.obj(K.URL, A.WRITE, value.this)


def _handle_alter(statement: _Statement, node: exp.Alter, chunk: _Chunk | None) -> None:
    kind = _object_kind(_kind(node))
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
            using = action.args.get("using")
            if using is not None and constant(using) is not Unknown:
                # `TYPE ... USING NULL` replaces every value of the column: its data is gone.
                statement.obj(K.COLUMN, A.DROP, name, schema=schema, catalog=catalog, column=column)
                statement.add(
                    I.DELETE, f"ALTER COLUMN {column} ... USING a constant overwrites every value"
                )
            else:
                statement.obj(
                    K.COLUMN, A.ALTER, name, schema=schema, catalog=catalog, column=column
                )
            statement.add(I.SCHEMA_CHANGE, f"ALTER COLUMN {column}")
        elif isinstance(action, exp.Command) and str(action.this).upper() == "DROP":
            # `ALTER TABLE t DROP total` (SQLite, DuckDB, Snowflake) and Oracle's `DROP (total)`.
            for column in re.findall(r"\w+", str(action.expression or ""))[:20]:
                if column.upper() in ("COLUMN", "CASCADE", "RESTRICT", "IF", "EXISTS"):
                    continue
                statement.obj(
                    K.COLUMN,
                    A.DROP,
                    name,
                    schema=schema,
                    catalog=catalog,
                    column=_normalise(statement.names.dialect, column, quoted=False),
                )
            statement.add(I.SCHEMA_CHANGE, "ALTER TABLE ... DROP removes a column")
            statement.add(I.DELETE, "dropping a column destroys its data")
        elif isinstance(action, exp.ReplacePartition):
            statement.table(target, A.DELETE, kind)
            statement.add(I.DELETE, "REPLACE PARTITION discards the partition's rows")
            if _all_partitions(action):
                statement.add(I.MASS_MUTATION, "REPLACE PARTITION of the whole table")
            mutations_only = True
        elif isinstance(action, exp.DropPartition):
            statement.table(target, A.DELETE, kind)
            statement.add(I.DELETE, "DROP PARTITION destroys the partition's rows")
            if _all_partitions(action):
                statement.add(I.MASS_MUTATION, "DROP PARTITION of every partition")
            mutations_only = True
        elif any(isinstance(inner, exp.MergeTreeTTL) for inner in action.walk()):
            statement.table(target, A.DELETE, kind)
            statement.add(I.DELETE, "MODIFY TTL deletes every row older than the new TTL")
            statement.add(I.MASS_MUTATION, "a new TTL can expire the whole table at once")
        elif isinstance(action, exp.ModifyColumn) and _renames_column(action):
            old = statement.names.identifier(action.args.get("rename_from"))
            statement.obj(K.COLUMN, A.RENAME, name, schema=schema, catalog=catalog, column=old)
            statement.add(I.SCHEMA_CHANGE, f"CHANGE renames column {old}")
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


def _all_partitions(action: exp.Expr) -> bool:
    """ClickHouse `tuple()` (the whole unpartitioned table), `ID 'all'` or MySQL's `ALL`."""
    for inner in action.walk():
        if isinstance(inner, exp.Struct) and not inner.expressions:
            return True
        if isinstance(inner, exp.Literal) and inner.is_string and inner.this.lower() == "all":
            return True
        if isinstance(inner, exp.Var | exp.Column) and inner.name.upper() == "ALL":
            return True
    return False


def _renames_column(action: exp.Expr) -> bool:
    """MySQL `CHANGE old new type` renames when the two names differ."""
    old, new = action.args.get("rename_from"), action.this
    return (
        isinstance(old, exp.Expr)
        and isinstance(new, exp.Expr)
        and old.name.lower() != new.name.lower()
    )


def _column_identifier(node: exp.Expr | None) -> exp.Expr | None:
    return node.this if isinstance(node, exp.Column) else node


def _handle_copy(statement: _Statement, node: exp.Copy, chunk: _Chunk | None) -> None:
    loading = bool(node.args.get("kind"))
    target = node.this
    files = node.args.get("files") or []
    program = _copy_program(chunk)
    if loading and _copy_direction(chunk) == "TO":
        # The tokens say TO where sqlglot read FROM (PostgreSQL's old `COPY BINARY t TO ...`):
        # the database will export, so judge it as an export.
        _copy_to_from_tokens(statement, chunk, program)
        return
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


def _copy_direction(chunk: _Chunk | None) -> str | None:
    """TO or FROM, as the top-level keyword of the COPY statement's tokens."""
    if chunk is None:
        return None
    depth = 0
    for token in chunk.tokens[1:]:
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and token.text.upper() in ("TO", "FROM"):
            return token.text.upper()
    return None


def _copy_to_from_tokens(statement: _Statement, chunk: _Chunk | None, program: str | None) -> None:
    statement.operation = "COPY TO"
    statement.add(I.READ, "COPY ... TO reads the source")
    tokens = chunk.tokens if chunk is not None else []
    names = [
        t
        for t in tokens[1:]
        if t.token_type is TokenType.VAR
        and t.text.upper() not in ("BINARY", "TO", "FROM", "PROGRAM", "STDOUT", "WITH")
    ]
    if names:
        statement.obj(
            K.TABLE,
            A.READ,
            _normalise(statement.names.dialect, names[0].text, quoted=False),
            schema=statement.names.default_schema,
        )
    if program is not None:
        statement.obj(K.PROGRAM, A.EXPORT_TARGET, program)
        statement.add(I.HOST_ACCESS, f"COPY ... TO PROGRAM runs {program!r} on the server")
        statement.add(I.EXPORT, f"COPY ... TO PROGRAM pipes data into {program!r}")
        return
    destination = next((t.text for t in tokens if t.token_type is TokenType.STRING), None)
    statement.obj(K.FILE, A.EXPORT_TARGET, destination or "file")
    statement.add(I.EXPORT, "COPY ... TO writes table data to a file outside the database")


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
    target = unparen(this.this if isinstance(this, exp.Alias) else this)
    if not isinstance(target, exp.Literal | exp.Identifier | exp.Column):
        # ATTACH ('/tmp/' || name): the file is chosen at run time.
        statement.obj(K.FILE, A.EXPORT_TARGET, target.sql() if target is not None else "file")
        statement.add(I.EXPORT, "ATTACH of a database file whose path is computed at run time")
        return
    location = target.name
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
        literal = _literal_sql(_argument(arguments, "stmt", 0))
        _dynamic_text(statement, literal, "sp_executesql")
        return
    if procedure in ("sp_msforeachtable", "sp_msforeachdb"):
        # The command runs once per table (or database), `?` standing for its name.
        command = _literal_sql(_argument(arguments, "command1", 0))
        each = command.replace("?", "__each_object__") if command is not None else None
        _dynamic_text(statement, each, procedure)
        return
    if procedure == "sp_add_jobstep":
        # An Agent job step: its T-SQL runs later, outside this session.
        statement.add(I.DYNAMIC, "sp_add_jobstep stores a command that a job runs later")
        _dynamic_text(
            statement, _literal_sql(_argument(arguments, "command", None)), "the job step"
        )
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


def _argument(arguments: list[exp.Expr], name: str, position: int | None) -> exp.Expr | None:
    """A procedure argument by `@name = value`, else by position."""
    for argument in arguments:
        if (
            isinstance(argument, exp.EQ)
            and isinstance(argument.this, exp.Parameter)
            and (argument.this.name.lower() == name)
        ):
            value: exp.Expr | None = argument.expression
            return value
    if position is None or position >= len(arguments):
        return None
    found = arguments[position]
    return None if isinstance(found, exp.EQ) and isinstance(found.this, exp.Parameter) else found


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


# Session variables that hide changes from replication or auditing (MySQL).
_UNLOGGED_VARIABLES = frozenset({"sql_log_bin", "sql_log_off", "general_log", "slow_query_log"})


def _handle_set(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """SET is harmless, except server-wide settings (SET GLOBAL/PERSIST: the host's
    configuration, e.g. a log file path that becomes a web shell) and switching logging off."""
    for item in node.expressions:
        scope = str(item.args.get("kind") or "").upper()
        variable = item.this.this if isinstance(item.this, exp.EQ) else item.this
        name = variable.name.lower() if isinstance(variable, exp.Expr) else ""
        if scope in ("GLOBAL", "PERSIST", "PERSIST_ONLY") or name.startswith("@@global."):
            statement.add(
                I.HOST_ACCESS,
                f"SET {scope or 'GLOBAL'} {name} changes the server's "
                "configuration for every session",
            )
        if name.lstrip("@").removeprefix("session.") in _UNLOGGED_VARIABLES:
            statement.add(I.PRIVILEGE, f"SET {name} stops changes from being logged")
        if name in _IDENTITY_VARIABLES:
            statement.add(I.PRIVILEGE, f"SET {name} changes whose rights the session runs with")
        if name in _INTEGRITY_VARIABLES:
            statement.add(
                I.PRIVILEGE, f"SET {name} switches off triggers, constraints or foreign keys"
            )


# Session settings that switch identity or switch off the database's own integrity checks.
_IDENTITY_VARIABLES = frozenset({"role", "session_authorization", "session authorization"})
_INTEGRITY_VARIABLES = frozenset(
    {"session_replication_role", "foreign_key_checks", "unique_checks", "sql_safe_updates"}
)
# SQLite pragmas that let a statement corrupt the file or skip its checks (name -> value that does).
_RISKY_PRAGMAS = {
    "writable_schema": ("on", "1", "true", "yes", "reset"),
    "journal_mode": ("off", "memory"),
    "synchronous": ("off", "0"),
    "ignore_check_constraints": ("on", "1", "true", "yes"),
    "foreign_keys": ("off", "0", "false", "no"),
    "trusted_schema": ("on", "1", "true", "yes"),
    "cell_size_check": ("off", "0"),
}


def _handle_pragma(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    this = node.this
    name = this.this.name.lower() if isinstance(this, exp.EQ) else ""
    value = this.expression.name.lower() if isinstance(this, exp.EQ) else ""
    if value in _RISKY_PRAGMAS.get(name, ()):
        statement.add(
            I.PRIVILEGE, f"PRAGMA {name} = {value} switches off SQLite's own integrity protection"
        )


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

# Statements that do nothing to data and so could hide one that follows them without a separator.
_PREFIX_STATEMENTS = frozenset(
    {exp.Set, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.Declare, exp.Pragma}
)

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
_STATEMENT_OPERATIONS[exp.Pivot] = "PIVOT"
_STATEMENT_OPERATIONS[exp.ListStage] = "LIST"
_HANDLERS[exp.Set] = _handle_set
_HANDLERS[exp.Pragma] = _handle_pragma
_HANDLERS[exp.ListStage] = _handle_read_only
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
            ("sp_execute_external_script",),
            FunctionRule((I.HOST_ACCESS,), "runs R or Python code on the server"),
        ),
        (
            ("sp_addlinkedserver", "sp_addlinkedsrvlogin", "sp_serveroption", "sp_addserver"),
            FunctionRule((I.HOST_ACCESS, I.SCHEMA_CHANGE), "links this server to another one"),
        ),
        (("httpuritype",), FunctionRule((I.EXPORT,), "HTTPURITYPE fetches a URL")),
        (("load_extension",), FunctionRule((I.HOST_ACCESS,), "loads native code into the server")),
        (
            ("system$send_email", "system$send_snowflake_notification"),
            FunctionRule((I.EXPORT,), "sends a message out of the warehouse"),
        ),
        (
            ("readfile", "read_text_file"),
            FunctionRule((I.HOST_ACCESS,), "reads a file on the host", argument=(K.FILE, A.READ)),
        ),
        (
            ("writefile",),
            FunctionRule(
                (I.EXPORT, I.HOST_ACCESS),
                "writes query data to a file on the host",
                argument=(K.FILE, A.EXPORT_TARGET),
            ),
        ),
        (
            (
                "pg_terminate_backend",
                "pg_cancel_backend",
                "pg_reload_conf",
                "pg_rotate_logfile",
                "pg_promote",
                "pg_switch_wal",
                "pg_drop_replication_slot",
                "pg_replication_origin_drop",
                "pg_create_logical_replication_slot",
                "pg_create_physical_replication_slot",
            ),
            FunctionRule((I.HOST_ACCESS,), "controls server sessions or replication"),
        ),
        (("set_config",), FunctionRule((), "sets a session setting")),
        (("query", "query_table"), FunctionRule((I.DYNAMIC,), "runs SQL text built at run time")),
        (
            ("pg_execute_server_program",),
            FunctionRule((I.HOST_ACCESS,), "runs a program on the server"),
        ),
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
    "utl_inaddr": FunctionRule((I.EXPORT,), "UTL_INADDR resolves names (DNS carries data out)"),
    "dbms_ldap": FunctionRule((I.EXPORT,), "DBMS_LDAP connects to a directory server"),
    "dbms_cloud": FunctionRule((I.EXPORT,), "DBMS_CLOUD sends requests to cloud endpoints"),
    "dbms_xslprocessor": FunctionRule((I.HOST_ACCESS,), "DBMS_XSLPROCESSOR writes server files"),
    "dbms_advisor": FunctionRule((I.HOST_ACCESS,), "DBMS_ADVISOR can write server files"),
    "dbms_backup_restore": FunctionRule((I.HOST_ACCESS,), "reaches server files"),
    "cron": FunctionRule(
        (I.DYNAMIC,), "pg_cron schedules SQL to run later, repeatedly", runs_sql_argument=True
    ),
}

# Built-in namespaces where an unlisted function may reach the server, files or sessions.
_SYSTEM_NAMESPACE = re.compile(
    r"^(?:pg_|lo_|dblink|xp_|sp_|sys_|system\$|dbms_|utl_|ctx_|owa_|apex_|sqlite_|duckdb_|"
    r"fn_|mysql_|sys\.)"
)

# System functions known to only read catalog state, sizes or locks of the caller's session.
_KNOWN_SYSTEM_READS = re.compile(
    r"^(?:pg_(?:get_\w+|stat_get_\w+|size_\w+|\w*relation_size|table_size|indexes_size|"
    r"database_size|tablespace_size|column_size|typeof|backend_pid|is_in_recovery|"
    r"current_wal_\w+|last_wal_\w+|last_xact_replay_timestamp|postmaster_start_time|"
    r"conf_load_time|table_is_visible|type_is_visible|function_is_visible|has_role|"
    r"(?:try_)?advisory_(?:xact_)?(?:un)?lock(?:_shared)?(?:_all)?|blocking_pids|"
    r"encoding_to_char|char_to_encoding|jit_available|client_encoding|my_temp_schema|"
    r"describe_object|identify_object|index_column_has_property|tablespace_location|"
    r"partition_tree|partition_root|partition_ancestors|input_is_valid|sleep\w*|"
    r"xact_commit_timestamp|visible_in_snapshot|current_snapshot|snapshot_\w+|"
    r"column_is_updatable|relation_is_updatable|options_to_table|listening_channels|"
    r"notification_queue_usage|safe_snapshot_blocking_pids|settings_get_flags)|"
    r"duckdb_\w+|sqlite_(?:version|source_id|compileoption_\w+|offset)|"
    r"sp_(?:help\w*|who2?|columns|tables|spaceused|databases|lock)|"
    r"sys_context|fn_\w*(?:info|property|name|id)\w*)$"
)

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
    if name == "set_config":
        setting = _first_string_argument(node)
        if setting and setting.lower() in _IDENTITY_VARIABLES | _INTEGRITY_VARIABLES:
            statement.add(I.PRIVILEGE, f"set_config('{setting}') switches identity or checks off")
        return
    if (
        rule is None
        and isinstance(node, exp.Anonymous)
        and _SYSTEM_NAMESPACE.match(name)
        and not _KNOWN_SYSTEM_READS.match(name)
    ):
        statement.add(
            I.UNKNOWN,
            f"{name}() is a system function the analyzer has no record of: its effect is unknown",
        )
        return
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
    # identity switches: what follows runs with another role's rights
    *(
        _rule(words, (I.PRIVILEGE,), f"{words} runs what follows as another identity")
        for words in (
            "SET ROLE",
            "SET LOCAL ROLE",
            "SET SESSION ROLE",
            "SET SESSION AUTHORIZATION",
            "SET LOCAL SESSION AUTHORIZATION",
            "SET SESSION SESSION AUTHORIZATION",
            "SET DEFAULT ROLE",
            "EXECUTE AS",
            "USE ROLE",
            "USE SECONDARY ROLES",
            "SETUSER",
        )
    ),
    _rule("KILL", (I.HOST_ACCESS,), "KILL ends another session or query"),
    _rule("RESET MASTER", (I.HOST_ACCESS,), "RESET MASTER deletes the binary logs"),
    _rule("RESET BINARY LOGS", (I.HOST_ACCESS,), "deletes the binary logs"),
    _rule("PURGE BINARY LOGS", (I.HOST_ACCESS,), "deletes binary logs"),
    _rule("RESET REPLICA", (I.HOST_ACCESS,), "discards replication state"),
    _rule("RESET SLAVE", (I.HOST_ACCESS,), "discards replication state"),
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
    _rule("MSCK REPAIR TABLE", (), "MSCK REPAIR rescans partitions"),
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
    _rule("LOCK TABLES", (), "LOCK TABLES takes table locks"),
    _rule("UNLOCK TABLES", (), "UNLOCK TABLES releases table locks"),
    _rule("UPDATE STATISTICS", (), "UPDATE STATISTICS refreshes optimizer statistics"),
    _rule("CREATE SECRET", (I.SCHEMA_CHANGE,), "CREATE SECRET stores credentials for a source"),
)

# Statements whose meaning is certain from their keywords even when sqlglot cannot parse the
# rest (maintenance and metadata): a parse failure does not make them unparseable, as long as
# no other statement hides behind them.
_TRUSTED_WHEN_UNPARSED = frozenset(
    tuple(words.split())
    for words in (
        "VACUUM",
        "ANALYZE",
        "CLUSTER",
        "REINDEX",
        "CHECKPOINT",
        "LOCK",
        "LOCK TABLES",
        "UNLOCK TABLES",
        "SHOW",
        "DESCRIBE",
        "DESC",
        "LIST",
        "LS",
        "MSCK REPAIR TABLE",
        "UPDATE STATISTICS",
        "OPTIMIZE",
        "USE",
        "SET",
        "DECLARE",
        "BEGIN",
        "START TRANSACTION",
        "COMMIT",
        "ROLLBACK",
        "END",
        "SAVEPOINT",
        "RELEASE",
        "DEALLOCATE",
        "CLOSE",
        "FETCH",
        "MOVE",
        "GO",
        "DISCARD",
        "RESET",
    )
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


@dataclass
class _Words:
    """A statement's tokens as words, with the text the tokens' offsets point into."""

    words: list[str]
    tokens: list[Token]
    text: str
    end: int


def _command_words(chunk: _Chunk, source: str, dialect: Dialect) -> tuple[list[str], list[Token]]:
    found = _statement_words(chunk, source, dialect)
    return found.words, found.tokens


def _statement_words(chunk: _Chunk, source: str, dialect: Dialect) -> _Words:
    """Upper-case words of a statement, re-tokenising a body the tokenizer folded away.

    After a command keyword (SET, DECLARE, BEGIN, EXECUTE, ...) sqlglot's tokenizer folds the
    rest of the statement into one string token; the words in it still matter.
    """
    tokens = chunk.tokens
    if (
        len(tokens) >= 2
        and tokens[1].token_type is TokenType.STRING
        and (tokens[0].token_type in dialect.tokenizer_class.COMMANDS)
    ):
        body = tokens[1].text
        try:
            rest = _tokenizer_and_parser(dialect)[0].tokenize(body)
        except SqlglotError:
            rest = []
        # Offsets of the re-tokenised words point into `body`; the first token is not in it.
        first = Token(tokens[0].token_type, tokens[0].text, start=-1, end=-1)
        return _Words(_upper_words([first, *rest]), [first, *rest], body, len(body))
    return _Words(_upper_words(tokens), tokens, source, chunk.end)


def _upper_words(tokens: list[Token]) -> list[str]:
    # Some keywords are one token of two words (`MSCK REPAIR`, `START TRANSACTION`).
    return [
        word
        for token in tokens
        if token.token_type not in _QUOTED_TOKENS
        for word in token.text.upper().split()
    ]


# Keywords that start a statement: when one follows a harmless-looking prefix (T-SQL
# `SET NOCOUNT ON DROP TABLE t`, BigQuery `BEGIN DELETE ...`), it is a statement of its own.
_STATEMENT_STARTERS = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "DROP",
        "CREATE",
        "ALTER",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "DENY",
        "EXEC",
        "EXECUTE",
        "CALL",
        "COPY",
        "BULK",
        "BACKUP",
        "RESTORE",
        "SHUTDOWN",
        "RENAME",
        "REPLACE",
        "LOAD",
        "UNLOAD",
        "EXPORT",
        "ATTACH",
        "DETACH",
        "PREPARE",
        "KILL",
        "DBCC",
        "RECONFIGURE",
        "UNDROP",
        "PUT",
        "GET",
        "REMOVE",
        "OPEN",
        "INSTALL",
        "VACUUM",
    }
)


# Words after which a statement keyword is part of a clause, not a new statement:
# LOCK ... IN SHARE UPDATE EXCLUSIVE MODE, SELECT ... FOR UPDATE, VACUUM DELETE ONLY,
# CREATE TRIGGER ... BEFORE DELETE ON. Never ON: T-SQL's `SET NOCOUNT ON DROP TABLE t` is two.
_CLAUSE_WORDS = frozenset(
    {
        "SHARE",
        "ROW",
        "VACUUM",
        "FOR",
        "OF",
        "BEFORE",
        "AFTER",
        "INSTEAD",
        "EACH",
        "EXCLUSIVE",
        "ACCESS",
        "KEY",
    }
)


def _trailing_statement(statement: _Statement, found: _Words, first: int = 1) -> bool:
    """Analyse what hides after a harmless prefix in the same chunk; True if a statement did.

    A statement keyword at the top level starts a statement of its own (T-SQL runs the rest of
    the batch); a parenthesised query (`SET @x = (SELECT ...)`) runs too and is analysed.
    """
    tokens = found.tokens
    opened: list[int] = []
    position = first
    while position < len(tokens):
        token = tokens[position]
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            opened.append(position)
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            if opened:
                opened.pop()
        elif (
            token.start >= 0
            and token.token_type not in _QUOTED_TOKENS
            and token.text.upper() in _STATEMENT_STARTERS
            and not (position > 0 and tokens[position - 1].text.upper() in _CLAUSE_WORDS)
        ):
            if not opened:
                _dynamic_text(statement, found.text[token.start : found.end], found.words[0])
                return True
            if opened[-1] == position - 1:
                close = _matching_paren(tokens, opened[-1])
                end = tokens[close].start if close is not None else found.end
                _dynamic_text(statement, found.text[token.start : end], found.words[0])
                position = close if close is not None else len(tokens)
                opened.pop()
        position += 1
    return False


def _matching_paren(tokens: list[Token], opening: int) -> int | None:
    depth = 0
    for position in range(opening, len(tokens)):
        kind = tokens[position].token_type
        if kind in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif kind in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
            if depth == 0:
                return position
    return None


def _forget(statement: _Statement, intent: Intent) -> None:
    statement.intents.discard(intent)
    statement.findings[:] = [f for f in statement.findings if f.intent is not intent]


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
    found = _statement_words(chunk, source, dialect)
    words, tokens = found.words, found.tokens
    if not words:
        statement.add(I.UNPARSEABLE, "empty statement")
        return
    special = _SPECIAL_COMMANDS.get(words[0])
    if special is not None and special(statement, _Command(words, tokens, chunk, source, prepared)):
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
    if set(rule.intents) <= {I.READ}:
        # A harmless prefix (SET, DECLARE, BEGIN, GO, USE) must not hide what follows it.
        hidden = _trailing_statement(statement, found, first=1)
        if parse_failed and not hidden and rule.keywords in _TRUSTED_WHEN_UNPARSED:
            _forget(statement, I.UNPARSEABLE)


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
        if verb in ("TRUNCATE", "RESTORE", "FLASHBACK") or rule.keywords == ("RENAME",)
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
    (("SET", "AUTHORIZATION"), I.PRIVILEGE, "SET AUTHORIZATION changes the owner"),
    (("TRUSTWORTHY",), I.PRIVILEGE, "TRUSTWORTHY lets database code act at server level"),
    (("DISABLE", "ROW", "LEVEL", "SECURITY"), I.PRIVILEGE, "turns row-level security off"),
    (("NO", "FORCE", "ROW", "LEVEL", "SECURITY"), I.PRIVILEGE, "exempts the owner from RLS"),
    (("UNSET", "ROW", "ACCESS", "POLICY"), I.PRIVILEGE, "removes a row access policy"),
    (("DROP", "ROW", "ACCESS", "POLICY"), I.PRIVILEGE, "removes a row access policy"),
    (("UNSET", "MASKING", "POLICY"), I.PRIVILEGE, "removes a masking policy"),
    (("DROP", "MASK"), I.PRIVILEGE, "removes a column mask"),
    (("DROP", "ROW", "FILTER"), I.PRIVILEGE, "removes a row filter"),
    (("REPLICATION", "TO", "ACCOUNTS"), I.EXPORT, "replicates the database to other accounts"),
    (("FAILOVER", "TO", "ACCOUNTS"), I.EXPORT, "replicates the database to other accounts"),
    (("ADD", "ACCOUNTS"), I.EXPORT, "shares data with other accounts"),
    (("EXECUTABLE",), I.HOST_ACCESS, "an EXECUTABLE source runs a program on the server"),
    (("OPENROWSET",), I.HOST_ACCESS, "OPENROWSET reads a file or another server"),
    (("OPENDATASOURCE",), I.HOST_ACCESS, "OPENDATASOURCE connects to another server"),
    (("EXECUTABLE_POOL",), I.HOST_ACCESS, "an EXECUTABLE source runs a program on the server"),
    (("CLEAR", "COLUMN"), I.DELETE, "CLEAR COLUMN erases a column's values"),
    (("DROP", "PARTITION"), I.DELETE, "DROP PARTITION destroys a partition's rows"),
    (("DROP", "DETACHED", "PARTITION"), I.DELETE, "destroys detached partition data"),
    (("TRUNCATE", "PARTITION"), I.DELETE, "TRUNCATE PARTITION removes a partition's rows"),
    (("REPLACE", "PARTITION"), I.DELETE, "REPLACE PARTITION discards a partition's rows"),
    (("DISCARD", "TABLESPACE"), I.DELETE, "DISCARD TABLESPACE deletes the table's data file"),
    (("SET", "UNUSED"), I.DELETE, "SET UNUSED makes a column's data unreachable"),
    (("CASCADE",), I.DELETE, "CASCADE also drops every object that depends on this one"),
)


# Hints meaning every row or the whole object is affected.
_MASS_HINTS: tuple[tuple[str, ...], ...] = (
    ("PARTITION", "ALL"),
    ("PARTITION", "TUPLE"),
    ("DISCARD", "TABLESPACE"),
    ("ID", "'ALL'"),
)


def _contains(words: list[str], sequence: tuple[str, ...]) -> bool:
    width = len(sequence)
    return any(tuple(words[i : i + width]) == sequence for i in range(len(words) - width + 1))


def _apply_keyword_hints(statement: _Statement, words: list[str]) -> None:
    for sequence, intent, message in _KEYWORD_HINTS:
        if _contains(words, sequence):
            statement.add(intent, message)
    if any(_contains(words, sequence) for sequence in _MASS_HINTS):
        statement.add(I.MASS_MUTATION, "the change applies to every partition or the whole table")
    if words[0] == "DROP" and "CASCADE" in words:
        statement.operation = f"{statement.operation} CASCADE"
    if _renames(words):
        # Keyword-classified renames and moves: the object keeps its data under a new name.
        for key, ref in list(statement.objects.items()):
            if ref.action in (A.ALTER, A.CREATE):
                renamed = ref.model_copy(update={"action": A.RENAME})
                del statement.objects[key]
                statement.objects[(renamed.kind.value, A.RENAME.value, renamed.qualified)] = renamed
    if words[0] == "ALTER" and _contains(words, ("SWAP", "WITH")):
        for key, ref in list(statement.objects.items()):
            replaced = ref.model_copy(update={"action": A.REPLACE})
            del statement.objects[key]
            statement.objects[(replaced.kind.value, A.REPLACE.value, replaced.qualified)] = replaced


def _renames(words: list[str]) -> bool:
    if words[0] == "RENAME":
        return True
    return words[0] == "ALTER" and (
        _contains(words, ("RENAME", "TO")) or _contains(words, ("SET", "SCHEMA"))
    )


# --- commands with their own logic ------------------------------------------------------------


class _Command(NamedTuple):
    """What a keyword-command handler reads: the statement's words and tokens, its chunk, the
    whole source, and what earlier statements of the script prepared (PREPARE, SET @v)."""

    words: list[str]
    tokens: list[Token]
    chunk: _Chunk
    source: str
    prepared: dict[str, list[StatementEffect]]


SpecialCommand = Callable[[_Statement, _Command], bool]


def _special_execute(statement: _Statement, command: _Command) -> bool:
    """EXECUTE IMMEDIATE 'sql' (Snowflake, BigQuery, Oracle) or PostgreSQL's EXECUTE plan(...)."""
    statement.operation = "EXECUTE"
    if len(command.words) > 1 and command.words[1] == "IMMEDIATE":
        literal = _single_literal(command.tokens[2:])
        _dynamic_text(statement, literal, "EXECUTE IMMEDIATE")
        return True
    if len(command.tokens) > 1 and command.tokens[1].token_type in _QUOTED_TOKENS - {
        TokenType.IDENTIFIER
    }:
        _dynamic_text(statement, _single_literal(command.tokens[1:]), "EXECUTE '...'")
        return True
    if len(command.tokens) > 1 and command.tokens[1].token_type is TokenType.L_PAREN:
        _dynamic_text(statement, _concatenated_literal(command.tokens[2:]), "EXEC (...)")
        return True
    name = command.tokens[1].text.lower() if len(command.tokens) > 1 else ""
    if name in command.prepared:
        statement.embed(command.prepared[name])
        return True
    if len(command.tokens) > 1:
        statement.obj(K.FUNCTION, A.EXECUTE, command.tokens[1].text)
    statement.add(
        I.DYNAMIC,
        f"EXECUTE {command.tokens[1].text if len(command.tokens) > 1 else ''} runs a "
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


def _special_prepare(statement: _Statement, command: _Command) -> bool:
    """PREPARE name AS statement (PostgreSQL) or PREPARE name FROM 'text' | @var (MySQL)."""
    statement.operation = "PREPARE"
    if len(command.tokens) < 3:
        return False
    name = command.tokens[1].text.lower()
    for position, token in enumerate(command.tokens[2:], start=2):
        upper = token.text.upper()
        if upper == "FROM":
            rest = command.tokens[position + 1 :]
            before = len(statement.embedded)
            variable = _user_variable(rest)
            if variable is not None and variable in command.prepared:
                # MySQL: SET @q = '...'; PREPARE s FROM @q
                statement.embed(command.prepared[variable])
            elif rest and rest[0].text.upper() in _STATEMENT_STARTERS:
                # Trino: PREPARE p FROM DELETE FROM t (the statement itself, unquoted)
                _dynamic_text(
                    statement,
                    _rest_after(command.chunk, command.source, "FROM"),
                    "PREPARE ... FROM",
                )
            else:
                _dynamic_text(statement, _single_literal(rest), "PREPARE ... FROM")
            command.prepared[name] = statement.embedded[before:]
            return True
        if upper == "AS":
            text = _rest_after(command.chunk, command.source, "AS")
            if not text:
                return False
            before = len(statement.embedded)
            _dynamic_text(statement, text, "PREPARE ... AS")
            command.prepared[name] = statement.embedded[before:]
            return True
    return False


def _user_variable(tokens: list[Token]) -> str | None:
    """`@name` at the start of `tokens` (MySQL user variable), as the key `@name`."""
    if len(tokens) >= 2 and tokens[0].text == "@":
        return "@" + tokens[1].text.lower()
    if tokens and tokens[0].text.startswith("@") and len(tokens[0].text) > 1:
        return tokens[0].text.lower()
    return None


_ASSIGNED_TEXT = re.compile(
    r"\s*SET\s+(@\w+)\s*:?=\s*'((?:[^'\\]|''|\\.)*)'\s*$", re.IGNORECASE | re.DOTALL
)


def _remember_variable(
    text: str, statement: _Statement, prepared: dict[str, list[StatementEffect]]
) -> None:
    """MySQL `SET @q = 'DROP TABLE t'`: remember what @q holds, for a later PREPARE ... FROM @q."""
    match = _ASSIGNED_TEXT.match(text)
    if match and statement.depth < MAX_DEPTH:
        literal = match.group(2).replace("''", "'")
        prepared[match.group(1).lower()] = analyze_sql(
            literal, statement.dialect_name, depth=statement.depth + 1
        )


def _rest_after(chunk: _Chunk, source: str, keyword: str) -> str:
    statement_text = source[chunk.start : chunk.end]
    match = re.search(rf"\b{keyword}\b", statement_text, flags=re.IGNORECASE)
    return statement_text[match.end() :].strip() if match else ""


def _special_do(statement: _Statement, command: _Command) -> bool:
    """A DO block is procedural code: always `dynamic`, plus whatever its statements show.

    MySQL's DO is something else: it evaluates expressions (`DO GET_LOCK('etl', 10)`).
    """
    if statement.dialect_name in MYSQL_FAMILY:
        found = _statement_words(command.chunk, command.source, statement.names.dialect)
        start = found.tokens[1].start if len(found.tokens) > 1 else -1
        if start >= 0:
            statement.operation = "DO"
            statement.embed(
                analyze_sql(
                    "SELECT " + found.text[start : found.end],
                    statement.dialect_name,
                    depth=statement.depth + 1,
                )
            )
            return True
    statement.operation = "DO"
    statement.add(I.DYNAMIC, "DO runs an anonymous procedural block")
    language = _word_after(command.words, "LANGUAGE")
    if language and language.lower() in _UNTRUSTED_LANGUAGES:
        statement.add(I.HOST_ACCESS, f"a {language.lower()} block runs code on the database host")
        return True
    body = next(
        (token.text for token in command.tokens[1:] if token.token_type in _QUOTED_TOKENS), None
    )
    if body is None:
        body = _rest_after(command.chunk, command.source, "DO")
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


def _block_fragments(body: str, dialect: Dialect) -> list[str]:
    """The steps of a procedural body, split at semicolons the way the database lexes them
    (a `;` inside a comment or a string is not a boundary). Comments are dropped."""
    try:
        tokens = _tokenizer_and_parser(dialect)[0].tokenize(body)
    except SqlglotError:
        return [body]  # what cannot be tokenised is analysed whole (and fails closed)
    return [body[chunk.start : chunk.end] for chunk in _split_statements(tokens, body)]


def _procedural_statements(body: str, statement: _Statement) -> list[StatementEffect]:
    """Best effort over a procedural body: strip block words, analyse the SQL left in each step.

    What does not parse inside a block counts as `dynamic` (the block already is), not as
    `unparseable`: the verdict is decided by what we can see plus the block's own opacity.
    """
    effects: list[StatementEffect] = []
    for fragment in _block_fragments(body, statement.names.dialect):
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


def _special_call(statement: _Statement, command: _Command) -> bool:
    statement.operation = "CALL"
    name = command.tokens[1].text if len(command.tokens) > 1 else "procedure"
    if len(command.tokens) > 3 and command.tokens[2].token_type is TokenType.DOT:
        name = f"{name}.{command.tokens[3].text}"  # package.procedure (Oracle) or schema.procedure
    statement.obj(K.FUNCTION, A.EXECUTE, name)
    if _KNOWN_SYSTEM_READS.match(name.lower()) or name.lower().startswith("pragma_"):
        statement.add(I.READ, f"CALL {name} returns catalog information")
        return True
    statement.add(I.DYNAMIC, f"CALL {name} runs a stored procedure whose body is not visible here")
    package = _PACKAGE_RULES.get(name.split(".")[0].lower())
    if package is not None:
        for intent in package.intents:
            statement.add(intent, f"{name}: {package.message}")
    return True


def _special_unload(statement: _Statement, command: _Command) -> bool:
    """Redshift UNLOAD ('query') TO 's3://...': an export; the query's reads are analysed."""
    statement.operation = "UNLOAD"
    strings = [token for token in command.tokens if token.token_type is TokenType.STRING]
    query = strings[0].text if strings else None
    destination = next(
        (
            command.tokens[i + 1].text
            for i, token in enumerate(command.tokens[:-1])
            if token.text.upper() == "TO" and command.tokens[i + 1].token_type is TokenType.STRING
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


def _special_get(statement: _Statement, command: _Command) -> bool:
    """Snowflake GET @stage file:///dir downloads staged data to the client machine."""
    statement.operation = "GET"
    text = command.source[command.chunk.start : command.chunk.end]
    stage = re.search(r"@[\w.%~/\"-]+", text)
    local = re.search(r"file://\S+", text)
    if stage:
        statement.obj(K.STAGE, A.READ, stage.group(0))
    statement.obj(K.FILE, A.EXPORT_TARGET, local.group(0) if local else "local file")
    statement.add(I.EXPORT, "GET downloads staged files to the client machine")
    return True


# Words that may follow EXPLAIN before the explained statement, across dialects.
_EXPLAIN_FLAGS = frozenset(
    {
        "ANALYZE",
        "ANALYSE",
        "VERBOSE",
        "EXTENDED",
        "FORMATTED",
        "COST",
        "CODEGEN",
        "QUERY",
        "PLAN",
        "FOR",
        "LOGICAL",
        "PIPELINE",
        "SYNTAX",
        "AST",
        "ESTIMATE",
        "INDEXES",
        "ACTIONS",
        "TYPE",
        "DISTRIBUTED",
        "IO",
        "VALIDATE",
        "USING",
        "TEXT",
        "JSON",
        "TABULAR",
        "GRAPHVIZ",
    }
)


def _special_explain(statement: _Statement, command: _Command) -> bool:
    """EXPLAIN plans a statement without running it; EXPLAIN ANALYZE runs it for real.

    Options are read from command.tokens, so comments between them (`EXPLAIN /* x */ ANALYZE`) are
    gone exactly as the database drops them.
    """
    statement.operation = "EXPLAIN"
    found = _statement_words(command.chunk, command.source, statement.names.dialect)
    rest = found.tokens[1:]
    options: list[str] = []
    position = 0
    if rest and rest[0].token_type is TokenType.L_PAREN:
        close = _matching_paren(rest, 0)
        if close is None:
            return False
        options = [token.text.upper() for token in rest[1:close]]
        position = close + 1
    while position < len(rest) and rest[position].text.upper() in _EXPLAIN_FLAGS:
        options.append(rest[position].text.upper())
        position += 1
    if position >= len(rest) or rest[position].start < 0:
        statement.add(I.READ, "EXPLAIN reads a plan")
        return True
    body = found.text[rest[position].start : found.end]
    runs = any(
        word in ("ANALYZE", "ANALYSE")
        and (index + 1 >= len(options) or options[index + 1] not in ("FALSE", "OFF", "0"))
        for index, word in enumerate(options)
    )
    inner = analyze_sql(
        body,
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


def _special_copy(statement: _Statement, command: _Command) -> bool:
    """COPY forms sqlglot cannot parse: direction and PROGRAM read from the keywords."""
    statement.operation = "COPY"
    upper = [token.text.upper() for token in command.tokens]
    program = _copy_program(command.chunk)
    if "TO" in upper:
        statement.add(I.EXPORT, "COPY ... TO writes data outside the database")
    elif "FROM" in upper or "INTO" in upper:
        statement.add(I.WRITE, "COPY ... FROM loads rows")
    if program is not None:
        statement.add(I.HOST_ACCESS, f"COPY ... PROGRAM runs {program!r} on the server")
        _embed_shell(statement, program)
    statement.add(I.UNPARSEABLE, "COPY statement only partly understood")
    return True


def _special_replace(statement: _Statement, command: _Command) -> bool:
    """MySQL REPLACE INTO is an upsert: read it as the INSERT it resembles."""
    if len(command.words) < 2 or command.words[1] not in ("INTO", "LOW_PRIORITY", "DELAYED"):
        return False
    text = command.source[command.chunk.start : command.chunk.end]
    as_insert = re.sub(r"^\s*REPLACE", "INSERT", text, count=1, flags=re.IGNORECASE)
    try:
        tree = sqlglot.parse_one(as_insert, dialect=statement.names.dialect)
    except SqlglotError:
        return False
    _walk(statement, tree, None)
    statement.operation = "REPLACE"
    statement.add(I.WRITE, "REPLACE INTO writes rows, deleting rows with the same key first")
    return True


def _special_vacuum(statement: _Statement, command: _Command) -> bool:
    """SQLite VACUUM INTO 'file' copies the whole database to a new file."""
    statement.operation = "VACUUM"
    if "INTO" not in command.words:
        return False
    target = next(
        (token.text for token in command.tokens if token.token_type is TokenType.STRING), None
    )
    statement.obj(K.FILE, A.EXPORT_TARGET, target or "file")
    statement.add(I.EXPORT, f"VACUUM INTO copies the whole database to {target or 'a file'}")
    return True


def _special_load(statement: _Statement, command: _Command) -> bool:
    """LOAD DATA [LOCAL] INFILE 'f' INTO TABLE t (MySQL) is a load; other LOADs load code."""
    if len(command.words) < 2 or command.words[1] not in ("DATA", "XML"):
        return False
    statement.operation = "LOAD DATA"
    upper = [token.text.upper() for token in command.tokens]
    if "TABLE" in upper:
        position = upper.index("TABLE") + 1
        if position < len(command.tokens):
            parts = [command.tokens[position].text]
            if (
                position + 2 < len(command.tokens)
                and command.tokens[position + 1].token_type is TokenType.DOT
            ):
                parts.append(command.tokens[position + 2].text)
            names = [_normalise(statement.names.dialect, part, quoted=False) for part in parts]
            statement.obj(
                K.TABLE,
                A.WRITE,
                names[-1],
                schema=names[0] if len(names) > 1 else statement.names.default_schema,
            )
    infile = next(
        (token.text for token in command.tokens if token.token_type is TokenType.STRING), None
    )
    if infile:
        statement.obj(K.FILE, A.READ, infile)
    statement.add(I.WRITE, "LOAD DATA loads rows from a file")
    return True


def _erased_columns(statement: _Statement, words: list[str], tokens: list[Token]) -> None:
    if len(words) < 4 or words[1] != "TABLE":
        return
    names = [
        token.text for token in tokens if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER)
    ]
    upper = [name.upper() for name in names]
    table = names[0] if names else None
    for marker in (("CLEAR", "COLUMN"), ("UNUSED", "COLUMN"), ("UNUSED",)):
        for index in range(len(words) - len(marker)):
            if tuple(words[index : index + len(marker)]) != marker:
                continue
            after = words[index + len(marker) :]
            column = next((word for word in after if word not in ("(", "IF", "EXISTS")), None)
            if column and table and column.upper() in upper:
                original = names[upper.index(column.upper())]
                statement.obj(
                    K.COLUMN,
                    A.DROP,
                    _normalise(statement.names.dialect, table, quoted=False),
                    schema=statement.names.default_schema,
                    column=_normalise(statement.names.dialect, original, quoted=False),
                )
                statement.add(I.DELETE, f"{' '.join(marker)} erases the column's data")
                return


def _special_alter(statement: _Statement, command: _Command) -> bool:
    """ClickHouse `ALTER TABLE t UPDATE x = 1 WHERE ...` is an UPDATE: read it as one.

    Also the column erasers sqlglot leaves generic (ClickHouse CLEAR COLUMN, Oracle SET UNUSED):
    the column's data is gone, as with DROP COLUMN.
    """
    _erased_columns(statement, command.words, command.tokens)
    text = command.source[command.chunk.start : command.chunk.end]
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


def _special_create(statement: _Statement, command: _Command) -> bool:
    """CREATE statements sqlglot keeps generic: stored code is analysed for what it will do
    when it runs, and objects that reach other servers or the host are flagged. Returns False
    so the keyword rules still name the statement and its object."""
    found = _statement_words(command.chunk, command.source, statement.names.dialect)
    significant = [word for word in command.words[1:6] if word not in _NOISE_WORDS]
    kind = " ".join(significant[:2])
    first = significant[0] if significant else ""
    if first in ("RULE", "TRIGGER", "EVENT", "TASK", "FUNCTION", "PROCEDURE"):
        language = _word_after(command.words, "LANGUAGE")
        if (language and language.lower() in _UNTRUSTED_LANGUAGES) or "SONAME" in command.words:
            statement.add(
                I.HOST_ACCESS, f"a {language or 'native'} routine runs code on the database host"
            )
        else:
            body = _stored_body(found, first)
            if body:
                _deferred_body(statement, body, f"the {first.lower()}")
    if kind in ("FOREIGN TABLE",) and ({"PROGRAM", "FILENAME"} & set(command.words)):
        statement.add(I.HOST_ACCESS, "a foreign table that reads a server file or runs a program")
    if kind in ("DATABASE LINK", "SUBSCRIPTION", "SERVER") or first == "SUBSCRIPTION":
        statement.add(I.HOST_ACCESS, f"CREATE {kind} connects this database to another server")
    return False


# Where stored code starts, per kind of object that stores it.
_BODY_MARKERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "RULE": (("DO", "ALSO"), ("DO", "INSTEAD"), ("DO",)),
    "TRIGGER": (("FOR", "EACH", "ROW"), ("FOR", "EACH", "STATEMENT"), ("BEGIN",)),
    "EVENT": (("DO",),),
    "TASK": (("AS",),),
    "FUNCTION": (("BEGIN", "ATOMIC"), ("RETURN",), ("AS",)),
    "PROCEDURE": (("BEGIN", "ATOMIC"), ("AS",), ("BEGIN",)),
}


def _stored_body(found: _Words, kind: str) -> str | None:
    """The text of the statements a trigger, rule, event or task will run."""
    tokens = found.tokens
    upper = [token.text.upper() for token in tokens]
    for marker in _BODY_MARKERS.get(kind, ()):
        width = len(marker)
        for index in range(1, len(tokens) - width):
            if tuple(upper[index : index + width]) != marker:
                continue
            start_token = tokens[index + width]
            if start_token.token_type in _QUOTED_TOKENS and start_token.start >= 0:
                return start_token.text  # AS $$ ... $$ / AS 'body'
            if start_token.start >= 0:
                return found.text[start_token.start : found.end]
    return None


def _word_after(words: list[str], keyword: str) -> str | None:
    if keyword in words:
        position = words.index(keyword) + 1
        return words[position] if position < len(words) else None
    return None


_SPECIAL_COMMANDS: dict[str, SpecialCommand] = {
    "CREATE": _special_create,
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
    if upper[0] in ("EXECUTE", "EXEC") and len(upper) > 1 and upper[1] == "AS":
        statement.operation = "EXECUTE AS"
        statement.add(I.PRIVILEGE, "EXECUTE AS switches to another login or user")
        return True
    special = _SPECIAL_COMMANDS.get(upper[0])
    if special is not None and upper[0] in ("LOAD", "REPLACE", "EXPLAIN", "EXECUTE", "EXEC", "DO"):
        words, tokens = _command_words(chunk, source, statement.names.dialect)
        return special(statement, _Command(words, tokens, chunk, source, prepared))
    rewritten = _rewrite_for_parser(source[chunk.start : chunk.end], statement.dialect_name)
    if rewritten is not None:
        try:
            tree = sqlglot.parse_one(rewritten, dialect=statement.names.dialect)
        except SqlglotError:
            return False
        statement.operation = _operation_name(tree)
        if isinstance(tree, exp.Query):
            statement.add(I.READ, "query")
        _walk(statement, tree, None)
        return True
    return False


# Clauses sqlglot rejects that do not change what a statement touches: removed (or made
# neutral) before a second parse. Each is (pattern, replacement, dialects or None for all).
_NEUTRAL_CLAUSES: tuple[tuple[re.Pattern[str], str, frozenset[str] | None], ...] = (
    # T-SQL table hints: INSERT INTO t WITH (TABLOCK), UPDATE t WITH (ROWLOCK)
    (
        re.compile(
            r"\bWITH\s*\(\s*(?:NOLOCK|TABLOCKX?|ROWLOCK|PAGLOCK|UPDLOCK|HOLDLOCK|READPAST|"
            r"XLOCK|NOWAIT|SERIALIZABLE|READCOMMITTED|REPEATABLEREAD)(?:\s*,\s*\w+)*\s*\)",
            re.IGNORECASE,
        ),
        " ",
        frozenset({"tsql", "fabric"}),
    ),
    # T-SQL OUTPUT clause (without INTO): it returns rows, it does not change what is touched
    (
        re.compile(
            r"\bOUTPUT\s+(?:(?:inserted|deleted)\.(?:\*|\w+)\s*,?\s*)+(?=\b(?:WHERE|"
            r"FROM|VALUES|SELECT|DEFAULT)\b|$)",
            re.IGNORECASE,
        ),
        " ",
        frozenset({"tsql", "fabric"}),
    ),
    # Cursor positioning bounds the statement to one row, like a key predicate would
    (re.compile(r"\bWHERE\s+CURRENT\s+OF\s+\w+", re.IGNORECASE), "WHERE __current_row__ = 1", None),
    # MySQL: SELECT ... INTO @variable assigns variables
    (re.compile(r"\bINTO\s+@\w+(?:\s*,\s*@\w+)*", re.IGNORECASE), " ", frozenset(MYSQL_FAMILY)),
)


def _rewrite_for_parser(text: str, dialect: str | None) -> str | None:
    rewritten = text
    for pattern, replacement, dialects in _NEUTRAL_CLAUSES:
        if dialects is None or dialect in dialects:
            rewritten = pattern.sub(replacement, rewritten)
    return rewritten if rewritten != text else None


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
