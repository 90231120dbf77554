"""How much a retention setting or a backup rotation keeps (rules/retention.yaml): a period of
more than a day, or several copies, is routine retention; zero, a day or one copy is not."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from guardrails_core.yaml_data import load_yaml

RULES = Path(__file__).parent / "rules" / "retention.yaml"

_DAYS = {
    "ms": 1 / 86_400_000,
    "seconds": 1 / 86_400,
    "minutes": 1 / 1_440,
    "hours": 1 / 24,
    "days": 1.0,
    "weeks": 7.0,
    "months": 28.0,
    "years": 365.0,
}
_NAME_PARTS = re.compile(r"[-_.]+")
_AMOUNT = re.compile(r"(-?\d+(?:\.\d+)?)([a-z]*)")


@functools.cache
def _table() -> dict[str, Any]:
    return dict(load_yaml(RULES.read_text(encoding="utf-8")))


@functools.cache
def _unit_of_word() -> dict[str, str]:
    return {str(word): unit for unit, words in _table()["units"].items() for word in words}


def _unit(name: str) -> str | None:
    """The unit a bare value of the option counts, or ``""`` when the value must say its own
    (`--keep-within 30d`); ``None``: not a retention option."""
    lowered = name.lower()
    for unit, globs in _table()["options"].items():
        if any(fnmatchcase(lowered, str(glob)) for glob in globs):
            return str(unit)
    parts = [part for part in _NAME_PARTS.split(lowered) if part]
    if not set(parts) & set(_table()["words"]):
        return None
    units = _unit_of_word()
    return next((units[part] for part in parts if part in units), "")


def _settings(args: Sequence[str]) -> Iterator[tuple[str, str | None]]:
    """Each option with its value (`--x 7`, `--x=7`) and each `key=value` of a configuration
    list (`--add-config retention.ms=1000,cleanup.policy=delete`)."""
    for index, arg in enumerate(args):
        if arg.startswith("-"):
            name, equals, value = arg.partition("=")
            if not equals:
                following = args[index + 1] if index + 1 < len(args) else None
                value = following if following and not following.startswith("--") else ""
            yield name, value or None
            continue
        for piece in arg.split(","):
            key, equals, value = piece.partition("=")
            if equals:
                yield key, value


def _amount(value: str, unit: str) -> tuple[str, float] | None:
    """``("copies", 7)`` or ``("days", 0.5)``: what a value keeps; ``None`` when it cannot be
    told (a variable, a word, a bare number of an option with no unit)."""
    text = value.strip().strip("'\"").lower().removeprefix("p").replace("t", "")
    pieces = _AMOUNT.findall(text)
    if not pieces or "".join(number + word for number, word in pieces) != text:
        return None
    if unit == "copies":
        return ("copies", float(pieces[0][0])) if len(pieces) == 1 and not pieces[0][1] else None
    days = 0.0
    for number, word in pieces:
        piece_unit = _unit_of_word().get(word) if word else unit
        if piece_unit not in _DAYS:
            return None
        days += float(number) * _DAYS[piece_unit]
    return "days", days


def keeps(args: Sequence[str]) -> bool:
    """Whether the retention the arguments set keeps data: at least one retention value given,
    every period longer than the minimum (a negative one keeps forever), and the counts, kept by
    any rule, at least the minimum. A value that cannot be read keeps nothing."""
    table = _table()
    periods: list[float] = []
    copies = 0.0
    for name, value in _settings(args):
        unit = _unit(name)
        if unit is None:
            continue
        amount = _amount(value, unit) if value is not None else None
        if amount is None:
            return False
        if amount[0] == "copies":
            copies += amount[1]
        else:
            periods.append(amount[1])
    if not periods and not copies:
        return False
    if any(0 <= days <= table["minimum_days"] for days in periods):
        return False
    return copies == 0 or copies >= table["minimum_copies"]


def keeps_for(value: str, unit: str) -> bool:
    """A period (`30d`; a bare number counts ``unit``) longer than the minimum: an age below
    which nothing is deleted keeps that much (`rclone delete --min-age 30d`)."""
    amount = _amount(value, unit)
    return amount is not None and amount[1] > _table()["minimum_days"]
