"""How a command's arguments are read against a program's rows: options given, their parts,
pinning options, listing subcommands."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guardrails_core.intent.programs import Carrier, Program, When

PART_SPLIT = re.compile(r"[-:_.]+")
_COMMAND_WORD = re.compile(r"^[A-Za-z][\w:.\-]*$")
CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")  # dropAll, updateSQL: one part per word
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


def env_args(forms: Sequence[str], environment: Mapping[str, str]) -> list[str]:
    """The options a program's environment gives it, as the words of a command line. FORMS are
    a registry row's env_options: ``DBT_*`` (every DBT_X is the long option --x, as dbt and pip
    read every flag), ``AWS_PROFILE=--profile`` (one variable, one option), ``TF_CLI_ARGS*=*``
    (the value is options themselves). A switch set on (true, 1) is the bare option; one set off
    adds nothing (a flag given on the line still wins); any other value is the option's value."""
    words: list[str] = []
    for name, value in environment.items():
        for form in forms:
            glob, _, option = form.partition("=")
            if not fnmatch.fnmatchcase(name.upper(), glob.upper()):
                continue
            if option == "*":
                words.extend(value.split())
                break
            if not option:
                option = "--" + name[len(glob.rstrip("*")) :].lower().replace("_", "-")
            if value.lower() in ON_VALUES:
                words.append(option)
            elif value and value.lower() not in OFF_VALUES:
                words.append(f"{option}={value}")
            break
    return words


ON_VALUES = frozenset(("true", "1", "yes", "on", "t", "y"))
# Values that turn an option off: `--dry_run=false` and `--dry-run=none` are real runs.
OFF_VALUES = frozenset(("false", "0", "no", "off", "none", "f", "n"))


def _option_key(name: str) -> str:
    """--dry-run, --dry_run, --dryrun: one option written three ways (a short option's case is
    its own: mysql's -U is not -u)."""
    return re.sub(r"[-_]", "", name.lower() if name.startswith("--") else name)


def option_in_force(options: Sequence[str], args: Sequence[str]) -> bool:
    """One of OPTIONS is in force: given bare or with a value that is not off (`=client`), and
    not turned off afterwards (`--dry_run=false`, `--dry-run none`, `--no-dry-run`, absl's
    `--nodry_run`, MySQL's `--skip-safe-updates`); the last one given decides, as the programs'
    parsers do."""
    keys = {_option_key(option.partition("=")[0]) for option in options if option.startswith("-")}
    state = False
    for index, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        name, equals, value = arg.partition("=")
        key = _option_key(name)
        if any(key.startswith(no) and key[len(no) :] in keys for no in _NEGATIONS):
            state = False
        elif key in keys:
            following = args[index + 1].lower() if index + 1 < len(args) else ""
            state = value.lower() not in OFF_VALUES if equals else following not in OFF_VALUES
    return state


_NEGATIONS = ("no", "skip", "disable")


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


def carries(carrier: Carrier, parts: frozenset[str], args: Sequence[str]) -> bool:
    return carrier.when.holds(parts, args) and any(given(o, args) for o in carrier.options)


def command_words(program: Program, args: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """The leading command words (options and their values skipped) and the operands after."""
    words: list[str] = []
    rest: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--":
            break
        if arg.startswith("-"):
            skip = arg in program.value_options
            continue
        if len(words) < program.words and _COMMAND_WORD.match(arg):
            words.append(CAMEL.sub("-", arg).lower())
        else:
            rest.append(arg)
    return tuple(words), rest


def command_start(subcommand: tuple[str, ...], runs: When | None) -> int:
    """The command a runner runs follows the subcommand word its row names (`npm exec rm -rf
    x`: `rm` is the command, not a second subcommand word); a row naming none: all of them."""
    if runs is None or not runs.words:
        return len(subcommand)
    named = set(runs.words)
    hits = [index + 1 for index, word in enumerate(subcommand) if word_parts((word,)) & named]
    return max(hits, default=len(subcommand))


def is_safe(program: Program, subcommand: tuple[str, ...], args: Sequence[str]) -> bool:
    for entry in program.safe:
        commands = tuple(token for token in entry if not token.startswith("-"))
        options = [token for token in entry if token.startswith("-")]
        if subcommand[: len(commands)] == commands and all(given(o, args) for o in options):
            return True
    return False
