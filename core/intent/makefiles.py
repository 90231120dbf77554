"""Makefiles: the recipe lines (tab-indented, after an optional @ - +) of the targets a run
makes are shell commands. A makefile this script wrote (``printf 'reset:\\n\\tpsql ...' >
Makefile; make reset``) is read as written; which targets run follows the command line (the
first target when none is named) and their prerequisites."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import Any

from guardrails_core.model import Intent

# `name other: prerequisites ; recipe` (not `X := value`, `X ::= value`)
_RULE = re.compile(r"^([^\s:=#][^:=]*?)\s*::?(?!=)\s*(.*)$")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|override\s+)?[\w.]+\s*(?:[:+?!]|::)?=")
# what decides the targets beyond the text (outside recipes): patterns, computed names, other
# makefiles
_UNRESOLVED = re.compile(r"%|\$[({]|^\s*-?s?include\s|^\.DEFAULT\s*:", re.MULTILINE)
_OWN_MAKE = re.compile(r"\$[({]MAKE[)}]")  # a recipe's recursive make: make itself
_MAKE_FUNCTIONS = re.compile(r"\$[({](?:shell|eval|file|guile)\s")
# make's options whose value is the next word (-f FILE, -C DIR); -j and -l take an optional one
_VALUE_OPTIONS = frozenset(
    (
        *("-f", "--file", "--makefile", "-C", "--directory", "-I", "--include-dir", "-o"),
        *("--old-file", "--assume-old", "-W", "--what-if", "--new-file", "--assume-new", "--eval"),
    )
)
_OPTIONAL_NUMBER = frozenset(("-j", "--jobs", "-l", "--load-average", "--max-load"))


def targets(args: Sequence[Any]) -> list[str]:
    """The targets a make command line names (variables `X=y` and options left out)."""
    named: list[str] = []
    skip = False
    for index, word in enumerate(args):
        value = word.value
        if skip:
            skip = False
        elif value in _VALUE_OPTIONS:
            skip = True
        elif value in _OPTIONAL_NUMBER:
            following = args[index + 1].value if index + 1 < len(args) else ""
            skip = following.isdigit()
        elif not value.startswith("-") and "=" not in value:
            named.append(value)
    return named


def directory(args: Sequence[Any]) -> str:
    """The folder make reads its default makefile from (-C DIR, the last one given)."""
    folder = ""
    for index, word in enumerate(args):
        if word.value in ("-C", "--directory") and index + 1 < len(args):
            folder = posixpath.join(folder, args[index + 1].value)
        elif word.value.startswith(("--directory=", "-C")) and len(word.value) > 2:
            folder = posixpath.join(folder, word.value.split("=", 1)[-1].removeprefix("-C"))
    return folder


def recipes(text: str, goals: Sequence[str] | None) -> list[str]:
    """The recipe lines that making `goals` (none named: the first target) runs: all of them
    when `goals` is None or what runs is not decided by the text alone (patterns, variables,
    included makefiles)."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    every: list[str] = []
    first: str | None = None
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("\t"):
            command = _OWN_MAKE.sub("make", line.strip().lstrip("@-+").strip())
            if command:
                every.append(command)
                for name in current:
                    rules[name][1].append(command)
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rule = None if _ASSIGNMENT.match(line) else _RULE.match(line)
        current = rule.group(1).split() if rule else []
        if rule is None:
            continue
        prerequisites, _, inline = rule.group(2).partition(";")
        for name in current:
            entry = rules.setdefault(name, ([], []))
            entry[0].extend(prerequisites.split())
            if inline.strip():
                entry[1].append(inline.strip())
        if inline.strip():
            every.append(inline.strip())
        if first is None:
            first = next((name for name in current if not name.startswith(".")), None)
    wanted = list(goals or ()) or ([first] if first else [])
    outside = "\n".join(line for line in text.splitlines() if not line.startswith("\t"))
    if goals is None or _UNRESOLVED.search(outside) or any(goal not in rules for goal in wanted):
        return every
    ran: list[str] = []
    seen: set[str] = set()
    pending = list(reversed(wanted))
    while pending:
        name = pending.pop()
        if name in seen or name not in rules:
            continue
        seen.add(name)
        prerequisites, commands = rules[name]
        pending.extend(reversed(prerequisites))
        ran.extend(commands)
    return ran


def run_recipes(call: Any, makefile: Any, goals: Sequence[str] | None, script: Any) -> None:
    """Each recipe line that runs is read as a shell command (`script` is the bridge's); make's
    own functions ($(shell ...), $(eval ...)) run what is not visible as text."""
    for command in recipes(makefile.value, goals):
        script(call, type(makefile).literal(command), f"{call.prog} recipe")
    if _MAKE_FUNCTIONS.search(makefile.value):
        call.add(Intent.DYNAMIC, f"{call.prog} runs make functions that are not analysed")


def read_makefile(call: Any, path: Any, bridge: Any) -> bool:
    """``make -f FILE``: a makefile this script wrote is read as written, one it downloaded is a
    payload; whether either was."""
    where = _in_directory(call, path)
    text = bridge.written(call, where)
    if text is not None:
        run_recipes(call, text, targets(call.args), bridge.script)
        return True
    return bool(bridge.run_file(call, where))


def written(call: Any, paths: Sequence[Any], bridge: Any) -> bool:
    """Whether one of these makefiles is text this script wrote (what its recipes do is seen)."""
    return any(bridge.written(call, _in_directory(call, path)) is not None for path in paths)


def _in_directory(call: Any, path: Any) -> Any:
    folder = directory(call.args)
    return type(path).literal(posixpath.join(folder, path.value)) if folder else path


def read_default(call: Any, names: Sequence[str], bridge: Any) -> None:
    """``make`` with no -f reads the first of its default makefiles that exists: one this
    script wrote (or fetched) is judged; one already there is not visible (the registry's)."""
    for name in names:
        if read_makefile(call, type(call.name).literal(name), bridge):
            return
