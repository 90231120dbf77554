"""Saved plans: ``terraform plan -destroy -out=tf.plan`` only plans, but ``terraform apply
tf.plan`` then does what was planned. A plan this script saved is applied with the plan's own
options (-destroy, -replace=...), so the apply is judged as the destroy it is; a plan saved
elsewhere may hold any change, a destroy included, decided where it was made (unknown here)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from guardrails_core.model import Intent

_SEPARATOR = "\0"


@dataclass(frozen=True, slots=True)
class SavedPlan:
    save: str  # the subcommand that saves a plan (`plan`)
    option: str  # the option naming the file it is saved to (`-out`)
    apply: str  # the subcommand that applies a saved plan given as its operand (`apply`)


def _operands(args: Sequence[str], after: str) -> list[int]:
    """Positions of the operands after the subcommand word."""
    start = args.index(after) + 1 if after in args else len(args)
    return [index for index in range(start, len(args)) if not args[index].startswith("-")]


def _saved_to(args: Sequence[str], option: str) -> tuple[str | None, list[str]]:
    """The file the plan is saved to and the plan's other options."""
    path: str | None = None
    kept: list[str] = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
        elif arg in (option, f"-{option}") and index + 1 < len(args):
            path, skip = args[index + 1], True
        elif arg.startswith((f"{option}=", f"-{option}=")):
            path = arg.partition("=")[2]
        elif arg.startswith("-"):
            kept.append(arg)
    return path, kept


def arguments(call: Any, plan: SavedPlan, subcommand: Sequence[str]) -> list[str]:
    """The arguments to judge the call by: a saved plan's file is noted, an applied one is
    replaced by the options it was planned with."""
    args = [word.value for word in call.args]
    if not subcommand:
        return args
    if subcommand[0] == plan.save:
        path, options = _saved_to(args, plan.option)
        dynamic = any(word.dynamic for word in call.args if path and path in word.value)
        if path and not dynamic:
            call.note_fact(f"saved plan {posixpath.normpath(path)}", _SEPARATOR.join(options))
        return args
    if subcommand[0] != plan.apply:
        return args
    operands = _operands(args, plan.apply)
    if not operands:
        return args
    planned: list[str] = []
    for index in operands:
        options = call.fact(f"saved plan {posixpath.normpath(args[index])}")
        if options is None:
            call.add(
                Intent.UNKNOWN,
                f"{call.prog} {plan.apply} {args[index]} applies a plan saved elsewhere: what it "
                f"changes (a destroy included) was decided where it was planned",
            )
        else:
            planned.extend(option for option in options.split(_SEPARATOR) if option)
    return [arg for index, arg in enumerate(args) if index not in operands] + planned
