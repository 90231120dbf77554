"""PRAGMA by registry (rules/sql_pragmas.yaml): risky, harmless, or not understood."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

from sqlglot import exp

from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.settings import judge_setting
from guardrails_core.intent.sql.statement import _Chunk, _Statement
from guardrails_core.model import Intent
from guardrails_core.yaml_data import load_yaml

_PRAGMAS_FILE = Path(__file__).parent.parent / "rules" / "sql_pragmas.yaml"
# DuckDB's `PRAGMA name = value` is its `SET name = value`.
_SETTING_DIALECTS = frozenset({"duckdb"})


class _RiskyPragma(NamedTuple):
    values: frozenset[str] | None  # None: whatever the value
    intents: tuple[Intent, ...]
    message: str


class _Pragmas(NamedTuple):
    risky: dict[str, _RiskyPragma]
    harmless: frozenset[str]


@functools.cache
def _pragmas() -> _Pragmas:
    data = load_yaml(_PRAGMAS_FILE.read_text(encoding="utf-8"))
    risky: dict[str, _RiskyPragma] = {}
    for position, row in enumerate(data["risky"]):
        values = row["values"]
        pragma = _RiskyPragma(
            None if values == "any" else frozenset(str(value).lower() for value in values),
            tuple(Intent(intent) for intent in row["intents"]),
            str(row["message"]),
        )
        for name in row["names"]:
            if name in risky:
                raise ValueError(f"{_PRAGMAS_FILE.name}: risky[{position}]: {name} is in two rows")
            risky[str(name)] = pragma
    return _Pragmas(risky, frozenset(str(name) for name in data["harmless"]))


def _handle_pragma(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    this = node.this
    target = this.this if isinstance(this, exp.EQ) else this
    name = target.name.lower() if isinstance(target, exp.Expr) else ""
    assigned = this.expression if isinstance(this, exp.EQ) else None
    value = assigned.name.lower() if isinstance(assigned, exp.Expr) else None
    if not name:
        statement.add(I.UNKNOWN, "PRAGMA whose name is not written out")
        return
    if statement.dialect_name in _SETTING_DIALECTS and assigned is not None:
        judge_setting(statement, name, value, verb="PRAGMA")
        return
    pragmas = _pragmas()
    risky = pragmas.risky.get(name)
    if risky is not None and value is not None and (risky.values is None or value in risky.values):
        for intent in risky.intents:
            statement.add(intent, f"PRAGMA {name} = {value} {risky.message}")
        return
    if name not in pragmas.harmless:
        statement.add(
            I.UNKNOWN,
            f"PRAGMA {name}: a pragma the analyzer has no record of, so its effect is not known",
        )
