"""Expansion of words and redirections, as a mixin of the tree walk."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from tree_sitter import Node

from guardrails_core.intent.shell.credentials import VARIABLE_USE
from guardrails_core.intent.shell.listings import over_listing
from guardrails_core.intent.shell.options import _NETWORK_DEVICE, _file_read, _words
from guardrails_core.intent.shell.parse_errors import _is_read_write_half
from guardrails_core.intent.shell.words import (
    _DOUBLE_QUOTE_ESCAPE,
    _HEREDOC_ESCAPE,
    _PAYLOAD,
    EXPANSION_PLACEHOLDER,
    _concat,
    _decode_escapes,
    _Effect,
    _Feed,
    _Io,
    _Origin,
    _Out,
    _Word,
    _WordBuilder,
    _Write,
)
from guardrails_core.model import Intent, ObjectAction, ObjectKind, StatementEffect

# Node kinds the walk and the expansion both need.

_STATEMENT_TYPES = _words(
    "program command pipeline list redirected_statement subshell compound_statement "
    "if_statement elif_clause else_clause while_statement for_statement "
    "c_style_for_statement case_statement case_item do_group function_definition "
    "negated_command variable_assignment variable_assignments declaration_command "
    "unset_command test_command ERROR"
)
_SUBSTITUTIONS = _words("command_substitution process_substitution")
_EXPANSIONS = _SUBSTITUTIONS | {"simple_expansion", "expansion", "arithmetic_expansion"}
_REDIRECTS = _words("file_redirect heredoc_redirect herestring_redirect")
_WORD_PIECES = _words(
    "word number extglob_pattern regex variable_name special_variable_name "
    "brace_expression test_operator"
)
_OUTPUT_OPERATORS = _words("> >> &> &>> >| >& <>")
_STDOUT_OPERATORS = _words("> >> &> &>> >|")
_TRUNCATING_OPERATORS = _words("> &> >| >&")


class _Expander:
    """Reading words and redirections: the part of the analyzer that expands text.

    The tree walk (`walk._Analyzer`) inherits this; what it provides is declared here for the
    type checker only.
    """

    if TYPE_CHECKING:
        text: str
        depth: int
        source: bytes
        sink: list[StatementEffect]
        variables: dict[str, str]
        decoded: dict[str | int, _Feed]
        globbed: set[str]
        listed_names: dict[int, _Word]
        produced: dict[str, _Feed]

        @staticmethod
        def chars(start_byte: int, end_byte: int) -> tuple[int, int]: ...

        def node_text(self, node: Node) -> str: ...

        def nested_shell(
            self, effect: _Effect, script: str, out: _Out | None = None
        ) -> _Feed | None: ...

        def holds_credential(self, name: str) -> bool: ...

        def statement(self, node: Node, io: _Io) -> _Feed | None: ...

        def compound(self, node: Node, io: _Io) -> _Feed | None: ...

        links: dict[str, str]
        unrolled: int

        def referenced(self, expansion: str) -> str: ...

    # ----- files written earlier in the script

    def note_produced(self, path: _Word, content: _Feed) -> None:
        """A payload, or text known here (``echo 'DROP ...' > w.sql``), saved in a file: a
        later ``sh w.sql`` or ``mysql < w.sql`` runs what was written."""
        kept = content.origin & (_PAYLOAD | _Origin.SECRET) or content.literal is not None
        kept = kept or content.generated is not None  # SQL a query printed: its template
        if kept and not path.dynamic:
            self.produced[posixpath.normpath(path.value)] = content

    def note_link(self, path: _Word, target: _Word) -> None:
        if not path.dynamic and not target.dynamic:
            self.links[posixpath.normpath(path.value)] = target.value

    def resolve_link(self, path: _Word) -> _Word:
        """The path with a linked or moved prefix replaced by where it points."""
        if path.dynamic or not self.links:
            return path
        normal = posixpath.normpath(path.value)
        for prefix, target in self.links.items():
            if normal == prefix or normal.startswith(prefix.rstrip("/") + "/"):
                value = target.rstrip("/") + normal[len(prefix) :]
                if path.value.endswith("/"):
                    value += "/"
                return _Word(value, f"{path.display} (-> {value})", glob=path.glob, span=path.span)
        return path

    def note_fact(self, key: str, value: str) -> None:
        """Something an earlier command set up (a git remote, staged data files)."""
        self.links[f"\0{key}"] = value  # a NUL never occurs in a path

    def fact(self, key: str) -> str | None:
        return self.links.get(f"\0{key}")

    def produced_by(self, path: _Word) -> _Feed | None:
        return None if path.dynamic else self.produced.get(posixpath.normpath(path.value))

    # ----- loops

    def loop(self, node: Node, io: _Io) -> _Feed | None:
        """``for t in orders customers; do ...``: over a few literal words, the body is read
        once per word with the variable bound (anything else: the variable is unknown)."""
        name, body = node.child_by_field_name("variable"), node.child_by_field_name("body")
        value_nodes = [child for child, field in _fields(node) if field == "value"]
        values = self.words(value_nodes)
        listed = self.listed_names.get(value_nodes[0].start_byte) if len(value_nodes) == 1 else None
        if name is not None and body is not None and listed is not None:
            # for f in $(ls /data): the body runs on every name the listing prints
            return over_listing(self, [self.node_text(name)], listed, node, io)
        literal = values and all(not w.dynamic for w in values) and len(values) <= 8
        if name is None or body is None or not literal:
            return self.compound(node, io)
        variable, output = self.node_text(name), None
        before = self.variables.get(variable)
        for value in values:
            self.unrolled += 1  # nested loops multiply: a budget of body runs per script
            if self.unrolled > _UNROLL_BUDGET:
                self.variables.pop(variable, None)
                output = self.compound(node, io)  # once more, the variable unknown
                break
            self.variables[variable] = value.value
            if value.glob:  # for f in /data/*.parquet: $f is every file the pattern matches
                self.globbed.add(variable)
            output = self.statement(body, io)
            self.globbed.discard(variable)
        self.variables.pop(variable, None)
        if before is not None:
            self.variables[variable] = before
        return output

    # ----- redirections

    @staticmethod
    def redirect_operator(redirect: Node) -> str:
        if redirect.type == "heredoc_redirect":
            return "<<"
        if redirect.type == "herestring_redirect":
            return "<<<"
        if any(_is_read_write_half(child) for child in redirect.children):
            return "<>"
        return next((c.type for c in redirect.children if not c.is_named), ">")

    def flatten_redirects(self, redirects: Sequence[Node]) -> tuple[list[Node], list[Node]]:
        """Redirect nodes (nested ones included) and the command words hiding inside them.

        tree-sitter-bash attaches words that follow a redirect target (``>f b``) or a heredoc
        marker (``<<EOF -d db``) to the redirect; they are arguments of the command.
        """
        flat: list[Node] = []
        extra: list[Node] = []
        for redirect in redirects:
            flat.append(redirect)
            if redirect.type == "heredoc_redirect":
                nested = [c for c in redirect.children if c.type in _REDIRECTS]
                extra.extend(c for c, f in _fields(redirect) if f == "argument")
                more_flat, more_extra = self.flatten_redirects(nested)
                flat.extend(more_flat)
                extra.extend(more_extra)
            elif redirect.type == "file_redirect":
                targets = [c for c, f in _fields(redirect) if f == "destination"]
                for group in self.adjacent_groups(targets)[1:]:
                    extra.extend(group)
        return flat, extra

    def redirect_target(self, redirect: Node) -> _Word | None:
        if redirect.type == "herestring_redirect":
            pieces = [c for c in redirect.children if c.is_named]
        else:
            targets = [c for c, f in _fields(redirect) if f == "destination"]
            groups = self.adjacent_groups(targets)
            pieces = groups[0] if groups else []
        return _concat([self.word(piece) for piece in pieces]) if pieces else None

    def output_redirect(self, redirect: Node) -> list[_Write]:
        operator = self.redirect_operator(redirect)
        target = self.redirect_target(redirect)
        if target is None or (operator in (">&", "<&") and re.fullmatch(r"\d+-?|-", target.value)):
            return []  # duplicating a descriptor writes no file
        descriptor = next(
            (self.node_text(c) for c in redirect.children if c.type == "file_descriptor"), ""
        )
        stdout = operator in _STDOUT_OPERATORS and descriptor in ("", "1")
        how = f"the redirect {descriptor}{operator}"
        return [_Write(target, how, stdout, truncates=operator in _TRUNCATING_OPERATORS)]

    def input_redirect(self, redirect: Node, feed: _Feed | None, effect: _Effect) -> _Feed | None:
        if redirect.type == "heredoc_redirect":
            body = next((c for c in redirect.children if c.type == "heredoc_body"), None)
            text = self.heredoc(redirect, body) if body is not None else _Word.literal("")
            return _Feed(_Origin.NONE, "a heredoc", text)
        target = self.redirect_target(redirect)
        if target is None or re.fullmatch(r"\d+-?|-", target.value):
            return feed  # <&3 duplicates a descriptor
        if target.value == "/dev/null" and redirect.type == "file_redirect":
            return _Feed(_Origin.NONE, "/dev/null", _Word.literal(""))  # nothing to read
        written = self.produced_by(target) if redirect.type == "file_redirect" else None
        if written is not None:  # a file this script wrote above: its text is known
            effect.obj(ObjectKind.FILE, ObjectAction.READ, target.display)
            return written
        if redirect.type == "herestring_redirect":
            return _Feed(_Origin.NONE, "a here-string", _concat([target, _Word.literal("\n")]))
        if target.origin:  # < <(cmd)
            listed = [
                self.listed_names[child.start_byte]
                for child in redirect.children
                if child.start_byte in self.listed_names
            ]
            names = listed[0] if listed else None  # < <(find /data -type f)
            return _Feed(target.origin, target.source or target.display, names=names)
        network = _NETWORK_DEVICE.match(target.value)
        if network:
            effect.obj(ObjectKind.HOST, ObjectAction.READ, network.group(1))
            return _Feed(_Origin.DOWNLOAD, f"the network ({target.display})")
        effect.obj(ObjectKind.FILE, ObjectAction.READ, target.display)
        effect.add(Intent.READ, f"input from {target.display}")
        return _Feed(_file_read(target), target.display)

    def heredoc(self, redirect: Node, body: Node) -> _Word:
        start = next((c for c in redirect.children if c.type == "heredoc_start"), None)
        quoted = start is not None and any(q in self.node_text(start) for q in "'\"\\")
        strip_tabs = any(c.type == "<<-" for c in redirect.children)
        builder = _WordBuilder()
        position = body.start_byte
        for child in [*body.children, None]:
            gap_end = child.start_byte if child is not None else body.end_byte
            if gap_end > position:
                self.heredoc_text(builder, self.slice(position, gap_end), quoted)
            if child is None:
                break
            if child.type in _EXPANSIONS and not quoted:
                self.expansion(child, builder)
            else:
                self.heredoc_text(builder, self.node_text(child), quoted)
            position = child.end_byte
        word = builder.build(self.chars(body.start_byte, body.end_byte))
        if strip_tabs:
            word = replace(word, value=_strip_tabs(word.value), display=_strip_tabs(word.display))
        return word

    @staticmethod
    def heredoc_text(builder: _WordBuilder, text: str, quoted: bool) -> None:
        if not quoted and "\\" in text:
            text = _HEREDOC_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)
        builder.text(text)

    def swallows_line(self, command: Node, redirects: Sequence[Node]) -> bool:
        """A word of the command (or of its heredoc marker) that starts a line of its own, with
        no `\\` continuing the line before: the grammar took the next command as arguments."""
        return any(
            child.type not in _OWN_LINES and self.starts_line(child.start_byte)
            for node in [command, *redirects]
            for child in node.children[1:]
        )

    def starts_line(self, start_byte: int) -> bool:
        """Whether a word starting here begins a line (its own text may start with the break)."""
        before = self.slice(max(0, start_byte - 2), start_byte + 1)
        return "\n" in before[-2:] and not before.startswith("\\\n")

    def slice(self, start_byte: int, end_byte: int) -> str:
        start, end = self.chars(start_byte, end_byte)
        return self.text[start:end]

    # ----- words

    def words(self, nodes: Sequence[Node]) -> list[_Word]:
        """Evaluate word nodes, gluing pieces the grammar split (``$"x"``, ``r\\<newline>m``)."""
        ordered = sorted(nodes, key=lambda n: n.start_byte)
        words: list[_Word] = []
        for group in self.adjacent_groups(ordered):
            expanded = self.brace_expansion(group) or self.field_split(group)
            words.extend(expanded if expanded else [_concat([self.word(n) for n in group])])
        return words

    def adjacent_groups(self, nodes: Sequence[Node]) -> list[list[Node]]:
        groups: list[list[Node]] = []
        for node in nodes:
            if groups and self.source[groups[-1][-1].end_byte : node.start_byte] in (b"", b"\\\n"):
                groups[-1].append(node)
            else:
                groups.append([node])
        return groups

    def brace_expansion(self, group: Sequence[Node]) -> list[_Word] | None:
        """``{rm,-rf,/}`` and ``r{m,}`` expand before anything else runs: expand plain words."""
        raw = self.slice(group[0].start_byte, group[-1].end_byte)
        if "{" not in raw or "," not in raw or not _PLAIN_WORD.fullmatch(raw):
            return None
        texts = _expand_braces(raw)
        if texts == [raw]:
            return None
        span = self.chars(group[0].start_byte, group[-1].end_byte)
        return [
            _Word(text, text, glob=any(c in text for c in "*?["), span=span)
            for text in texts
            if text
        ]

    def field_split(self, group: Sequence[Node]) -> list[_Word] | None:
        """An unquoted ``$X`` whose known value holds IFS characters is several words:
        ``X='rm -rf'; $X /d`` runs rm, and so does ``IFS=,; c=rm,-rf; $c``."""
        node = group[0] if len(group) == 1 else None
        quoted = False
        while node is not None and node.type in ("command_name", "string"):
            if node.named_child_count != 1:
                return None
            quoted = quoted or node.type == "string"
            node = node.named_children[0]
        if node is None or node.type not in ("simple_expansion", "expansion"):
            return None
        array = _WHOLE_ARRAY.fullmatch(self.node_text(node))
        if array is not None and f"{array.group(1)}[@]" in self.variables:
            items = self.variables[f"{array.group(1)}[@]"].split("\0")
            span = self.chars(group[0].start_byte, group[-1].end_byte)
            built = (f"an item of ${{{array.group(1)}[@]}}",)
            return [
                _Word(item, item, dynamic=True, expansions=built, span=span)
                if EXPANSION_PLACEHOLDER in item
                else _Word(item, item, span=span)
                for item in items
            ]
        if quoted:  # "$X" is one word, whatever it holds
            return None
        known = _PLAIN_VARIABLE.fullmatch(self.node_text(node))
        if known is None or known.group(1) not in self.variables:
            return None
        separators = self.variables.get("IFS", " \t\n")
        if not separators:
            return None
        fields = [
            f for f in re.split(f"[{re.escape(separators)}]+", self.variables[known.group(1)]) if f
        ]
        if len(fields) < 2:
            return None
        span = self.chars(group[0].start_byte, group[-1].end_byte)
        decoded = self.decoded.get(known.group(1))
        origin, source = (decoded.origin, decoded.description) if decoded else (_Origin.NONE, "")
        return [
            _Word(f, f, glob=any(c in f for c in "*?["), origin=origin, source=source, span=span)
            for f in fields
        ]

    def word(self, node: Node) -> _Word:
        builder = _WordBuilder()
        self.piece(node, builder)
        return builder.build(self.chars(node.start_byte, node.end_byte))

    def piece(self, node: Node, builder: _WordBuilder) -> None:
        kind = node.type
        if kind in _EXPANSIONS:
            builder.split = True  # outside double quotes
            self.expansion(node, builder)
        elif kind == "raw_string":
            text = self.node_text(node)
            builder.text(text[1:-1] if len(text) > 1 and text.endswith("'") else text[1:])
        elif kind == "ansi_c_string":
            text = self.node_text(node)
            builder.text(_decode_escapes(text[2:-1] if text.endswith("'") else text[2:]))
        elif kind in ("string", "translated_string"):
            self.double_quoted(node, builder)
        elif kind == "concatenation" or (kind == "command_name" and node.children):
            for child in node.children:
                self.piece(child, builder)
        elif kind == "extglob_pattern":
            builder.bare_text(self.node_text(node))
            builder.glob = True
        else:
            builder.bare_text(self.node_text(node))

    def double_quoted(self, node: Node, builder: _WordBuilder) -> None:
        start, end = node.start_byte, node.end_byte
        text = self.node_text(node)
        prefix = 2 if text.startswith('$"') else 1
        position = start + prefix
        stop = end - 1 if len(text) > prefix and text.endswith('"') and end - 1 >= position else end
        for child in node.children:
            if child.start_byte < position or child.end_byte > stop:
                continue  # the quotes themselves
            if child.start_byte > position:
                builder.text(_unescape_double(self.slice(position, child.start_byte)))
            if child.type in _EXPANSIONS:
                self.expansion(child, builder)
            else:
                builder.text(_unescape_double(self.node_text(child)))
            position = child.end_byte
        if stop > position:
            builder.text(_unescape_double(self.slice(position, stop)))

    def expansion(self, node: Node, builder: _WordBuilder) -> None:
        if node.type == "process_substitution" and self.node_text(node).startswith("<("):
            output = self.run_substitution(node)
            if output is not None and output.literal is not None:
                # <(echo 'DROP ...') is a file whose text is known: name it, remember it
                path = _Word.literal(f"/dev/fd/{63 + len(self.produced)}")
                self.note_produced(path, output)
                builder.text(path.value)
                return
            builder.expansion(
                self.node_text(node), self.output_origin(output), [self.node_text(node)]
            )
            return
        text = self.node_text(node)
        # `cmd` without backslashes reads as $(cmd) (with them it is re-read by substitute)
        if node.type == "command_substitution" and (
            text.startswith("$(") or (text.startswith("`") and "\\" not in text)
        ):
            output = self.run_substitution(node)
            literal = output.literal if output is not None else None
            payload = output is not None and bool(output.origin & _PAYLOAD)
            if literal is not None and not literal.dynamic and not payload:
                builder.text(literal.value.rstrip("\n"))  # $(echo 'DROP ...') is that text
                return
            if output is not None and self.decoded_literal(node, output):
                builder.known(literal.value.rstrip("\n") if literal else "", output)
                return
            text = self.node_text(node)
            source = output.description if output is not None else text
            builder.expansion(text, self.output_origin(output), [source])
            return
        known = _PLAIN_VARIABLE.fullmatch(self.referenced(self.node_text(node)))
        if known is not None and known.group(1) in self.decoded:
            builder.known(self.variables[known.group(1)], self.decoded[known.group(1)])
            return
        used = VARIABLE_USE.match(self.node_text(node))
        if used is not None and self.holds_credential(used.group(1)):
            secret = _Origin.DATA | _Origin.SECRET
            builder.expansion(self.node_text(node), secret, [f"the credential in ${used[1]}"])
            return
        if known is not None and known.group(1) in self.variables:
            builder.text(self.variables[known.group(1)])
            builder.glob = builder.glob or known.group(1) in self.globbed
            return
        guarded = _GUARDED_VARIABLE.fullmatch(self.referenced(self.node_text(node)))
        if guarded is not None and self.variables.get(guarded.group(1)):
            # `${X:?msg}` of a variable set to a non-empty value is that value (`X=/`: `/`)
            builder.text(self.variables[guarded.group(1)])
            builder.glob = builder.glob or guarded.group(1) in self.globbed
            return
        if guarded is not None and self.temp_folder(self.node_text(node)):
            builder.stands_for(_TEMP_FOLDER, self.node_text(node))
            return
        origin = _Origin.NONE
        sources: list[str] = []
        pending = [node]
        while pending:  # substitutions inside ${x:-$(cmd)} and $(( $(cmd) )) run too
            current = pending.pop()
            if current.type in _SUBSTITUTIONS:
                found, source = self.substitute(current)
                origin |= found
                sources.append(source)
            else:
                pending.extend(current.children)
        builder.expansion(self.node_text(node), origin, sources)

    def substitute(self, node: Node) -> tuple[_Origin, str]:
        """$(...), `...`, <(...) and >(...) run their commands: analyse them where they are."""
        text = self.node_text(node)
        if text.startswith("`") and "\\" in text:
            # Inside backticks a backslash quotes $ ` \ once more: re-read the unescaped body.
            body = re.sub(r"\\([$`\\])", r"\1", text[1:-1] if text.endswith("`") else text[1:])
            output = self.captured_shell(node, body)
        else:
            output = self.run_substitution(node)
            if output is not None and output.literal is not None and not output.literal.dynamic:
                self.decoded[node.start_byte] = output  # X=$(printf '\x72\x6d'): X is known
        if output is None:
            return _Origin.DATA, text
        return self.output_origin(output), output.description

    def captured_shell(self, node: Node, script: str) -> _Feed | None:
        """SCRIPT run in place of the substitution NODE, its output captured; what it does is
        recorded here, in order."""
        holder = _Effect(text=self.node_text(node), span=self.chars(node.start_byte, node.end_byte))
        output = self.nested_shell(holder, script, _Out.CAPTURED)
        start = len(self.sink)
        nested = enumerate(holder.embedded, start)
        self.sink.extend(effect.model_copy(update={"index": index}) for index, effect in nested)
        return output

    def decoded_literal(self, node: Node, output: _Feed) -> bool:
        """$(echo ZHJvcGRi | base64 -d): a decoded literal is known text, remembered as such."""
        literal = output.literal
        if not output.origin & _Origin.DECODED or literal is None or literal.dynamic:
            return False
        self.decoded[node.start_byte] = output
        return True

    def remember_output(self, name: str, value: Node) -> bool:
        """X=$(printf ...), X=$(... | base64 -d): later $X is that known text (decoded text
        stays marked as decoded)."""
        if value.type == "string" and len(value.named_children) == 1:
            value = value.named_children[0]
        output = self.decoded.get(value.start_byte)
        if value.type != "command_substitution" or output is None or output.literal is None:
            return False
        self.variables[name] = output.literal.value.rstrip("\n")
        if output.origin & _Origin.DECODED:
            self.decoded[name] = output
        return True

    def run_substitution(self, node: Node) -> _Feed | None:
        # >(cmd) reads what the enclosing command writes into it.
        writer = _Feed(_Origin.DATA, "the output of the enclosing command")
        reads = self.node_text(node).startswith(">(")  # and its own output reaches ours
        io = _Io(writer, out=_Out.TASK) if reads else _Io(out=_Out.CAPTURED)
        output = None
        for child in node.children:
            if child.type in _STATEMENT_TYPES:
                output = self.statement(child, io)
        read = [child for child in node.children if child.type == "file_redirect"]
        if output is None and len(read) == 1 and self.redirect_operator(read[0]) == "<":
            # bash's `$(< FILE)` prints FILE as `$(cat FILE)` does: judged as that cat
            targets = [c for c, f in _fields(read[0]) if f == "destination"]
            if targets:
                output = self.captured_shell(node, "cat " + self.node_text(targets[0]))
        if output is not None and output.names is not None and output.names.glob:
            self.listed_names[node.start_byte] = output.names  # for f in $(ls /data)
        return output

    def temp_folder(self, written: str) -> bool:
        """`${TMPDIR:?}` in a top-level script that never sets TMPDIR: the shell stops when it is
        unset or empty, so it is the temp folder the environment gave (`/tmp` stands for it).
        Nested scripts may inherit a TMPDIR their caller set: left unknown."""
        if self.depth or not written.startswith("${TMPDIR:?"):
            return False
        uses = [match.start() for match in re.finditer("TMPDIR", self.text)]
        return all(
            self.text[max(0, at - 2) : at] == "${" or self.text[at - 1 : at] == "$" for at in uses
        )

    @staticmethod
    def output_origin(output: _Feed | None) -> _Origin:
        """$(echo x) is known text; anything else is some program's output, not visible here."""
        if output is None:
            return _Origin.DATA
        return output.origin if output.literal else output.origin | _Origin.DATA


