"""Shell functions of the script: a function's body is read where it is called, with the call's
literal arguments as ``$1``..``$9`` (``q() { psql -c "$1"; }; q "SELECT 1"`` runs that SELECT);
a body never called from this script, or called from a script nested in it, is read once with
its arguments unknown."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from tree_sitter import Node

if TYPE_CHECKING:
    from guardrails_core.intent.shell.words import _Effect, _Feed, _Io, _Out, _Word

# A body that moves or resets its arguments (`shift`, `set -- x`) does not see them as $1..$9.
_MOVES_ARGUMENTS = re.compile(r"\bshift\b|\bset\s+--")
_MOST_CALLS = 16  # bodies read per script: a function calling itself stops here
_POSITIONS = tuple(str(n) for n in range(1, 10))


class _Functions:
    """The walk's view of the script's functions; `walk._Analyzer` inherits this."""

    if TYPE_CHECKING:
        variables: dict[str, str]
        functions: dict[str, tuple[Node, bool]]  # name -> (body, read at a call)
        function_calls: int
        in_body: int  # how many function bodies the walk is inside ("$@" is a call's arguments)

        def node_text(self, node: Node) -> str: ...

        def statement(self, node: Node, io: _Io) -> _Feed | None: ...

        def fact(self, key: str) -> str | None: ...

    def define(self, name: str, body: Node) -> None:
        self.functions[name] = (body, False)

    def call_function(self, name: str, arguments: list[_Word], io: _Io) -> bool:
        """Read the body of this script's function `name` for a call; False when none is known
        here (defined in an enclosing script: its body is read there)."""
        known = self.functions.get(name)
        if known is None:
            return False
        body = known[0]
        self.functions[name] = (body, True)
        self.function_calls += 1
        if self.function_calls > _MOST_CALLS:
            return True  # the body was read at the earlier calls
        bound = not _MOVES_ARGUMENTS.search(self.node_text(body))
        values = [w.value for w in arguments if not w.dynamic and not w.glob]
        before = {position: self.variables.pop(position, None) for position in _POSITIONS}
        if bound and len(values) == len(arguments):
            self.variables.update(zip(_POSITIONS, values, strict=False))
        try:
            self.read_body(body, io)
        finally:
            for position, value in before.items():
                self.variables.pop(position, None)
                if value is not None:
                    self.variables[position] = value
        return True

    def uncalled_functions(self, io: _Io) -> None:
        """Bodies no call of this script read, or called from a nested script (`$(q x)`):
        read once more, their arguments unknown."""
        for name, (body, called) in list(self.functions.items()):
            if not called or self.fact(f"function {name} called inside") is not None:
                self.functions[name] = (body, True)
                self.read_body(body, io)

    def read_body(self, body: Node, io: _Io) -> None:
        self.in_body += 1
        try:
            self.statement(body, io)
        finally:
            self.in_body -= 1


class _Aliases:
    """Aliases of the script (``alias tidy='rm -rf'``): a command starting with one is read as
    the shell reads it, the alias's value in place of the name (``tidy /data`` is ``rm -rf
    /data``). Kept as facts, so a nested script (eval, source) sees them too."""

    if TYPE_CHECKING:
        text: str

        def fact(self, key: str) -> str | None: ...

        def note_fact(self, key: str, value: str) -> None: ...

        def nested_shell(
            self, effect: _Effect, script: str, out: _Out | None = None
        ) -> _Feed | None: ...

    def define_alias(self, name: str, value: str) -> None:
        self.note_fact(f"alias {name}", value)

    def call_alias(self, name: _Word, arguments: list[_Word], effect: _Effect) -> _Feed | bool:
        """The command's output when `name` is an alias (True when it has none); False when it
        is not one. An alias is not expanded again inside its own value (`alias ls='ls -F'`)."""
        key = f"alias {name.value}"
        value = self.fact(key)
        if name.dynamic or not value:
            return False
        self.note_fact(key, "")
        try:
            output = self.nested_shell(effect, f"{value} {self.words_text(arguments)}")
        finally:
            self.note_fact(key, value)
        return True if output is None else output

    def words_text(self, words: list[_Word]) -> str:
        spans = [word.span for word in words]
        if words and all(span is not None for span in spans):
            return self.text[spans[0][0] : spans[-1][1]]  # type: ignore[index]
        return " ".join(word.display if word.dynamic else shlex.quote(word.value) for word in words)
