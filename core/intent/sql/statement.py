"""One statement being classified: look-alike characters, and the accumulation of intents and
objects."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.node_index import NodeIndexes
from guardrails_core.intent.sql.definers import without_definer
from guardrails_core.intent.sql.dialects import (
    _QUOTED_TOKENS,
    A,
    I,
    K,
    _tokenizer_and_parser,
    metadata_table_of,
    remote_table,
)
from guardrails_core.intent.sql.host_files import climbs_out
from guardrails_core.intent.sql.host_files import host_file as _host_file
from guardrails_core.intent.sql.trees import keep_tree
from guardrails_core.model import (
    CommandKind,
    Finding,
    Intent,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    StatementEffect,
    sorted_intents,
    trusted,
)

if TYPE_CHECKING:
    from guardrails_core.intent.sql.temporaries import ScratchRows


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
    """Per-dialect identifier normalisation, the caller's default schema/catalog, and the
    constants of the script variables in scope where the text runs (a statement of a block)."""

    dialect: Dialect
    default_schema: str | None = None
    default_catalog: str | None = None
    variables: Mapping[str, exp.Expr] = field(default_factory=dict)

    def parser(self) -> Any:
        return _tokenizer_and_parser(self.dialect)[1]

    def tokenize(self, text: str) -> list[Token]:
        tokens: list[Token] = _tokenizer_and_parser(self.dialect)[0].tokenize(text)
        return tokens

    def identifier(self, node: exp.Expr | str | None) -> str | None:
        if node is None or isinstance(node, str):
            return node or None  # T-SQL `db..table`: sqlglot keeps the empty schema as ''
        if isinstance(node, exp.Identifier):
            return _normalise(self.dialect, node.this, quoted=bool(node.args.get("quoted")))
        if isinstance(node, exp.Literal | exp.Var):
            return str(node.this)
        name = node.name
        return name or None


def _normalise(dialect: Dialect, text: str, *, quoted: bool) -> str:
    # Every name of every statement passes here: the folding is looked up, not worked out
    # (sqlglot keeps a dialect's strategy as a NormalizationStrategy member: all are listed).
    fold = _FOLDS[dialect.normalization_strategy, quoted]
    return text if fold is None else fold(text)


def _folding(strategy: NormalizationStrategy, quoted: bool) -> Callable[[str], str] | None:
    """How a name is folded under `strategy`: upper-cased, lower-cased or kept (None)."""
    if strategy is NormalizationStrategy.CASE_SENSITIVE:
        return None
    insensitive = strategy in (
        NormalizationStrategy.CASE_INSENSITIVE,
        NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE,
    )
    if quoted and not insensitive:
        return None
    if strategy in (
        NormalizationStrategy.UPPERCASE,
        NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE,
    ):
        return str.upper
    return str.lower


_FOLDS: dict[tuple[NormalizationStrategy, bool], Callable[[str], str] | None] = {
    (strategy, quoted): _folding(strategy, quoted)
    for strategy in NormalizationStrategy
    for quoted in (False, True)
}


# Findings and object references are immutable and recur across statements (the same tables,
# the same messages): one shared instance each saves building and validating them again.
# They are filed under tuples of strings, not of enum members: such tuples are dropped from the
# cyclic collector's lists, which would otherwise walk every entry on each collection.
_INTERNED_LIMIT = 50_000
_FINDINGS: dict[tuple[str, str], Finding] = {}
_ObjectKey = tuple[str, str, str]
_InternKey = tuple[str, str, str, str | None, str | None, str | None]
# One entry holds the reference with its key: two dicts filled one after the other let a
# second thread (dbt runs models on several) find the reference before its key was filed.
_OBJECTS: dict[_InternKey, tuple[ObjectRef, _ObjectKey]] = {}


def _finding(intent: Intent, message: str) -> Finding:
    key = (intent._value_, message)
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
) -> tuple[ObjectRef, _ObjectKey]:
    """The shared reference, and the key a statement files it under (computed once with it)."""
    key = (kind._value_, action._value_, name, schema, catalog, column)
    interned = _OBJECTS.get(key)
    if interned is None:
        if len(_OBJECTS) >= _INTERNED_LIMIT:
            _OBJECTS.clear()
        ref = ObjectRef(
            kind=kind, action=action, name=name, schema=schema, catalog=catalog, column=column
        )
        interned = _OBJECTS[key] = (ref, object_key(ref))
    return interned


def object_key(ref: ObjectRef) -> _ObjectKey:
    """How statements and analyses tell objects apart: kind, action and qualified name."""
    return (ref.kind.value, ref.action.value, ref.qualified)


class _Statement:
    """Mutable accumulator for one statement while its tree is walked."""

    __slots__ = (
        "claimed_tables",
        "constants",
        "cte_names",
        "depth",
        "dialect_name",
        "embedded",
        "findings",
        "indexes",
        "intents",
        "names",
        "objects",
        "operation",
        "routines",
        "scratch",
        "tables",
        "texts",
        "tree",
    )

    def __init__(self, names: _Names, dialect_name: str | None, depth: int) -> None:
        self.names = names
        self.dialect_name = dialect_name
        self.depth = depth
        self.operation = ""
        self.intents: set[Intent] = set()
        self.findings: list[Finding] = []
        self.objects: dict[_ObjectKey, ObjectRef] = {}
        self.embedded: list[StatementEffect] = []
        # The tree the statement was read from (None: it did not parse).
        self.tree: exp.Expr | None = None
        self.claimed_tables: set[int] = set()
        self.cte_names: set[str] = set()
        self.tables: list[exp.Table] = []
        # The nodes of the trees its checks walk, from one walk of each (node_index.py).
        self.indexes: NodeIndexes = {}
        # Text the script's variables hold so far (`SET @s = 'DROP ...'`), for dynamic SQL.
        self.texts: dict[str, str] = {}
        # Constants the script's variables hold so far (`SET @pat = '%'`), for its predicates.
        self.constants: dict[str, exp.Expr] = {}
        # Functions and procedures the script created (their bodies were analysed there).
        self.routines: set[str] = set()
        # What the script's own temporary tables hold so far (scratch_rows.py), by scratch_key.
        self.scratch: dict[str, ScratchRows] = {}

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
        ref, key = _object_ref(kind, action, name, schema, catalog, column)
        self.objects.setdefault(key, ref)
        held = _host_file(name) if kind is K.FILE else ""
        if held:
            self.add(I.HOST_ACCESS, f"{name} is a system, credential or server file, not data")
        elif kind is K.FILE and climbs_out(name):
            self.add(
                I.HOST_ACCESS,
                f"{name} steps into a folder and climbs back out past it: the file is outside "
                "the working folder it looks to be in",
            )
        if held == "credentials":
            self.add(I.PRIVILEGE, f"{name} holds credentials (keys, passwords, tokens)")
        if held == "trust" and action in _FILE_WRITES:
            self.add(I.PRIVILEGE, f"writes {name}, which decides who may log in or is trusted")
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
        remote = remote_table(node, name, self.dialect_name)
        if remote is not None:
            return self._remote(remote, action, name)
        name = metadata_table_of(node, self.dialect_name) or name  # its metadata is the table's
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
                self.objects.setdefault(object_key(ref), ref)

    def build(self, index: int, text: str, span: tuple[int, int]) -> StatementEffect:
        effect = trusted(
            StatementEffect,
            index=index,
            kind=CommandKind.SQL,
            dialect=self.dialect_name,
            text=text,
            span=span,
            # Handlers may name an Operation member: the field holds its plain string.
            operation=str(self.operation or "UNKNOWN"),
            intents=sorted_intents(self.intents),
            objects=tuple(self.objects.values()),
            findings=tuple(self.findings),
            embedded=tuple(self.embedded),
        )
        if self.tree is not None:
            keep_tree(effect, self.tree)
        return effect


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


@dataclass
class _Chunk:
    tokens: list[Token]
    start: int
    end: int
    problem: str = ""  # why the database would reject the statement, found before parsing


def _split_statements(tokens: list[Token], source: str) -> list[_Chunk]:
    """Statements are the token runs between top-level semicolons (the tokenizer has already
    swallowed semicolons inside strings, comments, dollar quotes and command bodies)."""
    semicolon = TokenType.SEMICOLON
    # Only a `;` in the text tokenises as SEMICOLON: without one, no token needs looking at.
    boundaries = (
        [index for index, token in enumerate(tokens) if token.token_type is semicolon]
        if ";" in source
        else []
    )
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


def _function_name(node: exp.Expr) -> str:
    """The function's name as the database resolves it: `"pg_read_file"` is pg_read_file."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql_name().lower() if isinstance(node, exp.Func) else ""


