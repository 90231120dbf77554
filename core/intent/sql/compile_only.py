"""T-SQL session switches after which statements are compiled but never run (SET NOEXEC ON)."""

from __future__ import annotations

import re

from guardrails_core.model import Finding, Intent, StatementEffect

_OPTION = r"(?:NOEXEC|PARSEONLY|FMTONLY|SHOWPLAN_ALL|SHOWPLAN_TEXT|SHOWPLAN_XML)"
_SWITCH = re.compile(
    rf"^\s*SET\s+{_OPTION}(?:\s*,\s*{_OPTION})*\s+(ON|OFF)\s*;?\s*$", re.IGNORECASE
)
DIALECTS = frozenset({"tsql", "fabric"})


def compile_only_switch(text: str) -> bool | None:
    """True for `SET NOEXEC ON` (and the plan-only switches), False for OFF, else None."""
    switch = _SWITCH.match(text)
    return None if switch is None else switch.group(1).upper() == "ON"


def as_compiled_only(effect: StatementEffect) -> StatementEffect:
    """A statement compiled under SET NOEXEC ON: it changes nothing (unparseable stays so)."""
    if Intent.UNPARSEABLE in effect.intents:
        return effect
    message = "compiled only (SET NOEXEC/PARSEONLY/FMTONLY/SHOWPLAN is on): nothing runs"
    return effect.model_copy(
        update={
            "intents": (Intent.READ,),
            "objects": (),
            "findings": (Finding(intent=Intent.READ, message=message),),
        }
    )
