"""Variable assignments in the walk: what a later ``$NAME`` is (``NAME=literal`` assigned once)
and what ``NAME=value cmd`` puts in the command's environment (``PAGER=``, ``LD_PRELOAD=``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.environment import judge_variable
from guardrails_core.intent.shell.expand import _MKTEMP
from guardrails_core.intent.shell.options import guarded_path
from guardrails_core.intent.shell.startup_files import names_seen_startup
from guardrails_core.intent.shell.words import MAX_DEPTH, _clip, _Effect, _Feed, _Word
from guardrails_core.locations import MKTEMP_PATH
from guardrails_core.model import Intent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from guardrails_core.model import StatementEffect


class _Assignments:
    """The walk's view of assignments; `walk._Analyzer` inherits this."""

    if TYPE_CHECKING:
        depth: int
        text: str
        variables: dict[str, str]
        namerefs: dict[str, str]  # declare -n NAME=TARGET: $NAME is $TARGET
        unstable: frozenset[str]
        produced: dict[str, _Feed]
        links: dict[str, str]
        option_environment: dict[str, str]  # what the command runs with (export, NAME=v cmd)

        def node_text(self, node: Node) -> str: ...

        def word(self, node: Node) -> _Word: ...

        def words(self, nodes: Sequence[Node]) -> list[_Word]: ...

        def remember_output(self, name: str, value: Node) -> bool: ...

        def nested_sql(self, sql: str, dialect: str | None) -> list[StatementEffect]: ...

    def remember(self, assignment: Node) -> None:
        """NAME=literal (or NAME=$(mktemp ...)) assigned once: later $NAME is that value."""
        name_node = assignment.child_by_field_name("name")
        value_node = assignment.child_by_field_name("value")
        if name_node is None:
            return
        name = self.node_text(name_node)
        if name in self.unstable:
            return
        if value_node is None:
            self.variables[name] = ""
            return
        text = self.node_text(value_node)
        if any(child.type == "+=" for child in assignment.children):
            self.append(name, value_node)
            return
        if value_node.type == "array":  # cmd=(dbt run --select x): "${cmd[@]}" is those words
            items = self.words(value_node.named_children)
            # a double-quoted "$X" after the program is one word known at run time (a value)
            values = [_quoted_variables(child) for child in value_node.named_children]
            if len(items) == len(values) and all(
                not item.glob
                and not item.origin  # data (a file, a credential) stays unresolved
                and (not item.dynamic or (index and values[index]))
                for index, item in enumerate(items)
            ):
                self.variables[f"{name}[@]"] = "\0".join(item.value for item in items)
            return
        if _MKTEMP.match(text):
            self.variables[name] = MKTEMP_PATH
            return
        if self.remember_output(name, value_node):
            return
        if "$(" in text or "`" in text:
            return  # built at run time: its substitutions were analysed where they stand
        word = self.word(value_node)
        if word.dynamic:
            # built at run time too, unless only of `${X:?}` guards:
            # WORK="${TMPDIR:?}/run-${ID:?}" is a folder in /tmp
            guarded = guarded_path(word)
            if guarded is not None and not word.glob:
                self.variables[name] = guarded
            return
        if not word.glob and not word.origin:  # a decoded payload keeps where it came from
            self.variables[name] = word.value

    def declare(self, node: Node) -> None:
        """`declare -n target=SCRATCH_DIR`: a later `$target` is `$SCRATCH_DIR`, when the script
        never assigns through the reference (which would change SCRATCH_DIR unseen)."""
        words = [self.node_text(child) for child in node.children[1:]]
        if not any(re.fullmatch(r"-[a-zA-Z]*n[a-zA-Z]*", word) for word in words):
            return
        for child in node.children:
            name, value = child.child_by_field_name("name"), child.child_by_field_name("value")
            if child.type != "variable_assignment" or name is None or value is None:
                continue
            alias, target = self.node_text(name), self.node_text(value)
            # named only here, used only as $alias: nothing assigns, reads or loops through it
            named = re.findall(rf"(?<![$\w{{]){re.escape(alias)}\b", self.text)
            if re.fullmatch(r"[A-Za-z_]\w*", target) and len(named) == 1:
                self.namerefs[alias] = target

    def referenced(self, expansion: str) -> str:
        """`$target` / `${target:?}` as the expansion of the variable a nameref names."""
        found = re.fullmatch(r"(\$\{?)([A-Za-z_]\w*)(.*)", expansion, re.DOTALL)
        if found is None or found.group(2) not in self.namerefs:
            return expansion
        return found.group(1) + self.namerefs[found.group(2)] + found.group(3)

    def append(self, name: str, value_node: Node) -> None:
        """`args+=(rm -r)`, `path+=/x`: the known value grows by literal words; anything else
        makes it unknown from here on."""
        if value_node.type == "array":
            items = self.words(value_node.named_children)
            known = self.variables.get(f"{name}[@]")
            plain = all(not item.dynamic and not item.glob and not item.origin for item in items)
            if known is not None and plain and len(items) == len(value_node.named_children):
                words = [*([known] if known else []), *(item.value for item in items)]
                self.variables[f"{name}[@]"] = "\0".join(words)
                return
        else:
            word = self.word(value_node)
            known = self.variables.get(name)
            if known is not None and not word.dynamic and not word.glob and not word.origin:
                self.variables[name] = known + word.value
                return
        self.variables.pop(name, None)
        self.variables.pop(f"{name}[@]", None)

    def environment(self, effect: _Effect, text: str, *, program: str = "") -> None:
        """``PAGER=... cmd``, ``LD_PRELOAD=... cmd``: a variable that makes the command run code
        (PROGRAM, when known, is the command it is set for)."""
        name, _, value = text.partition("=")
        value = value.strip("'\"")
        self.option_environment[name] = value  # DBT_FULL_REFRESH=true: a program's option
        if name in shell_registry.environment("code"):
            code = value.lstrip("|").replace("%s", "").strip()
            effect.add(Intent.DYNAMIC, f"{name} makes the command run {_clip(code)}")
            if code and self.depth < MAX_DEPTH:
                from guardrails_core.intent.shell.walk import _Analyzer  # walk imports us: late

                effect.embedded.extend(
                    _Analyzer(
                        code, self.depth + 1, self.produced, self.variables, self.links
                    ).run()[0]
                )
        elif name in shell_registry.environment("loader"):
            if names_seen_startup(name, value, self.produced):
                return  # `PSQLRC=/dev/null`: a start-up file whose text is seen
            effect.add(Intent.HOST_ACCESS, f"{name}={_clip(value)} loads code into the command")
        elif name in shell_registry.environment("session"):
            settings = _session_settings(value)
            if settings is None:
                effect.add(Intent.DYNAMIC, f"{name}={_clip(value)} changes server session settings")
            else:  # judged as the SET statements they are (statement_timeout is harmless)
                sets = "".join(f"SET {setting} TO '{to}';\n" for setting, to in settings)
                effect.embedded.extend(self.nested_sql(sets, "postgres"))
        elif name in shell_registry.environment("search_path"):
            writable = shell_registry.environment("writable")
            first = value.split(":", 1)[0]
            if first in writable or first.startswith(tuple(f"{w}/" for w in writable)):
                effect.add(
                    Intent.HOST_ACCESS, f"{name} puts {first} first: the program run may be planted"
                )
        else:
            judge_variable(effect, name, value, program)