# Kinds written short: T-SQL's `CREATE PROC` is `CREATE PROCEDURE`.
_KIND_SPELLINGS = {"PROC": "PROCEDURE"}


def _kind(tree: exp.Expr) -> str:
    kind = str(tree.args.get("kind") or "TABLE").upper()
    return _KIND_SPELLINGS.get(kind, kind)


# what a statement does to a file it writes (a copy, an export, a new file)
_FILE_WRITES = frozenset((A.WRITE, A.EXPORT_TARGET, A.CREATE, A.REPLACE))

Handler = Callable[[_Statement, Any, "_Chunk | None"], None]


def _first_string_argument(function: exp.Expr | None) -> str | None:
    if function is None:
        return None
    for arg in function.iter_expressions():
        if isinstance(arg, exp.Literal) and arg.is_string:
            return str(arg.this)
    return None


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
    tokens = without_definer(tokens)
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


def analyze_nested(text: str, dialect: str | None, **options: Any) -> list[StatementEffect]:
    """analyze_sql for SQL found inside a statement (dynamic SQL, routine bodies, blocks)."""
    # The entry point builds on the handlers that call this: imported when first needed.
    from guardrails_core.intent.sql.analyze import analyze_sql

    return analyze_sql(text, dialect, **options)


def _rest_after(chunk: _Chunk, source: str, keyword: str) -> str:
    statement_text = source[chunk.start : chunk.end]
    match = re.search(rf"\b{keyword}\b", statement_text, flags=re.IGNORECASE)
    return statement_text[match.end() :].strip() if match else ""
