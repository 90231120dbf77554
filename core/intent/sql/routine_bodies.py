"""Routines whose body is a compound statement: `CREATE FUNCTION ... BEGIN ...; ...; END`
(Trino, MySQL, T-SQL), `CREATE PROCEDURE` (MySQL, T-SQL, BigQuery), `CREATE TRIGGER` and
`CREATE EVENT ... DO BEGIN` (MySQL), SQLite's `CREATE TRIGGER ... BEGIN ...; END`, and
Trino's `WITH FUNCTION f() RETURNS t BEGIN ...; END SELECT f()`: one statement each, whose
body holds semicolons.

Statements are split at every top-level `;` (the tokenizer swallows those inside strings and
dollar quotes, not those of a BEGIN ... END body), so such a routine arrived in pieces. A WITH
FUNCTION piece is joined with the pieces after it until the whole parses; the parsed tree holds
the body's statements, and the tree walk analyses each of them like any other node. A created
routine is joined up to the END that closes its BEGIN, and the body becomes one stored text (as
`AS $$...$$` would hold it): the routine is one CREATE, and its body is analysed as the
statements it will run when called (ddl._routine_body, procedural._special_create), control
flow and all. A BEGIN that no END closes is a statement the database rejects: unparseable.

T-SQL stores everything after a procedure's, function's or trigger's AS, up to the end of its
batch (a GO line, or the end of the text), as the routine's body, BEGIN ... END or not
(`CREATE PROCEDURE p AS SET NOCOUNT ON; DELETE FROM t; GO`): those statements run when the
routine is called, not now; the statements after GO run now.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Collection, Iterator, Sequence
from typing import Any, NamedTuple

from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.dialects import _QUOTED_TOKENS, MYSQL_FAMILY, _dialect
from guardrails_core.intent.sql.glued import _parses
from guardrails_core.intent.sql.statement import _Chunk, _chunk

# What each dialect creates with a compound (BEGIN ... END) body.
_ROUTINE_KINDS: dict[str, frozenset[str]] = {
    "trino": frozenset({"FUNCTION"}),
    "bigquery": frozenset({"PROCEDURE"}),
    "sqlite": frozenset({"TRIGGER"}),
    "tsql": frozenset({"FUNCTION", "PROCEDURE", "PROC", "TRIGGER"}),
    "fabric": frozenset({"FUNCTION", "PROCEDURE", "PROC", "TRIGGER"}),
    **{name: frozenset({"FUNCTION", "PROCEDURE", "TRIGGER", "EVENT"}) for name in MYSQL_FAMILY},
}
ROUTINE_DIALECTS = frozenset(_ROUTINE_KINDS)
# Dialects whose routine body runs from its AS to the end of the batch.
_BATCH_BODIES = frozenset({"tsql", "fabric"})
_MOST_PIECES = 200  # a body longer than this many statements stays in pieces (unparseable)
# Words that end the search for what a CREATE or ALTER defines before a routine kind was named.
_NOT_ROUTINES = frozenset({"TABLE", "VIEW", "INDEX", "SCHEMA", "DATABASE", "AS", "ON", "(", "USER"})
# Stored kinds whose header ends where the body starts (`FOR EACH ROW BEGIN`, `DO BEGIN`): the
# body is stored as it stands, with no `AS` before it.
_HEADED_KINDS = frozenset({"TRIGGER", "EVENT"})
UNCLOSED_BODY = (
    "the routine's BEGIN has no END that closes it: the database rejects the statement, and "
    "what follows cannot be told apart from its body"
)


def joined_routine_bodies(
    chunks: list[_Chunk],
    tokens: list[Token],
    source: str,
    parser: Any,
    dialect: str,
    batch_ends: Sequence[int] = (),
) -> list[_Chunk]:
    """`chunks` with each routine that spans several of them joined into one. `batch_ends`:
    where T-SQL batches end (the GO lines), in order."""
    kinds = _ROUTINE_KINDS[dialect]
    commands = _dialect(dialect).tokenizer_class.COMMANDS
    batched = dialect in _BATCH_BODIES
    if not any(
        _opens_routine_body(chunk.tokens) or (batched and _created_kind(chunk.tokens, kinds))
        for chunk in chunks
    ):
        return chunks
    position = {id(token): index for index, token in enumerate(tokens)}
    script = _Script(tokens, position, source, kinds, commands)
    joined: list[_Chunk] = []
    index = 0
    while index < len(chunks):
        chunk = chunks[index]
        whole = None
        if batched:
            last = _batch_last(chunks, index, batch_ends)
            whole = _batch_routine(chunks, index, last, script)
        if whole is None:
            whole = _created_routine(chunks, index, script)
        if whole is None and dialect == "trino":
            whole = _whole_routine(chunks, index, tokens, position, source, parser)
        if whole is None:
            joined.append(chunk)
            index += 1
            continue
        joined.append(whole[0])
        index = whole[1]
    return joined


def _whole_routine(
    chunks: list[_Chunk],
    first: int,
    tokens: list[Token],
    position: dict[int, int],
    source: str,
    parser: Any,
) -> tuple[_Chunk, int] | None:
    """(the joined chunk, the index after it), or None when `chunks[first]` is not the start of
    a routine whose body spans the chunks after it."""
    if not _opens_routine_body(chunks[first].tokens) or _parses(
        parser, chunks[first].tokens, source
    ):
        return None
    start = position[id(chunks[first].tokens[0])]
    for last in range(first + 1, min(len(chunks), first + _MOST_PIECES)):
        end = position[id(chunks[last].tokens[-1])] + 1
        candidate = _chunk(tokens[start:end], source, chunks[last].end)
        if _parses(parser, candidate.tokens, source):
            return candidate, last + 1
    return None


class _Script(NamedTuple):
    """The text being split: its tokens, each token's index among them, the dialect's routine
    kinds and the command words whose rest the tokenizer folds into one string."""

    tokens: list[Token]
    position: dict[int, int]
    source: str
    kinds: frozenset[str]
    commands: Collection[TokenType]


def _created_routine(
    chunks: list[_Chunk], first: int, script: _Script
) -> tuple[_Chunk, int] | None:
    """`CREATE PROCEDURE ... BEGIN ...; END` as one chunk whose body is one stored text (or, when
    no END closes the body, one chunk of everything after it, unparseable), or None when
    `chunks[first]` creates no routine with a compound body."""
    tokens, position, source, kinds, commands = script
    opening = chunks[first].tokens
    kind = _created_kind(opening, kinds)
    begin = _block_start(opening) if kind else None
    if begin is None:
        return None
    labelled = begin >= 2 and opening[begin - 1].token_type is TokenType.COLON
    start = position[id(opening[begin - 2 if labelled else begin])]
    words = _words(tokens, position[id(opening[begin])], commands)
    closing = _closing(words, opening[begin - 2].text.upper() if labelled else None)
    if closing is None:
        whole = _chunk(tokens[position[id(opening[0])] :], source, chunks[-1].end)
        whole.problem = UNCLOSED_BODY
        return whole, len(chunks)
    last = next(
        n for n in range(first, len(chunks)) if position[id(chunks[n].tokens[-1])] >= closing
    )
    if position[id(chunks[last].tokens[-1])] != closing:
        return None  # more follows the body's END in its statement: left to the parser
    body = _stored_text(source, tokens[start], tokens[closing].end + 1)
    header = [
        token
        for index, token in enumerate(tokens[position[id(opening[0])] : start])
        if not _parameter_mode(tokens, position[id(opening[0])] + index)
    ]
    if kind not in _HEADED_KINDS and header[-1].token_type is not TokenType.ALIAS:
        header.append(Token(TokenType.ALIAS, "AS", body.line, body.col, body.start, body.start, []))
    return _chunk([*header, body], source, chunks[last].end), last + 1


def _batch_routine(
    chunks: list[_Chunk], first: int, last: int, script: _Script
) -> tuple[_Chunk, int] | None:
    """T-SQL `CREATE PROCEDURE ... AS` whose body runs to `chunks[last]`, the end of its batch,
    as one chunk whose body is one stored text; None when `chunks[first]` creates no routine,
    or is an inline function alone in its batch (`RETURNS TABLE AS RETURN (SELECT ...)`, a query
    the parser reads)."""
    tokens, position, source, kinds, commands = script
    opening = chunks[first].tokens
    kind = _created_kind(opening, kinds)
    body_as = _body_as(opening) if kind else None
    if body_as is None or body_as + 1 >= len(opening):
        return None
    begins = opening[body_as + 1].text.upper() == "BEGIN"
    if last == first and kind == "FUNCTION" and not begins:
        return None
    start = position[id(opening[body_as + 1])]
    end = position[id(chunks[last].tokens[-1])]
    depth = sum(
        change
        for _index, _word, change in _depth_changes(_words(tokens[: end + 1], start, commands))
    )
    if depth > 0:
        whole = _chunk(opening, source, chunks[last].end)
        whole.tokens = tokens[position[id(opening[0])] : end + 1]
        whole.problem = UNCLOSED_BODY
        return whole, last + 1
    body = _stored_text(source, tokens[start], chunks[last].end)
    return _chunk([*opening[: body_as + 1], body], source, chunks[last].end), last + 1


def _stored_text(source: str, first: Token, end: int) -> Token:
    """The body's text, from `first` to `end`, as one stored string (as `AS $$...$$` holds it)."""
    return Token(
        TokenType.HEREDOC_STRING,
        source[first.start : end],
        first.line,
        first.col,
        first.start,
        end - 1,
        [],
    )


