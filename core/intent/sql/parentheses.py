"""Redundant parentheses in deeply nested statements, dropped before parsing.

`((x = 1))` means `(x = 1)`: the inner pair of two pairs that enclose exactly the same tokens
adds nothing. Generated SQL can nest thousands of such pairs, and sqlglot's parser pays ~20
calls per level; dropping them leaves the statement's meaning and every other token's position
unchanged. A pair holding a list (`((1, 2))`, a row in a one-row list) is kept: there the extra
pair is a level of structure, not grouping.
"""

from __future__ import annotations

from sqlglot.tokenizer_core import Token, TokenType

# Below this many opening parentheses a statement keeps its tokens as written (its parse is cheap,
# and the catalogues' exact trees are the ones every statement is analysed from).
DEEP_NESTING = 150


def without_redundant_parentheses(tokens: list[Token]) -> list[Token]:
    """`tokens` without the inner pair of `((...))` where both pairs close together."""
    left, right, comma = TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA
    closing = [-1] * len(tokens)
    holds_list = [False] * len(tokens)
    open_at: list[int] = []
    for index, token in enumerate(tokens):
        kind = token.token_type
        if kind is left:
            open_at.append(index)
        elif kind is right:
            if not open_at:
                return tokens  # unbalanced: the parser reports it as written
            closing[open_at.pop()] = index
        elif kind is comma and open_at:
            holds_list[open_at[-1]] = True
    if open_at:
        return tokens
    dropped: set[int] = set()
    for outer in range(len(tokens) - 1):
        inner = outer + 1
        end = closing[inner]
        if (
            end > inner + 1  # `(())` stays: an empty pair is not grouping
            and closing[outer] == end + 1
            and not holds_list[inner]
        ):
            dropped.add(inner)
            dropped.add(end)
    if not dropped:
        return tokens
    return [token for index, token in enumerate(tokens) if index not in dropped]


def many_parentheses(source: str, start: int, end: int) -> bool:
    """Whether source[start:end] may nest deeply (counted in place, at C speed)."""
    return source.count("(", start, end) > DEEP_NESTING
