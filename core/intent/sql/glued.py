"""T-SQL statements glued without semicolons: `SELECT 1 DELETE FROM t` is two statements.

sqlglot reads such a run as one statement that fails to parse, or folds it into an opaque
`Command` (a CREATE or ALTER swallows what follows). Coverage demands each statement be named:
the run is split before every top-level word that starts a statement, and the split is kept
when every piece parses on its own."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.statement import _STATEMENT_STARTERS, _Chunk, _chunk

GLUED_DIALECTS = frozenset({"tsql", "fabric"})

# Words that begin a statement of their own in a T-SQL batch.
_STATEMENT_STARTS = _STATEMENT_STARTERS | {"USE"}
# A statement word after one of these belongs to the statement already under way
# (`UNION SELECT`, `THEN DELETE`, `ON DELETE CASCADE`, `GRANT SELECT, DELETE`, `AS SELECT`,
# `INSTEAD OF DELETE`, `FOR UPDATE`). A piece that does not parse alone is joined to the next
# (`INSERT INTO t (a)` + `SELECT ...`, a CTE + its statement).
_CONTINUES = frozenset(
    {
        "UNION",
        "ALL",
        "EXCEPT",
        "INTERSECT",
        "AS",
        "THEN",
        "ON",
        "OF",
        "FOR",
        "AFTER",
        "GRANT",
        "REVOKE",
        "DENY",
        ",",
        ".",
        "(",
        "NOT",
        "ELSE",
        "BEGIN",
        "WITH",
        "TO",
        "DISTINCT",
        "BULK",
    }
)
# A statement word followed by one of these is a clause of the ALTER TABLE under way
# (`ALTER TABLE t ALTER COLUMN c ADD MASKED ...`, `... DROP COLUMN c`, `... DROP MASKED`),
# never a statement.
_CLAUSE_OBJECTS = frozenset({"COLUMN", "MASKED"})
# Runs that start with these keep their statements together: a routine's body is the rest of
# the batch, and control flow is read by the procedural analysis.
_WHOLE_RUN = frozenset({"BEGIN", "IF", "WHILE", "ELSE", "TRY", "CATCH", "GO"})
# Words that start a statement only after another such statement (`SET NOCOUNT ON` then
# `SET TRANSACTION ...` then `DECLARE @d ...`): elsewhere SET is a clause (UPDATE t SET,
# ALTER DATABASE ... SET) and DECLARE follows no statement word.
_SESSION_STARTS = frozenset({"SET", "DECLARE"})
_INSERT_SOURCES = frozenset({"SELECT", "VALUES", "EXEC", "EXECUTE", "DEFAULT", "OUTPUT"})
_ROUTINES = frozenset({"PROC", "PROCEDURE", "FUNCTION", "TRIGGER"})


def glued_statements(chunk: _Chunk, source: str, parser: Any, dialect: str | None) -> list[_Chunk]:
    """The chunk's statements: itself, or its pieces when it is statements glued together."""
    if dialect not in GLUED_DIALECTS:
        return [chunk]
    cuts = _cuts(chunk.tokens)
    # sqlglot reads `SET NOCOUNT ON SET ...` or `SET ... DECLARE @d ...` as one SET: split anyway
    session = any(chunk.tokens[cut].text.upper() in _SESSION_STARTS for cut in cuts)
    if not cuts or (not session and _parses_whole(parser, chunk, source)):
        return [chunk]
    pieces = _statements(
        parser, [chunk.tokens[a:b] for a, b in zip([0, *cuts], [*cuts, None], strict=True)], source
    )
    if len(pieces) < 2:
        return [chunk]
    boundaries = [piece[0].start for piece in pieces[1:]]
    return [
        _chunk(piece, source, boundary)
        for piece, boundary in zip(pieces, [*boundaries, chunk.end], strict=True)
    ]


def _statements(parser: Any, pieces: list[list[Token]], source: str) -> list[list[Token]]:
    """Pieces joined to the next one until they parse (`INSERT INTO t` + `SELECT ...`)."""
    statements: list[list[Token]] = []
    current = pieces[0]
    for piece in pieces[1:]:
        # a SET that sqlglot cannot read (`SET TRANSACTION ISOLATION LEVEL ...`) is still one
        # statement, judged by the settings rules; it never needs the words after it
        if current[0].text.upper() == "SET" or _parses(parser, current, source):
            statements.append(current)
            current = piece
        else:
            current = [*current, *piece]
    statements.append(current)
    return statements


def _cuts(tokens: list[Token]) -> list[int]:
    if not tokens:
        return []
    first = tokens[0].text.upper()
    if first in _WHOLE_RUN or _creates_routine(tokens):
        return []
    cuts: list[int] = []
    depth = 0
    inserting = first == "INSERT"  # INSERT INTO t [(cols)] SELECT|EXEC ...: one statement
    common = first == "WITH"  # WITH c AS (...) SELECT|DELETE ...: the CTEs' own statement
    current = first  # the first word of the statement under way
    for index, token in enumerate(tokens):
        word = (token.text.upper().split() or [""])[0]  # `UPDATE STATISTICS` is one token
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif depth or index == 0 or token.token_type is TokenType.STRING:
            continue
        elif inserting and word in _INSERT_SOURCES:
            inserting = False
        elif common and word in _STATEMENT_STARTS and tokens[index - 1].text == ")":
            common = False
            inserting = word == "INSERT"
        elif (
            (word in _STATEMENT_STARTS or (word in _SESSION_STARTS and current in _SESSION_STARTS))
            and (
                tokens[index - 1].text.upper() not in _CONTINUES
                or (current == "SET" and tokens[index - 1].text.upper() == "ON")  # SET NOCOUNT ON
            )
            and not (index + 1 < len(tokens) and tokens[index + 1].text.upper() in _CLAUSE_OBJECTS)
        ):
            cuts.append(index)
            inserting = word == "INSERT"
            current = word
    return cuts


def _creates_routine(tokens: list[Token]) -> bool:
    words = [token.text.upper() for token in tokens[:4]]
    return bool(words) and words[0] in ("CREATE", "ALTER") and bool(_ROUTINES.intersection(words))


def _parses_whole(parser: Any, chunk: _Chunk, source: str) -> bool:
    try:
        trees = parser.parse(chunk.tokens, source)
    except SqlglotError:
        return False
    return not any(isinstance(tree, exp.Command) or _names_reserved(tree) for tree in trees)


# T-SQL reserved words that begin a statement: never a bare name (only `[DELETE]` is), so where
# sqlglot reads one as an alias (`SELECT 1 DELETE FROM t`), T-SQL starts the next statement.
_RESERVED_STARTS = frozenset(
    {
        "ALTER",
        "BACKUP",
        "BULK",
        "CREATE",
        "DBCC",
        "DELETE",
        "DENY",
        "DROP",
        "EXEC",
        "EXECUTE",
        "GRANT",
        "INSERT",
        "KILL",
        "LOAD",
        "MERGE",
        "OPEN",
        "RECONFIGURE",
        "RESTORE",
        "REVOKE",
        "SELECT",
        "SHUTDOWN",
        "TRUNCATE",
        "UPDATE",
        "USE",
    }
)


def _names_reserved(tree: exp.Expr) -> bool:
    return any(
        isinstance(name := alias.args.get("alias"), exp.Identifier)
        and not name.args.get("quoted")
        and name.name.upper() in _RESERVED_STARTS
        for alias in tree.find_all(exp.Alias)
    )


def _parses(parser: Any, tokens: list[Token], source: str) -> bool:
    try:
        parser.parse(tokens, source)
    except SqlglotError:
        return False
    return True