def _reassigned(text: str) -> frozenset[str]:
    """Names a script assigns more than once, reads into, loops over or changes in place. An
    append (`args+=(rm -r)`) after the one assignment keeps a name known only in a script
    without branches or loops, where every append runs, in order."""
    counts: dict[str, int] = {}
    appended: set[str] = set()
    for name in re.findall(r"\bprintf\s+-v\s+([A-Za-z_]\w*)", text):  # printf -v NAME
        counts[name] = counts.get(name, 0) + 1
    for match in re.finditer(r"(?:^|[\s;&|(])([A-Za-z_]\w*)(\+?)=", text):
        if match.group(2) and not _BRANCHES.search(text):
            appended.add(match.group(1))
            continue
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    unstable = {name for name, count in counts.items() if count > 1}
    unstable.update(name for name in appended if name not in counts)
    unstable.update(re.findall(r"\bfor\s+([A-Za-z_]\w*)", text))
    for match in re.finditer(
        r"\b(?:read|mapfile|readarray|getopts|let|declare|typeset|local|export|unset)\b([^;&|\n]*)",
        text,
    ):
        # the names declared, not the values (`declare -n ref=TARGET` leaves TARGET as it is)
        unstable.update(re.findall(r"[A-Za-z_]\w*", re.sub(r"=\S*", "", match.group(1))))
    return frozenset(unstable)


_BRANCHES = re.compile(r"\b(?:if|case|while|until|for|select|function)\b|&&|\|\||\(\)")
_SUBSTITUTION_IN = re.compile(rb"\$\(|`")


def _quoted_variables(node: Node) -> bool:
    """A double-quoted word whose only expansions are variables ("models/$MODEL")."""
    return node.type == "string" and all(
        child.type in ("string_content", "simple_expansion", "expansion")
        and not (child.type == "expansion" and _SUBSTITUTION_IN.search(child.text or b""))
        for child in node.named_children
    )


_SESSION_OPTION = re.compile(r"(?:-c\s*|--)([A-Za-z_][\w.]*)=([\w.:/+-]*)")


def _session_settings(value: str) -> list[tuple[str, str]] | None:
    """`-c statement_timeout=60000 --search_path=app`: each (setting, value); None when the
    options hold anything else (a value with quotes or spaces, another option)."""
    settings: list[tuple[str, str]] = []
    rest = value.strip()
    while rest:
        option = _SESSION_OPTION.match(rest)
        if option is None:
            return None
        settings.append((option.group(1), option.group(2)))
        rest = rest[option.end() :].lstrip()
    return settings or None
