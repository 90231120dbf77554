"""Integrity checks switched off for one load and back on before the script ends.

mysqldump writes `SET FOREIGN_KEY_CHECKS=0` before the rows and `=1` after them; Django's
SQLite table rebuild runs between `PRAGMA foreign_keys = OFF` and `= ON` (checked with
`PRAGMA foreign_key_check`). The check is off only for the statements between, each judged on
its own: the switch is no standing change to the session's safeguards. A switch that is not
turned back on later in the same script stays privilege, and so does one around a delete (a
parent's rows truncated from under their children).
"""

from __future__ import annotations

import re

from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.trees import updated
from guardrails_core.model import Finding, StatementEffect

# The per-session checks a load switches off (rules/sql_settings.yaml, rules/sql_pragmas.yaml).
_SWITCH = re.compile(
    r"^\s*(?:SET\s+(?:SESSION\s+|LOCAL\s+|@@SESSION\.|@@)?|PRAGMA\s+)"
    r"(?P<name>FOREIGN_KEY_CHECKS|UNIQUE_CHECKS|FOREIGN_KEYS|CHECK_CONSTRAINTS|IGNORE_CHECK_CONSTRAINTS)"
    r"\s*(?:=|TO)\s*'?(?P<value>\w+)'?\s*;?\s*$",
    re.IGNORECASE,
)
_OFF = frozenset(("0", "OFF", "FALSE", "NO"))
_ON = frozenset(("1", "ON", "TRUE", "YES"))


def restored_checks(effects: list[StatementEffect]) -> list[StatementEffect]:
    """`effects` with the privilege of each switch-off dropped where a later statement of the
    script switches the same check back on."""
    switches = [_SWITCH.match(effect.text) for effect in effects]
    if not any(switches):
        return effects
    result: list[StatementEffect] = []
    for position, (effect, switch) in enumerate(zip(effects, switches, strict=True)):
        if switch is None or I.PRIVILEGE not in effect.intents or not _is_off(switch):
            result.append(effect)
            continue
        name = switch.group("name").upper()
        back_on = next(
            (
                at
                for at in range(position + 1, len(effects))
                if (later := switches[at]) is not None
                and later.group("name").upper() == name
                and _is_on(later)
            ),
            None,
        )
        # with the check off, a parent's rows can be deleted from under their children: only
        # loads keep the switch-off harmless (`SET FOREIGN_KEY_CHECKS = 0; TRUNCATE customers`)
        between = effects[position + 1 : back_on] if back_on is not None else ()
        if back_on is None or any(I.DELETE in other.intents for other in between):
            result.append(effect)
            continue
        finding = Finding(
            intent=I.WRITE,
            message=f"{name} is off only until a later statement of this script turns it back on",
        )
        kept = tuple(f for f in effect.findings if f.intent is not I.PRIVILEGE)
        intents = tuple(i for i in effect.intents if i is not I.PRIVILEGE)
        result.append(updated(effect, {"intents": intents, "findings": (*kept, finding)}))
    return result


def _is_off(switch: re.Match[str]) -> bool:
    return switch.group("value").upper() in _OFF


def _is_on(switch: re.Match[str]) -> bool:
    return switch.group("value").upper() in _ON
