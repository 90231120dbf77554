"""Trino SQL routines: `WITH FUNCTION f() RETURNS t BEGIN ...; ...; END SELECT f()` and
`CREATE FUNCTION ... BEGIN ...; END` are one statement whose body holds semicolons.

Statements are split at every top-level `;` (the tokenizer swallows those inside strings and
dollar quotes, not those of a BEGIN ... END body), so such a routine arrived in pieces that did
not parse, and was denied as unparseable. A piece that opens a routine body is joined with the
pieces after it until the whole parses; the parsed tree holds the body's statements, and the
tree walk analyses each of them like any other node.
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
    if len(chunks) < 2 or not any(_opens_routine_body(chunk.tokens) for chunk in chunks):
        return chunks
    position = {id(token): index for index, token in enumerate(tokens)}
    joined: list[_Chunk] = []
    index = 0
    while index < len(chunks):
        chunk = chunks[index]
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


def _opens_routine_body(tokens: list[Token]) -> bool:
    words = [token.text.upper() for token in tokens[:3]]
    creates = words[:1] == ["CREATE"] or words[:2] == ["WITH", "FUNCTION"]
    return creates and any(token.token_type is TokenType.BEGIN for token in tokens)
