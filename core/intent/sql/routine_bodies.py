"""Trino SQL routines: `WITH FUNCTION f() RETURNS t BEGIN ...; ...; END SELECT f()` and
`CREATE FUNCTION ... BEGIN ...; END` are one statement whose body holds semicolons.

Statements are split at every top-level `;` (the tokenizer swallows those inside strings and
dollar quotes, not those of a BEGIN ... END body), so such a routine arrived in pieces. A WITH
FUNCTION piece is joined with the pieces after it until the whole parses; the parsed tree holds
the body's statements, and the tree walk analyses each of them like any other node. A CREATE
FUNCTION piece is joined up to the END that closes its BEGIN, and the body becomes one stored
text (as `AS $$...$$` would hold it): the routine is one CREATE, and its body is analysed as
the statements it will run when called (ddl._routine_body), control flow and all.
"""

from __future__ import annotations

from typing import Any

from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.glued import _parses
from guardrails_core.intent.sql.statement import _Chunk, _chunk

ROUTINE_DIALECTS = frozenset({"trino"})
_MOST_PIECES = 200  # a body longer than this many statements stays in pieces (unparseable)


def joined_routine_bodies(
    chunks: list[_Chunk], tokens: list[Token], source: str, parser: Any
) -> list[_Chunk]:
    """`chunks` with each routine that spans several of them joined into one."""
    if not any(_opens_routine_body(chunk.tokens) for chunk in chunks):
        return chunks
    position = {id(token): index for index, token in enumerate(tokens)}
    joined: list[_Chunk] = []
    index = 0
    while index < len(chunks):
        chunk = chunks[index]
        whole = _created_routine(chunks, index, tokens, position, source) or _whole_routine(
            chunks, index, tokens, position, source, parser
        )
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


def _created_routine(
    chunks: list[_Chunk], first: int, tokens: list[Token], position: dict[int, int], source: str
) -> tuple[_Chunk, int] | None:
    """`CREATE FUNCTION ... BEGIN ...; END` as one chunk whose body is one stored text, or None
    when `chunks[first]` opens no body or the body's END is not found."""
    opening = chunks[first].tokens
    words = [token.text.upper() for token in opening[:5]]
    if words[0] != "CREATE" or "FUNCTION" not in words or not _opens_routine_body(opening):
        return None
    begin = next(i for i, token in enumerate(opening) if token.token_type is TokenType.BEGIN)
    start = position[id(opening[begin])]
    depth = 0
    for index in range(start, min(len(tokens), start + _MOST_TOKENS)):
        depth += _nesting(tokens, index)
        if depth == 0:
            break
    else:
        return None
    last = next(
        (n for n in range(first, len(chunks)) if position[id(chunks[n].tokens[-1])] >= index), None
    )
    if last is None or position[id(chunks[last].tokens[-1])] != index:
        return None  # more follows the body's END in its statement: left to the parser
    end = tokens[index]
    body = Token(
        TokenType.HEREDOC_STRING,
        source[tokens[start].start : end.end + 1],
        tokens[start].line,
        tokens[start].col,
        tokens[start].start,
        end.end,
        [],
    )
    stored_as = Token(TokenType.ALIAS, "AS", body.line, body.col, body.start, body.start, [])
    header = tokens[position[id(opening[0])] : start]
    return _chunk([*header, stored_as, body], source, chunks[last].end), last + 1


# Words that close what they name (`END IF`, `END WHILE`): the opening word is not counted.
_CLOSES_NAMED = frozenset({"IF", "WHILE", "LOOP", "REPEAT", "FOR"})
_MOST_TOKENS = 200_000


def _nesting(tokens: list[Token], index: int) -> int:
    """How the token at `index` changes the BEGIN/CASE ... END depth of a routine body."""
    token = tokens[index]
    if token.token_type is TokenType.CASE:  # a CASE opens, unless it names what END closes
        return 0 if index and tokens[index - 1].token_type is TokenType.END else 1
    if token.token_type is TokenType.BEGIN:
        return 1
    if token.token_type is TokenType.END:
        following = tokens[index + 1].text.upper() if index + 1 < len(tokens) else ""
        return 0 if following in _CLOSES_NAMED else -1
    return 0


def _opens_routine_body(tokens: list[Token]) -> bool:
    words = [token.text.upper() for token in tokens[:3]]
    creates = words[:1] == ["CREATE"] or words[:2] == ["WITH", "FUNCTION"]
    return creates and any(token.token_type is TokenType.BEGIN for token in tokens)
