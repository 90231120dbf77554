"""Effects a statement's words name (rules/sql_effects.yaml): a table of patterns matched on the
statement's tokens outside strings and comments, each found only when one of its words is in the
statement (a trigger search first, then one look per word)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from sqlglot.tokenizer_core import TokenType

from guardrails_core.intent.sql.statement import _Chunk, _Statement
from guardrails_core.model import Intent
from guardrails_core.yaml_data import load_yaml

_EFFECTS_FILE = Path(__file__).parent.parent / "rules" / "sql_effects.yaml"


class _EffectRow(NamedTuple):
    pattern: re.Pattern[str]
    intents: tuple[Intent, ...]
    message: str
    strings: bool  # matched against the text with its string literals
    words: tuple[str, ...]  # one of them is in every statement the pattern can match
    spared_on_new_tables: bool = False  # harmless on a table the script created (new_tables.py)
    except_dialects: frozenset[str] = frozenset()  # where the words do not have the effect


def _effect_row(row: dict[str, Any], position: int) -> _EffectRow:
    where = f"{_EFFECTS_FILE.name}: effects[{position}]"
    try:
        pattern = str(row["pattern"])
        words = tuple(str(word) for word in row["words"])
        written = pattern.replace("\\", "")
        missing = [word for word in words if word not in written]
        if not words or missing:
            raise ValueError(f"words {missing or '[]'} are not written in the pattern")
        return _EffectRow(
            re.compile(pattern),
            tuple(Intent(i) for i in row["intents"]),
            str(row["message"]),
            bool(row.get("strings")),
            words,
            bool(row.get("spared_on_new_tables")),
            frozenset(str(dialect) for dialect in row.get("except_dialects") or ()),
        )
    except (KeyError, ValueError, TypeError, re.error) as error:
        raise ValueError(f"{where} ({row.get('pattern')!r}): {error}; fix the row") from error


@functools.cache
def _effect_rows() -> tuple[_EffectRow, ...]:
    data = load_yaml(_EFFECTS_FILE.read_text(encoding="utf-8"))
    return tuple(_effect_row(row, position) for position, row in enumerate(data["effects"]))


@functools.cache
def spared_messages() -> frozenset[str]:
    return frozenset(row.message for row in _effect_rows() if row.spared_on_new_tables)


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
def _rows_by_word() -> tuple[tuple[str, frozenset[int]], ...]:
    """Each row word with the positions of the rows it admits: each word is looked for once
    (75 words), not once per row that names it (48 rows, three times as slow)."""
    by_word: dict[str, set[int]] = {}
    for position, row in enumerate(_effect_rows()):
        for word in row.words:
            by_word.setdefault(word, set()).add(position)
    return tuple((word, frozenset(positions)) for word, positions in by_word.items())


@functools.cache
def _effect_triggers() -> tuple[str, ...]:
    data = load_yaml(_EFFECTS_FILE.read_text(encoding="utf-8"))
    return tuple(str(word) for word in data["triggers"])


@functools.cache
def _trigger_search() -> Callable[[str], re.Match[str] | None]:
    """Finds any trigger in one pass: the triggers as a trie of alternatives, so at each position
    the regex engine follows one branch per character instead of trying every trigger (twice as
    fast as one `in` per trigger on every statement)."""
    trie: dict[str, Any] = {}
    for trigger in _effect_triggers():
        node = trie
        for char in trigger:
            node = node.setdefault(char, {})
        node[""] = {}  # a trigger ends here: any longer one holds it

    def alternatives(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        options = [re.escape(char) + alternatives(node[char]) for char in sorted(node)]
        return options[0] if len(options) == 1 else f"(?:{'|'.join(options)})"

    return re.compile(alternatives(trie)).search


def named_effects(statement: _Statement, chunk: _Chunk, source: str) -> None:
    """Effects the words name (rules/sql_effects.yaml), outside strings and comments."""
    text = source[chunk.start : chunk.end].upper()
    if _trigger_search()(text) is None:
        return
    named: set[int] = set()
    for word, positions in _rows_by_word():
        if word in text:
            named.update(positions)
    if not named:
        return
    every_row = _effect_rows()
    rows = [every_row[position] for position in sorted(named)]
    tokens = chunk.tokens
    # After a command keyword (VACUUM, ...) the tokenizer folds the body into one string token:
    # that body is the statement's own words, not a literal.
    body = len(tokens) >= 2 and tokens[0].token_type is TokenType.COMMAND
    words = [token.text.upper() for token in tokens]
    masked = " ".join(
        [
            "'?'" if token.token_type in _STRING_TOKENS and not (body and index == 1) else word
            for index, (token, word) in enumerate(zip(tokens, words, strict=True))
        ]
    )
    plain = " ".join(words) if any(row.strings for row in rows) else ""
    for row in rows:
        if statement.dialect_name in row.except_dialects:
            continue
        match = row.pattern.search(plain if row.strings else masked)
        if match is not None and not _runs_own_routine(match, statement.routines):
            for intent in row.intents:
                statement.add(intent, row.message)


def _runs_own_routine(match: re.Match[str], routines: set[str]) -> bool:
    """Whether the routine a row's `routine` group names was created earlier in the script."""
    routine = match.groupdict().get("routine")
    return routine is not None and routine.split(" . ")[-1].lower() in routines
