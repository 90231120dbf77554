"""MySQL's `CREATE [OR REPLACE] DEFINER = account EVENT|TRIGGER|PROCEDURE|FUNCTION|VIEW ...`:
the clause names the account whose rights the stored code runs with, and is read past so the
kind of object and its body are judged as they are without it.

The clause is not `privilege`: the server refuses an account other than the session's own
unless the session already holds SET_USER_ID (SUPER), so it grants nothing the session lacks,
and the code it stores is judged in full (a trigger's or an event's body takes no caller input).
mysqldump writes it on every routine, trigger, event and view it restores."""

from __future__ import annotations

from sqlglot.tokenizer_core import Token, TokenType

# `CREATE OR REPLACE ALGORITHM = MERGE DEFINER = ...`: what may come before the clause.
_BEFORE_DEFINER = frozenset({"OR", "REPLACE", "ALGORITHM", "=", "UNDEFINED", "MERGE", "TEMPTABLE"})
_ACCOUNT_PART = frozenset({TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING})


def without_definer(tokens: list[Token]) -> list[Token]:
    """`tokens` without the DEFINER clause of a CREATE or ALTER (the same list when none)."""
    if not tokens or tokens[0].text.upper() not in ("CREATE", "ALTER"):
        return tokens
    start = 1
    while start < len(tokens) and tokens[start].text.upper() in _BEFORE_DEFINER:
        start += 1
    if start + 2 >= len(tokens) or tokens[start].text.upper() != "DEFINER":
        return tokens
    if tokens[start + 1].token_type is not TokenType.EQ:
        return tokens
    end = _account_end(tokens, start + 2)
    return tokens if end is None else [*tokens[:start], *tokens[end:]]


def _account_end(tokens: list[Token], first: int) -> int | None:
    """The index after `CURRENT_USER[()]` or `user[@host]` at `first`, None when neither is."""
    account = tokens[first]
    if account.token_type is TokenType.CURRENT_USER:
        parens = [token.token_type for token in tokens[first + 1 : first + 3]]
        return first + 3 if parens == [TokenType.L_PAREN, TokenType.R_PAREN] else first + 1
    if account.token_type not in _ACCOUNT_PART:
        return None
    host = tokens[first + 1 : first + 3]
    if (
        len(host) == 2
        and host[0].token_type is TokenType.PARAMETER
        and host[0].text == "@"
        and host[1].token_type in _ACCOUNT_PART
    ):
        return first + 3
    return first + 1
