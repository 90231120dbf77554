"""How a command's arguments are read against a program's rows: options given, their parts,
pinning options, listing subcommands."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

PART_SPLIT = re.compile(r"[-:_.]+")
_CLUSTER = re.compile(r"^-[A-Za-z]{2,}$")  # -qc: one-letter flags given together


def given(option: str, args: Sequence[str]) -> bool:
    """``--x`` given as ``--x`` or ``--x=v``; ``a b`` as two words; a bare value as a word."""
    if " " in option:
        first, second = option.split(" ", 1)
        return any(a == first and b == second for a, b in itertools.pairwise(args))
    for arg in args:
        if (
            arg == option
            or arg.startswith(option + "=")
            or (option.endswith("=") and arg.startswith(option))
        ):
            return True
        if not option.startswith("-") and len(option) >= 4 and option in arg:
            return True
        if (
            len(option) == 2
            and option[0] == "-" != option[1]
            and _CLUSTER.match(arg)
            and option[1] in arg
        ):
            return True
    return False


def unpinned(args: Sequence[str], pins: frozenset[str]) -> list[str]:
    """The arguments without the pinning options and their values (a constraints URL pins
    versions; the packages still come from the index)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if not skip and arg.partition("=")[0] not in pins:
            kept.append(arg)
        skip = not skip and arg in pins
    return kept


def dry_run_off(args: Sequence[str]) -> bool:
    return any(arg in ("--dry-run=none", "--dry-run=false", "--dryrun=false") for arg in args)


# A subcommand word that starts with one of these lists what the rest of it names
# (`list-import-errors`, `describe-delete-markers`): its other parts are nouns, not actions.
_LISTING = frozenset({"list", "describe", "show"})


def lists(subcommand: Sequence[str]) -> bool:
    return any("-" in word and word.split("-", 1)[0] in _LISTING for word in subcommand)


def option_parts(args: Sequence[str]) -> frozenset[str]:
    """The parts of the long option names given (``--lifecycle-file=x`` -> lifecycle, file)."""
    parts: set[str] = set()
    for arg in args:
        if arg.startswith("--") and len(arg) > 3:
            name = arg[2:].partition("=")[0]
            parts.update(part for part in PART_SPLIT.split(name.lower()) if part)
    return frozenset(parts)


def word_parts(words: Sequence[str]) -> frozenset[str]:
    parts = set(words)
    for word in words:
        parts.update(part for part in PART_SPLIT.split(word) if part)
    return frozenset(parts)
