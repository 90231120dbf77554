"""Date ranges given as a pair of options (``-s 2024-06-01 -e 2024-06-07``) and how long they are.

A rerun or clear bounded by such a range touches the runs inside it: a few days is a repair, years
of them rewrite the history. A range whose ends are not both written out as dates (left open, or
a variable) is not known to be short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    starts: tuple[str, ...]  # options that give the first day
    ends: tuple[str, ...]  # options that give the last day
    days: int  # the longest range that counts as short

    def holds(self, args: Sequence[str]) -> bool:
        """Both ends given as dates, the last not before the first, at most ``days`` apart."""
        first, last = _date(self.starts, args), _date(self.ends, args)
        return first is not None and last is not None and 0 <= (last - first).days <= self.days


def span(row: dict[str, Any] | None) -> Span | None:
    if not row:
        return None
    return Span(tuple(row["start"]), tuple(row["end"]), int(row["days"]))


def _date(options: tuple[str, ...], args: Sequence[str]) -> date | None:
    for index, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name not in options:
            continue
        if not equals:
            value = args[index + 1] if index + 1 < len(args) else ""
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            return None
    return None
