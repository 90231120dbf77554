"""Inline code of the other interpreters (``node -e``, ``deno eval``, ``bun -e``, ``ruby -e``,
``perl -e``, ``php -r``) that only prints facts about the runtime or fields of a data file.

Closed world: the code is a sequence of statements, each a print call of the language's table or
a bare value; a value is a string or number literal, a runtime fact the table lists followed by
field names (``process.versions.node``), or a project manifest read by a literal relative path
(``require('./package.json').version``, never a credentials file) followed by field names.
Anything else (another call, an operator, an assignment, a template string, a variable) is not
understood: `dynamic`.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from guardrails_core.intent.program_loader import registry
from guardrails_core.locations import in_working_folder

# identifiers (with the sigils of perl and php: $], $0 are not names, so only $name), strings
# without escapes or interpolation, numbers, punctuation; anything else fails the scan
_TOKEN = re.compile(
    r"""\s*(?:(?P<name>[$@]?[A-Za-z_][A-Za-z0-9_]*)|'(?P<single>[^'\\]*)'|"(?P<double>[^"\\$#{}]*)"
    |(?P<number>\d+(?:\.\d+)?)|(?P<punct>[.(),;\[\]]))\s*""",
    re.VERBOSE,
)


def prints_facts_only(language: str, code: str) -> bool:
    """Whether ``code`` (in ``language``) only prints literals, runtime facts and data fields."""
    table: dict[str, Any] = (registry().inline_scripts or {}).get(language) or {}
    tokens = _scan(code)
    if not table or tokens is None or not tokens:
        return False
    reader = _Reader(tokens, table)
    while reader.more():
        if not reader.statement():
            return False
        if reader.more() and not reader.take(";"):
            return False
    return True


def _scan(code: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(code):
        match = _TOKEN.match(code, position)
        if match is None or match.end() == position:
            return None if code[position:].strip() else tokens
        kind = match.lastgroup or ""
        text = match.group(kind)
        tokens.append(("string" if kind in ("single", "double") else kind, text))
        position = match.end()
    return tokens


class _Reader:
    def __init__(self, tokens: Sequence[tuple[str, str]], table: dict[str, Any]) -> None:
        self.tokens = list(tokens)
        self.index = 0
        self.prints = frozenset(table.get("prints") or ())
        self.facts = frozenset(table.get("facts") or ())
        self.readers = frozenset(table.get("readers") or ())
        self.data_files = tuple(table.get("data_files") or ())

    def more(self) -> bool:
        while self.index < len(self.tokens) and self.tokens[self.index] == ("punct", ";"):
            self.index += 1
        return self.index < len(self.tokens)

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("", "")

    def take(self, punct: str) -> bool:
        if self.peek() == ("punct", punct):
            self.index += 1
            return True
        return False

    def dotted(self) -> str:
        """A name and the ``.field`` parts after it."""
        kind, text = self.peek()
        if kind != "name":
            return ""
        self.index += 1
        while self.peek() == ("punct", ".") and self.index + 1 < len(self.tokens):
            if self.tokens[self.index + 1][0] != "name":
                return ""
            text += "." + self.tokens[self.index + 1][1]
            self.index += 2
        return text

    def statement(self) -> bool:
        start = self.index
        name = self.dotted()
        if name in self.prints:  # console.log(a, b), puts a, print a
            parenthesised = self.take("(")
            if not self.values():
                return False
            return self.take(")") if parenthesised else True
        self.index = start
        return self.value()

    def values(self) -> bool:
        if not self.value():
            return False
        while self.take(","):
            if not self.value():
                return False
        return True

    def value(self) -> bool:
        kind, _ = self.peek()
        if kind in ("string", "number"):
            self.index += 1
            return True
        name = self.dotted()
        if name in self.readers:  # require('./package.json'): a data file, then its fields
            if not (self.take("(") and self._data_file() and self.take(")")):
                return False
            return self._fields()
        return (
            bool(name)
            and any(name == fact or name.startswith(fact + ".") for fact in self.facts)
            and self._fields()
        )

    def _data_file(self) -> bool:
        kind, path = self.peek()
        self.index += 1
        return (  # a credentials file (service-account.json) printed is a credential read
            kind == "string"
            and in_working_folder(path)
            and any(fnmatch.fnmatchcase(posixpath.basename(path), g) for g in self.data_files)
            and "secrets" not in registry().file_classes(path)
        )

    def _fields(self) -> bool:
        """``.name`` parts (and ``['name']``) after a value."""
        while True:
            if self.take("."):
                if self.peek()[0] != "name":
                    return False
                self.index += 1
            elif self.take("["):
                if self.peek()[0] != "string":
                    return False
                self.index += 1
                if not self.take("]"):
                    return False
            else:
                return True
