"""The command text a database hands to its host's shell (xp_cmdshell), read for programs that
copy rows out to a file (rules/sql_shell_exports.yaml): `bcp "SELECT ..." queryout <file>`."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.statement import _Statement
from guardrails_core.yaml_data import load_yaml

_RULES = Path(__file__).parent.parent / "rules" / "sql_shell_exports.yaml"
#: cmd.exe's words: a double-quoted run (quotes kept out) or a run of non-blanks.
_WORD = re.compile(r'"([^"]*)"?|(\S+)')


@functools.cache
def _outputs() -> dict[str, tuple[frozenset[str], str]]:
    data = load_yaml(_RULES.read_text(encoding="utf-8"))
    return {
        str(name).lower(): (frozenset(str(word).lower() for word in row["outputs"]), row["why"])
        for row in data["programs"]
        for name in row["names"]
    }


def judge_shell_export(statement: _Statement, command: str | None) -> None:
    """Name `export` when the command's program writes rows out to a file."""
    if not command:
        return
    words = [
        word.group(1) if word.group(1) is not None else word.group(2)
        for word in _WORD.finditer(command)
    ]
    if not words:
        return
    program = re.split(r"[\\/]", words[0])[-1].lower().removesuffix(".exe")
    rule = _outputs().get(program)
    if rule is not None and rule[0] & {word.lower() for word in words[1:]}:
        statement.add(I.EXPORT, f"the host command runs {program}: {rule[1]}")
