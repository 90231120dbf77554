"""The keyword-command table (rules/sql_commands.yaml): leading words of a statement ->
operation, intents, message."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails_core.model import Intent
from guardrails_core.yaml_data import load_yaml

_COMMANDS_FILE = Path(__file__).parent.parent / "rules" / "sql_commands.yaml"


@dataclass(frozen=True)
class CommandRule:
    keywords: tuple[str, ...]
    operation: str
    intents: tuple[Intent, ...]
    message: str
    # The keywords alone say what the statement does, even when sqlglot cannot parse the rest.
    trusted: bool = False


_ALTERNATIVES = re.compile(r"\{([^{}]*)\}")


def _expand(words: str) -> list[str]:
    """`"{CREATE|DROP} USER"` -> ["CREATE USER", "DROP USER"]."""
    parts = _ALTERNATIVES.split(words)
    # split() with one group alternates literal text and the group's contents.
    choices = [[part] if index % 2 == 0 else part.split("|") for index, part in enumerate(parts)]
    return [" ".join("".join(combination).split()) for combination in itertools.product(*choices)]


def _rules_of(row: dict[str, Any], position: int) -> list[CommandRule]:
    where = f"{_COMMANDS_FILE.name}: commands[{position}]"
    try:
        intents = tuple(Intent(intent) for intent in row["intents"])
        expanded = _expand(str(row["words"]))
        return [
            CommandRule(
                keywords=tuple(words.split()),
                operation=str(row.get("operation") or words),
                intents=intents,
                message=str(row["message"]).replace("{words}", words),
                trusted=bool(row.get("trusted")),
            )
            for words in expanded
        ]
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(f"{where} ({row.get('words')!r}): {error!r}; fix the row") from error


@functools.cache
def command_rules() -> tuple[CommandRule, ...]:
    data = load_yaml(_COMMANDS_FILE.read_text(encoding="utf-8"))
    return tuple(
        rule for position, row in enumerate(data["commands"]) for rule in _rules_of(row, position)
    )


@functools.cache
def rules_by_first_word() -> dict[str, tuple[CommandRule, ...]]:
    """Rules under their first keyword, longest first (the most specific row wins)."""
    grouped: dict[str, list[CommandRule]] = {}
    for rule in command_rules():
        grouped.setdefault(rule.keywords[0], []).append(rule)
    return {
        word: tuple(sorted(rules, key=lambda rule: -len(rule.keywords)))
        for word, rules in grouped.items()
    }