def _body_as(tokens: list[Token]) -> int | None:
    """The index of the AS after which a T-SQL routine's body starts: not `EXECUTE AS`, nor a
    parameter's `@id AS INT`, nor inside parentheses."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth or token.token_type is not TokenType.ALIAS or index < 2:
            continue
        previous = tokens[index - 1]
        if previous.text.upper() in ("EXECUTE", "EXEC"):
            continue
        if tokens[index - 2].token_type is TokenType.PARAMETER:
            continue
        return index
    return None


def _batch_last(chunks: list[_Chunk], first: int, batch_ends: Sequence[int]) -> int:
    """The index of the last chunk in the batch of `chunks[first]`."""
    last = first
    while last + 1 < len(chunks):
        following = bisect_left(batch_ends, chunks[last].end)
        if following < len(batch_ends) and batch_ends[following] < chunks[last + 1].start:
            break
        last += 1
    return last


def _parameter_mode(tokens: list[Token], index: int) -> bool:
    """`IN`, `OUT` or `INOUT` before a parameter's name (MySQL, BigQuery), which sqlglot does
    not read: how the caller passes a value, not what the body does with data."""
    return (
        tokens[index].text.upper() in ("IN", "OUT", "INOUT")
        and tokens[index - 1].token_type in (TokenType.L_PAREN, TokenType.COMMA)
        and tokens[index + 1].token_type in (TokenType.VAR, TokenType.IDENTIFIER)
    )


def _created_kind(tokens: list[Token], kinds: frozenset[str]) -> str | None:
    """What `CREATE [OR REPLACE] [DEFINER = u] KIND ...` (or ALTER) defines, when it is one of
    `kinds`."""
    if tokens[0].text.upper() not in ("CREATE", "ALTER"):
        return None
    for token in tokens[1:12]:
        word = token.text.upper()
        if word in kinds and token.token_type not in _QUOTED_TOKENS:
            return word
        if word in _NOT_ROUTINES:
            return None
    return None


def _block_start(tokens: list[Token]) -> int | None:
    """The index of the BEGIN that opens a compound body among `tokens`."""
    return next(
        (
            index
            for index, word, change in _depth_changes(_words(tokens, 0, ()))
            if change > 0 and word == "BEGIN"
        ),
        None,
    )


# A word of SQL text, skipping quoted text and comments (a folded command body is raw text).
_WORD = re.compile(
    r"'(?:[^']|'')*'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|([A-Za-z_#@][\w$#@]*|;)",
    flags=re.DOTALL,
)


def _words(
    tokens: list[Token], start: int, commands: Collection[TokenType]
) -> Iterator[tuple[int, str]]:
    """(token index, upper-case word) from `start` on. The tokenizer folds the rest of a statement
    after a command word into one string token (T-SQL `END TRY BEGIN CATCH ...` after a `;`):
    the words inside it count, at that token's index. Other quoted tokens are an empty word."""
    for index in range(start, len(tokens)):
        token = tokens[index]
        folded = (
            token.token_type is TokenType.STRING
            and index > 0
            and tokens[index - 1].token_type in commands
        )
        if folded:
            for match in _WORD.finditer(token.text):
                if match.group(1):
                    yield index, match.group(1).upper()
        else:
            yield index, "" if token.token_type in _QUOTED_TOKENS else token.text.upper()


