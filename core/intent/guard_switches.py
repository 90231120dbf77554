"""access-guardrails' own switches and files (rules/guard_switches.yaml): what turns the guard
off or blinds it when a command sets, writes or deletes it. Shared by the shell analyzer and the
SQL clients that reach the audit store."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from guardrails_core.yaml_data import load_yaml

RULES = Path(__file__).parent / "rules" / "guard_switches.yaml"
GUARD_FILES = "guard"  # the file table's class of these files (shell_registry.file_classes)
_ANY = "any"
_RUN_TIME = "run-time"


@functools.cache
def _table() -> dict[str, Any]:
    return dict(load_yaml(RULES.read_text(encoding="utf-8")))


def files() -> tuple[str, ...]:
    return tuple(str(glob) for glob in _table()["files"])


def edits_guard_out(path: str, script: str) -> bool:
    """An in-place edit of a file that installs the guard among other settings, whose script
    names the guard (`sed -i '/guardrails_task_policy/d' airflow_local_settings.py`)."""
    settings = _table()["settings"]
    named = any(str(mark) in script.lower() for mark in settings["marks"])
    return named and any(fnmatchcase(path, str(glob)) for glob in settings["files"])


def switched(name: str, value: str) -> str | None:
    """How `NAME=VALUE` changes the guard: "off" (judging or recording switched off),
    "elsewhere" (pointed at a policy, store, key or server not visible here), or None."""
    values = _table()["variables"].get(name)
    if values is None:
        return None
    if values == _ANY:
        return "elsewhere" if value else None
    if values == _RUN_TIME:
        return "off" if value else None
    return "off" if value.strip().lower() in {str(v).lower() for v in values} else None


def policy_file_written(path: str, text: str | None) -> str | None:
    """How writing TEXT (None: not visible here) to PATH changes the gate's policy: "off" (the
    policy found there lets everything run), "unseen", or None (not a policy file, or setting
    one up)."""
    table = _table()["policy_files"]
    named = any(fnmatchcase(posixpath.basename(path), str(glob)) for glob in table["names"])
    if not named and not any(fnmatchcase(path, str(glob)) for glob in table["files"]):
        return None
    if text is None:
        return "unseen"
    return "off" if any(re.search(str(mark), text) for mark in table["marks"]) else None


def switched_options(args: Sequence[str]) -> list[tuple[str, str, str]]:
    """(option, value, how) for each option of the guard's judging command in ARGS (after the
    program's name) that does what a switch variable does (`check --mode audit`)."""
    table = _table()["options"]
    if not args or args[0] not in table["commands"]:
        return []
    found = []
    for at, word in enumerate(args):
        option, equals, inline = word.partition("=")
        values = table["values"].get(option)
        if values is None:
            continue
        value = inline if equals else (args[at + 1] if at + 1 < len(args) else "")
        if values == _ANY:
            found.append((option, value, "elsewhere"))
        elif value.strip().lower() in {str(v).lower() for v in values}:
            found.append((option, value, "off"))
    return found


def guard_program(program: str) -> bool:
    """PROGRAM (a path or a name) is access-guardrails' own command."""
    name = program.rsplit("/", 1)[-1]
    return any(fnmatchcase(name, glob) for glob in _table()["programs"])


def audit_tables(names: Iterable[str]) -> list[str]:
    """The names among NAMES (possibly schema-qualified) that are the audit store's tables."""
    globs = [str(glob) for glob in _table()["audit_tables"]]
    return [
        name
        for name in names
        if any(fnmatchcase(name.rsplit(".", 1)[-1].strip('"`[]').lower(), g) for g in globs)
    ]
