"""The record of what was run (shell and client histories, login and audit logs): erased,
or the shell told to stop keeping it."""

from __future__ import annotations

import itertools
import re

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.options import _Call
from guardrails_core.intent.shell.words import _Effect, _Word
from guardrails_core.model import Intent


def _erased(effect: _Effect, target: _Word, how: str) -> None:
    """A shell or client history, or the system's login and audit log, deleted, emptied or
    rewritten: the record of what was run is gone (a data table: files.history)."""
    if "history" in shell_registry.file_classes(target.value):
        effect.add(
            Intent.HOST_ACCESS,
            f"{how} erases {target.display}, the record of what was run: earlier commands hidden",
        )


def _history_off(call: _Call) -> None:
    """`history -c`/`-d N`, `set +o history`: the shell forgets (or stops keeping) the record
    of what was run."""
    args = [word.value for word in call.args]
    if call.prog == "history":
        erasing = any(re.fullmatch(r"-\w*[cd]\w*", arg) for arg in args)
    else:  # set +o history
        erasing = any(a == "+o" and b == "history" for a, b in itertools.pairwise(args))
    if erasing:
        call.add(
            Intent.HOST_ACCESS,
            f"{call.prog} {' '.join(args)} stops the shell's record of what was run",
        )


# Variables that keep the shell's record: the file it is written to and how many lines it keeps
_HISTORY_OFF = {"HISTFILE": ("", "/dev/null"), "HISTSIZE": ("0",), "HISTFILESIZE": ("0",)}


def _history_variable(effect: _Effect, name: str, value: str | None) -> None:
    """`export HISTFILE=/dev/null`, `unset HISTFILE`, `HISTSIZE=0`: the shell stops keeping
    the record of what is run next (value None: unset)."""
    off = _HISTORY_OFF.get(name)
    if off is not None and (value is None or value in off):
        how = f"unset {name}" if value is None else f"{name}={value}"
        effect.add(Intent.HOST_ACCESS, f"{how} stops the shell's record of what is run next")