_WHOLE_ARRAY = re.compile(r"\$\{([A-Za-z_]\w*)\[[@*]\]\}")
_UNROLL_BUDGET = 32  # loop bodies read per script: nested loops over literals would multiply
_PLAIN_VARIABLE = re.compile(r"\$\{?([A-Za-z_]\w*|[1-9])\}?")  # $1..$9: a function's arguments
_GUARDED_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*):?\?[^}]*\}")
_TEMP_FOLDER = "/tmp"
_OWN_LINES = frozenset(("heredoc_body", "heredoc_end", "comment"))  # start a line by nature
_MKTEMP = re.compile(r"^[\"']?(?:\$\(|`)\s*mktemp\b[^|;&]*(?:\)|`)[\"']?$")


def _fields(node: Node) -> list[tuple[Node, str | None]]:
    return [(child, node.field_name_for_child(i)) for i, child in enumerate(node.children)]


_PLAIN_WORD = re.compile(r"[^'\"$`\\\s]+")
_BRACE_LIST = re.compile(r"\{([^{}]*,[^{}]*)\}")
_MAX_EXPANSION = 64


def _expand_braces(text: str) -> list[str]:
    """Comma brace expansion (``a{b,c}d`` -> ``abd acd``), innermost lists first."""
    match = _BRACE_LIST.search(text)
    if match is None:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    expanded: list[str] = []
    for option in match.group(1).split(","):
        expanded.extend(_expand_braces(head + option + tail))
        if len(expanded) >= _MAX_EXPANSION:
            break
    return expanded[:_MAX_EXPANSION]


def _unescape_double(text: str) -> str:
    if "\\" not in text:
        return text
    return _DOUBLE_QUOTE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def _strip_tabs(text: str) -> str:
    return "\n".join(line.lstrip("\t") for line in text.split("\n"))
