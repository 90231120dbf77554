"""SQL text written for an embedded engine's shell (sqlite3, duckdb) with its dot-commands
(`.mode csv`, `.once out.csv`, `.shell cmd`): no database parses them, the shell runs them. Such
a text is read as that shell's input, so each command is judged by the client_commands table of
rules/programs.yaml (a setting, a local output file, a program run) instead of unparseable."""

from __future__ import annotations

import re

from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.sql.dialects import UnknownDialectError, resolve_dialect

# the shell program that reads the dialect's dot-commands
_SHELLS = {"sqlite": "sqlite3", "duckdb": "duckdb"}
_DOT_COMMAND = re.compile(r"(?m)^[ \t]*(\.[a-z]+)\b")


def client_script(text: str, dialect: str | None) -> str | None:
    """The shell command that feeds `text` to the dialect's own shell (a quoted here-document,
    nothing expanded), when a line of it starts with one of that shell's dot-commands."""
    try:
        program = _SHELLS.get(resolve_dialect(dialect) or "")
    except UnknownDialectError:
        return None
    if program is None:
        return None
    known = _dot_commands()
    if not any(command.lower() in known for command in _DOT_COMMAND.findall(text)):
        return None
    end = "SQL_END"
    while re.search(rf"(?m)^{end}$", text):
        end += "_"
    return f"{program} <<'{end}'\n{text}\n{end}"


def _dot_commands() -> frozenset[str]:
    row = registry().client_commands["sqlite"]
    return frozenset(str(name).lower() for name in (*row["commands"], *row.get("setting", ())))
