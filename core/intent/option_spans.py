"""Option values a program row can require: a date range given as a pair of options
(``-s 2024-06-01 -e 2024-06-07``) that is short, values all from a list (``--target dev``), an
operand after a subcommand word (``run-operation drop_schema``), a JSON configuration whose
every rule is limited to a prefix (a lifecycle that expires only tmp/).

A rerun or clear bounded by such a range touches the runs inside it: a few days is a repair, years
of them rewrite the history. A range whose ends are not both written out as dates (left open, or
a variable) is not known to be short.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from itertools import pairwise
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


@dataclass(frozen=True, slots=True)
class Values:
    options: tuple[str, ...]  # options whose value is checked (--target, -t)
    allowed: tuple[str, ...]  # globs of the values they may have (dev, ci)
    any: bool = False  # one value among them is enough (else every one given must be)
    each: str = ""  # a value is a list split on this: every piece must match (a,b,c)
    key: bool = False  # a value is a key path (["db"]["host"]): its last key must match
    scratch: bool = False  # a value is a table ([project:]dataset.table) scratch by its name
    some: str = ""  # a value is a list split on this: one piece matching is enough (a=1,b=off)
    jsonpath: bool = False  # a value is kubectl's jsonpath=TEMPLATE: every field it prints matches

    def holds(self, args: Sequence[str]) -> bool:
        """One of the options given, and each time (the last one given wins) with a value in the
        list: `--target dev --target prod` is prod. With ``any``, one such value is enough
        (`-replace=aws_db_instance.main` among others)."""
        given = [
            _value(args, index) for index in range(len(args)) if _named(args[index], self.options)
        ]
        if self.key:
            given = [_last_key(value) for value in given]
        if self.scratch:
            return bool(given) and all(_scratch_table(value) for value in given)
        if self.jsonpath:
            return bool(given) and all(_prints_only(value, self.allowed) for value in given)
        split = self.each or self.some
        pieces = all if self.each or not self.some else any
        matches = [
            pieces(
                any(fnmatchcase(piece, glob) for glob in self.allowed)
                for piece in (value.split(split) if split else [value])
            )
            for value in given
        ]
        return bool(given) and (any(matches) if self.any else all(matches))


def values(row: dict[str, Any] | None) -> Values | None:
    if not row:
        return None
    allowed = tuple(str(value) for value in row.get("in") or ())
    return Values(
        tuple(row["options"]),
        allowed,
        bool(row.get("any", False)),
        str(row.get("each", "")),
        bool(row.get("key", False)),
        bool(row.get("scratch", False)),
        str(row.get("some", "")),
        bool(row.get("jsonpath", False)),
    )


# `{range .items[*]}{.metadata.name}{"\n"}{end}`: loops, literal text, and the fields printed
_JSONPATH_GROUP = re.compile(r"\{([^{}]*)\}")
_JSONPATH_CONTROL = re.compile(r'^(?:range \.items\[\*\]|end|"(?:[^"\\]|\\[nt])*")$')
# text outside the expressions: separators only (a word there may be an expansion that brings
# more of a template, `{.metadata.name}$X`)
_SEPARATORS = re.compile(r"^[^\w{}]*$")
_ITEM = re.compile(r"^\.items\[(?:\*|\d+)\]")  # each item of a list: its fields follow


def _prints_only(value: str, fields: Sequence[str]) -> bool:
    """``jsonpath={.items[*].metadata.name}``: a template whose every expression prints one of
    ``fields`` of each item (or is a range over the items, its end, or quoted text)."""
    kind, equals, template = value.partition("=")
    if kind != "jsonpath" or not equals or "{" not in template:
        return False
    if not _SEPARATORS.match(_JSONPATH_GROUP.sub("", template)):
        return False
    for group in _JSONPATH_GROUP.findall(template):
        expression = group.strip()
        if _JSONPATH_CONTROL.match(expression):
            continue
        if _ITEM.sub("", expression) not in fields:
            return False
    return True


def _scratch_table(value: str) -> bool:
    """`project:scratch_jk.sample`, `tmp.orders`: a table that is scratch by its dataset or
    name (rules/sql_scratch.yaml); a name without its dataset is not known to be."""
    from guardrails_core.intent.sql.temporaries import scratch_name

    *_, dataset, name = ["", *value.rpartition(":")[2].split(".")]
    return bool(dataset and name) and scratch_name(dataset, name)


_KEY_PATH = re.compile(r"""^(?:\[(?:"[\w-]+"|'[\w-]+')\])+$""")


def _last_key(path: str) -> str:
    """The last key of a path of quoted keys (``["database"]["host"]`` is host); any other
    path (an index, a wildcard, a bare word) has none."""
    if not _KEY_PATH.match(path):
        return ""
    return str(re.findall(r"[\w-]+", path)[-1])


@dataclass(frozen=True, slots=True)
class Operand:
    word: str  # the subcommand word it follows (run-operation)
    allowed: tuple[str, ...]  # globs of the operand (drop_*)
    after_options: bool = False  # options may come between (`kubectl debug -it node/x`)

    def holds(self, args: Sequence[str]) -> bool:
        """The operand right after ``word`` (`dbt run-operation drop_schema`) matches a glob;
        with ``after_options`` any word after it does, up to a `--` (the command it runs)."""
        if self.after_options and self.word in args:
            rest = args[list(args).index(self.word) + 1 :]
            rest = rest[: list(rest).index("--")] if "--" in rest else rest
            return any(fnmatchcase(word, glob) for word in rest for glob in self.allowed)
        return any(
            arg == self.word and any(fnmatchcase(following, glob) for glob in self.allowed)
            for arg, following in pairwise(args)
        )


# What an S3 lifecycle rule may hold and still delete nothing: its scope and transitions to
# another storage class (any Expiration, NoncurrentVersionExpiration or
# AbortIncompleteMultipartUpload, or a key not listed here, may delete)
_MOVING_RULE_KEYS = frozenset(
    (
        "ID",
        "Filter",
        "Prefix",
        "Status",
        "Transitions",
        "Transition",
        "NoncurrentVersionTransitions",
        "NoncurrentVersionTransition",
    )
)


@dataclass(frozen=True, slots=True)
class RulePrefixes:
    options: tuple[str, ...]  # options whose value is a JSON configuration of rules
    allowed: tuple[str, ...]  # globs each rule's prefix must match (tmp/*)
    moves_only: bool = False  # instead: every rule only moves objects to another storage class

    def holds(self, args: Sequence[str]) -> bool:
        """Every rule of the configuration given (an S3 lifecycle's Rules) is limited to a
        prefix matching a glob: `tmp/` expires scratch files, a rule with no prefix (or a
        configuration in a file, not visible here) the whole bucket. With ``moves_only``, every
        rule only transitions objects, wherever it applies: none is deleted."""
        given = [
            _value(args, index) for index in range(len(args)) if _named(args[index], self.options)
        ]
        return bool(given) and all(self._confined(text) for text in given)

    def _confined(self, text: str) -> bool:
        try:
            config = json.loads(text)
            rules = config.get("Rules", config.get("rules"))
        except (ValueError, AttributeError):
            return False
        if not isinstance(rules, list) or not rules:
            return False
        if self.moves_only:
            return all(
                isinstance(rule, dict) and rule.keys() <= _MOVING_RULE_KEYS for rule in rules
            )
        return all(
            prefixes
            and all(
                prefix and any(fnmatchcase(prefix, glob) for glob in self.allowed)
                for prefix in prefixes
            )
            for prefixes in map(_rule_prefixes, rules)
        )


def _rule_prefixes(rule: object) -> list[str]:
    """S3: Rules[].Filter.Prefix, Rules[].Filter.And.Prefix, or the older Rules[].Prefix; Azure
    (a management policy): rules[].definition.filters.prefixMatch, a list (none: every blob)."""
    if not isinstance(rule, dict):
        return [""]
    definition = rule.get("definition")
    if isinstance(definition, dict):
        filters = definition.get("filters")
        matches = filters.get("prefixMatch") if isinstance(filters, dict) else None
        if not isinstance(matches, list):
            return [""]
        return [match if isinstance(match, str) else "" for match in matches]
    scope = rule.get("Filter")
    scope = scope if isinstance(scope, dict) else {}
    both = scope.get("And")
    both = both if isinstance(both, dict) else {}
    prefix = scope.get("Prefix") or both.get("Prefix") or rule.get("Prefix")
    return [prefix if isinstance(prefix, str) else ""]


def rule_prefixes(row: dict[str, Any] | None) -> RulePrefixes | None:
    if not row:
        return None
    globs = tuple(str(glob) for glob in row.get("in") or ())
    return RulePrefixes(tuple(row["options"]), globs, bool(row.get("moves_only", False)))


def operand(row: dict[str, Any] | None) -> Operand | None:
    if not row:
        return None
    globs = tuple(str(glob) for glob in row["in"])
    return Operand(str(row["after"]), globs, bool(row.get("after_options", False)))


def span(row: dict[str, Any] | None) -> Span | None:
    if not row:
        return None
    return Span(tuple(row["start"]), tuple(row["end"]), int(row["days"]))


def _named(arg: str, options: tuple[str, ...]) -> bool:
    return arg.partition("=")[0] in options


def _value(args: Sequence[str], index: int) -> str:
    """The value of the option at ``index``: after its `=`, or the next word."""
    _, equals, value = args[index].partition("=")
    if equals:
        return value
    return args[index + 1] if index + 1 < len(args) else ""


def _date(options: tuple[str, ...], args: Sequence[str]) -> date | None:
    for index, arg in enumerate(args):
        if not _named(arg, options):
            continue
        try:
            return datetime.fromisoformat(_value(args, index)).date()
        except ValueError:
            return None
    return None