def _closing(words: Iterator[tuple[int, str]], label: str | None) -> int | None:
    """The token index of the END that closes the body opened by the first word (or of the
    label repeated after it), or None when none does."""
    depth = 0
    changes = _depth_changes(words)
    for index, _word, change in changes:
        depth += change
        if depth == 0:
            following = next(changes, None)
            if label and following is not None and following[1] == label:
                return following[0]  # `label: BEGIN ... END label`
            return index
    return None


# Words that close what they name (`END IF`, `END WHILE`): the opening word is not counted.
_CLOSES_NAMED = frozenset({"IF", "WHILE", "LOOP", "REPEAT", "FOR"})
# `BEGIN TRANSACTION` (T-SQL, BigQuery), `BEGIN DIALOG` (T-SQL), MySQL's `BEGIN;` open no block.
_BEGINS_NO_BLOCK = frozenset(
    {"TRAN", "TRANSACTION", "DISTRIBUTED", "WORK", "DIALOG", "CONVERSATION", ";", ""}
)


def _depth_changes(words: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str, int]]:
    """(token index, word, how it changes the BEGIN/CASE ... END depth of a routine body)."""
    previous = ""
    current = next(words, None)
    while current is not None:
        following = next(words, None)
        word, after = current[1], following[1] if following is not None else ""
        change = 0
        if word == "CASE":  # a CASE opens, unless it names what END closes
            change = 0 if previous == "END" else 1
        elif word == "BEGIN":
            change = 0 if after in _BEGINS_NO_BLOCK else 1
        elif word == "END":
            change = 0 if after in _CLOSES_NAMED else -1
        yield current[0], word, change
        previous, current = word, following


def _opens_routine_body(tokens: list[Token]) -> bool:
    words = [token.text.upper() for token in tokens[:3]]
    creates = words[:1] in (["CREATE"], ["ALTER"]) or words[:2] == ["WITH", "FUNCTION"]
    return creates and _block_start(tokens) is not None
