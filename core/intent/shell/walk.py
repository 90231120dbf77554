"""The tree walk over tree-sitter-bash nodes, and the public entry point `analyze_shell`."""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tree_sitter import Node

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.assignments import _Assignments, _reassigned
from guardrails_core.intent.shell.credentials import _CredentialFlow, _Credentials
from guardrails_core.intent.shell.dumps import note_created_database
from guardrails_core.intent.shell.environment import judge_arguments, production_tests
from guardrails_core.intent.shell.execution import _BRIDGE, _payload, _unknown
from guardrails_core.intent.shell.expand import (
    _EXPANSIONS,
    _OUTPUT_OPERATORS,
    _REDIRECTS,
    _STATEMENT_TYPES,
    _SUBSTITUTIONS,
    _WORD_PIECES,
    _Expander,
    _fields,
)
from guardrails_core.intent.shell.files import (
    _emptied,
    _planted_commands,
    _record_write,
)
from guardrails_core.intent.shell.functions import _Aliases, _Functions
from guardrails_core.intent.shell.history import _history_variable
from guardrails_core.intent.shell.listings import while_loop
from guardrails_core.intent.shell.model_edits import note_model_edits
from guardrails_core.intent.shell.options import _NETWORK_DEVICE, _Call, _canonical
from guardrails_core.intent.shell.parse_errors import (
    _has_error,
    _parseable,
    _without_nested_errors,
)
from guardrails_core.intent.shell.secret_files import note_written
from guardrails_core.intent.shell.tables import _BIDI_CONTROLS, _HANDLERS, program_candidates
from guardrails_core.intent.shell.words import (
    _ASSIGNMENT,
    _PARSER,
    _PAYLOAD,
    _REDIRECT_ONLY,
    _UNPARSEABLE,
    MAX_DEPTH,
    _clip,
    _Effect,
    _Feed,
    _Io,
    _Origin,
    _Out,
    _special_statement,
    _too_deep,
    _Word,
    _Write,
)
from guardrails_core.intent.sql import analyze_sql
from guardrails_core.model import (
    CommandKind,
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
)

_SALVAGEABLE = (
    _WORD_PIECES
    | _EXPANSIONS
    | {"string", "raw_string", "concatenation", "ansi_c_string", "translated_string"}
)


class _Analyzer(_Expander, _CredentialFlow, _Assignments, _Functions, _Aliases):
    """One pass over one script. Statements are emitted into the current sink, in order."""

    def __init__(
        self,
        text: str,
        depth: int,
        produced: dict[str, _Feed] | None = None,
        variables: dict[str, str] | None = None,
        links: dict[str, str] | None = None,
        credentials: _Credentials | None = None,
        out: _Out = _Out.TASK,
    ) -> None:
        self.text = text
        self.depth = depth
        self.source = _parseable(text)
        self.statements: list[StatementEffect] = []
        self.sink = self.statements
        # Files this script wrote from a download or a decoded payload (`curl -o i.sh` before
        # `bash i.sh`), shared with nested scripts: running one later is download-and-execute.
        self.produced: dict[str, _Feed] = produced if produced is not None else {}
        # Variables assigned exactly once, to a literal (DIR=./build) or a fresh temporary folder
        # (tmp=$(mktemp -d)): their uses are that value, not "anything".
        self.variables: dict[str, str] = dict(variables or {})
        # Known substitution output (by position) and text decoded from a literal (by variable).
        self.decoded: dict[str | int, _Feed] = {}
        self.globbed: set[str] = set()  # loop variables bound to a glob pattern's matches
        self.listed_names: dict[int, _Word] = {}  # $(ls DIR) substitutions, by where they start
        # Paths this script made point at others (`ln -s /data ./build`, `mv /data ./x`): a
        # later delete of the path is judged by where it points.
        self.links: dict[str, str] = links if links is not None else {}
        # Scratch tables this script's SQL clients created (`DROP TABLE` of one later is no loss)
        self.scratch_created: set[str] = set()
        self.functions: dict[str, tuple[Node, bool]] = {}  # this script's: read where called
        self.function_calls = 0
        self.in_body = 0
        self.namerefs: dict[str, str] = {}
        self.unstable = _reassigned(text)
        self.unrolled = 0
        self.credentials = credentials if credentials is not None else _Credentials()
        self.out = out  # where this script's stdout goes; in a command, where that command's goes
        # Variables exported, or set in front of the command being judged: options of programs
        # that read their flags from the environment (env_options of the program registry)
        self.option_environment: dict[str, str] = {}

    # ----- positions and text

    @staticmethod
    def chars(start_byte: int, end_byte: int) -> tuple[int, int]:
        """Character offsets of a node: the parsed copy is ASCII, one byte per character."""
        return start_byte, end_byte

    def node_text(self, node: Node) -> str:
        start, end = self.chars(node.start_byte, node.end_byte)
        return self.text[start:end]

    def effect(self, start_byte: int, end_byte: int) -> _Effect:
        start, end = self.chars(start_byte, end_byte)
        text = self.text[start:end]
        stripped = text.strip()
        if stripped and stripped != text:  # error regions start with the separating whitespace
            start += len(text) - len(text.lstrip())
            end = start + len(stripped)
        return _Effect(text=stripped or text, span=(start, end))

    @contextmanager
    def sinking(self, sink: list[StatementEffect]) -> Iterator[None]:
        previous, self.sink = self.sink, sink
        try:
            yield
        finally:
            self.sink = previous

    def emit(self, effect: _Effect) -> None:
        note_model_edits(self, effect)
        self.sink.append(effect.freeze(len(self.sink)))

    # ----- entry

    def run(self) -> tuple[list[StatementEffect], _Feed | None]:
        root = _PARSER.parse(self.source).root_node
        output = self.statement(root, _Io(out=self.out))
        self.uncalled_functions(_Io())
        if _has_error(root) and not any(Intent.UNPARSEABLE in s.intents for s in self.statements):
            effect = self.effect(root.start_byte, root.end_byte)
            effect.operation = _UNPARSEABLE
            effect.add(Intent.UNPARSEABLE, "the script does not parse as bash")
            self.emit(effect)
        return self.statements, output

    # ----- statements

    def statement(self, node: Node, io: _Io) -> _Feed | None:
        kind = node.type
        if kind == "command":
            return self.command(node, (), io, (node.start_byte, node.end_byte))
        if kind == "pipeline":
            return self.pipeline(node, io)
        if kind == "for_statement":
            return self.loop(node, io)
        if kind == "while_statement":
            return while_loop(self, node, io)
        if kind == "redirected_statement":
            return self.redirected(node, io)
        if kind in ("variable_assignment", "variable_assignments"):
            self.bare_statement(node, _ASSIGNMENT, io)
            for assignment in [node] if kind == "variable_assignment" else node.children:
                if assignment.type == "variable_assignment":
                    self.remember(assignment)
            return None
        if kind in ("declaration_command", "unset_command"):
            self.bare_statement(node, node.children[0].type if node.children else kind, io)
            if kind == "declaration_command":
                self.declare(node)
            return None
        if kind == "ERROR":
            self.error(node, io)
            return None
        if kind == "function_definition":
            name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
            if name is not None and body is not None:  # read where it is called
                self.note_fact(f"function {self.node_text(name)}", "defined above")
                self.define(self.node_text(name), body)
                return None
            return self.statement(body, _Io()) if body is not None else None
        if kind == "test_command":
            self.loose(node)
            return None
        return self.compound(node, io)

    def compound(self, node: Node, io: _Io) -> _Feed | None:
        output = None
        for child in node.children:
            if child.is_missing:
                effect = self.effect(node.start_byte, node.end_byte)
                effect.operation = _UNPARSEABLE
                effect.add(Intent.UNPARSEABLE, f"the script is missing {child.type!r}")
                self.emit(effect)
            elif child.type in _STATEMENT_TYPES:
                output = self.statement(child, io)
            elif child.is_named and child.type != "comment":
                self.loose(child)
        return output

    def pipeline(
        self, node: Node, io: _Io, *, last_redirects: tuple[Node, ...] = ()
    ) -> _Feed | None:
        stages = [child for child in node.children if child.type in _STATEMENT_TYPES]
        feed = io.feed
        for position, stage in enumerate(stages):
            last = position == len(stages) - 1
            redirects = (*io.redirects, *last_redirects) if last else ()
            feed = self.statement(stage, _Io(feed, redirects, io.out if last else _Out.PIPE))
        return feed

    def redirected(self, node: Node, io: _Io) -> _Feed | None:
        body = node.child_by_field_name("body")
        redirects = tuple(c for c in node.children if c.type in _REDIRECTS)
        # tree-sitter-bash hangs the rest of a heredoc's line (`| psql`, `&& rm x`) off the
        # heredoc redirect: those are the statements that follow this one.
        tails = [
            (child, name)
            for redirect in redirects
            if redirect.type == "heredoc_redirect"
            for child, name in _fields(redirect)
            if child.type == "pipeline" or name in ("operator", "right")
        ]
        continuations = [child for child, name in tails if name != "operator"]
        end = min((child.start_byte for child, _ in tails), default=node.end_byte)
        if body is None:  # `> /dev/sda`: redirections alone still open (and truncate) files
            output = self.command(node, (), io, (node.start_byte, end))
        elif body.type == "command":
            output = self.command(body, redirects, io, (node.start_byte, end))
        elif body.type == "pipeline":
            output = self.pipeline(body, io, last_redirects=redirects)
        elif body.type == "list" and body.children and body.children[-1].type == "command":
            # bash binds `a && b < f` as `a && (b < f)`; tree-sitter-bash hangs `< f` on the list
            last = body.children[-1]
            for child in body.children[:-1]:
                if child.type in _STATEMENT_TYPES:
                    self.statement(child, io)
            output = self.command(last, redirects, io, (last.start_byte, end))
        else:
            feed, outputs = self.split_redirects(redirects, io.feed)
            output = self.statement(body, _Io(feed, (*io.redirects, *outputs), io.out))
        for child in continuations:
            if child.type == "pipeline" and child.children[0].type in ("|", "|&"):
                output = self.pipeline(child, _Io(output, out=io.out))
            else:
                output = self.statement(child, _Io(out=io.out))
        return output

    def split_redirects(
        self, redirects: Sequence[Node], feed: _Feed | None
    ) -> tuple[_Feed | None, tuple[Node, ...]]:
        """For a compound command: input redirects become its feed, output ones are inherited."""
        scratch = _Effect(text="", span=(0, 0))
        outputs = []
        for redirect in redirects:
            operator = self.redirect_operator(redirect)
            if operator in _OUTPUT_OPERATORS:
                outputs.append(redirect)
            else:
                with self.sinking(scratch.embedded):
                    feed = self.input_redirect(redirect, feed, scratch)
        for inner in scratch.embedded:
            self.sink.append(inner.model_copy(update={"index": len(self.sink)}))
        return feed, tuple(outputs)

    def bare_statement(self, node: Node, operation: str, io: _Io) -> None:
        """Assignments and declarations: no program runs, but substitutions inside them do."""
        effect = self.effect(node.start_byte, node.end_byte)
        effect.operation = operation
        with self.sinking(effect.embedded):
            origin = self.loose(node)
        self.credential_assignment(effect, node, origin, _Out.FILE if io.redirects else io.out)
        if operation == "export":  # every later command runs with it, as with `NAME=v cmd`
            for child in node.children:
                if child.type == "variable_assignment":
                    self.environment(effect, self.node_text(child))
        for child in [node, *node.children]:
            if child.type == "variable_assignment":
                name, _, value = self.node_text(child).partition("=")
                _history_variable(effect, name, value.strip("'\""))
            elif node.type == "unset_command" and child is not node and child.is_named:
                _history_variable(effect, self.node_text(child), None)
        if node.has_error:
            effect.add(Intent.UNPARSEABLE, "the statement does not parse")
        self.emit(effect)

    def error(self, node: Node, io: _Io) -> None:
        """A region tree-sitter could not parse: unparseable, plus what is recognisable in it."""
        effect = self.effect(node.start_byte, node.end_byte)
        effect.operation = _UNPARSEABLE
        effect.add(Intent.UNPARSEABLE, f"cannot parse {_clip(effect.text)!r}")
        run: list[Node] = []
        with self.sinking(effect.embedded):
            for child in [*_without_nested_errors(node), None]:
                if child is not None and child.type in _SALVAGEABLE:
                    run.append(child)
                    continue
                if run:  # loose words: salvage them as a command line
                    salvage = self.effect(run[0].start_byte, run[-1].end_byte)
                    words = self.words(run)
                    self.run_simple(salvage, words, None, assignments=False)
                    self.emit(salvage)
                    run = []
                if child is None:
                    continue
                if child.type in _STATEMENT_TYPES and child.type != "ERROR":
                    self.statement(child, io)
                elif child.is_named:
                    self.loose(child)
        self.emit(effect)

    def loose(self, node: Node) -> _Origin:
        """Words outside a command (for-lists, case values, tests): their substitutions run."""
        origin = _Origin.NONE
        pending = [node]
        while pending:
            current = pending.pop()
            if current.type in _SUBSTITUTIONS:
                origin |= self.substitute(current)[0]
            else:
                pending.extend(reversed(current.children))
        return origin

    # ----- simple commands

    def command(
        self, node: Node, redirects: Sequence[Node], io: _Io, span: tuple[int, int]
    ) -> _Feed | None:
        effect = self.effect(*span)
        assignments: list[Node] = []
        pieces: list[Node] = []
        own: list[Node] = []
        for child in node.children:
            if child.type == "variable_assignment":
                assignments.append(child)
            elif child.type in _REDIRECTS:
                own.append(child)
            elif child.type == "command_name":
                pieces.extend(child.children)
            elif child.type not in ("ERROR", "comment"):
                pieces.append(child)
        flat, extra = self.flatten_redirects([*own, *redirects, *io.redirects])
        prefixed = _Origin.NONE  # what `PGPASSWORD=$(vault ...) psql` puts in the environment
        with self.sinking(effect.embedded):
            for assignment in assignments:
                prefixed |= self.loose(assignment)
            words = self.words([*pieces, *extra])
            if not words:
                for assignment in assignments:
                    self.remember(assignment)
            feed = io.feed
            writes: list[_Write] = []
            for redirect in flat:
                if self.redirect_operator(redirect) in _OUTPUT_OPERATORS:
                    writes.extend(self.output_redirect(redirect))
                else:
                    feed = self.input_redirect(redirect, feed, effect)
        exported = dict(self.option_environment)  # `NAME=v cmd` sets NAME for cmd alone
        if words:
            for assignment in assignments:
                self.environment(effect, self.node_text(assignment), program=words[0].value)
            texts = [self.node_text(assignment) for assignment in assignments]
            production_tests(effect, texts, [word.value for word in words])
        network = any(_NETWORK_DEVICE.match(w.target.value) for w in writes) or bool(
            feed and feed.description.startswith("the network")
        )
        self.out = _Out.FILE if any(write.stdout for write in writes) else io.out
        with self.tracing(words):
            output = self.run_simple(
                effect, words, feed, assignments=bool(assignments), network=network
            )
        self.option_environment = exported
        output = self.credential_output(effect, words, prefixed, feed, output, writes, io.out)
        for write in writes:
            content = output.literal if write.stdout and output is not None else None
            _record_write(effect, write.target, write.how, content)
            if write.truncates and (not words or _is_empty(content)):
                _emptied(effect, write.target, write.how)
            if write.stdout and output is not None:
                self.note_produced(write.target, self.appended(write, output))
            if write.stdout or write.truncates:
                note_written(self, write.target, output, appends=not write.truncates)
            for planted in _planted_commands(write.target, content):  # runs later, unseen
                self.nested_shell(effect, planted, _Out.FILE)
        if any(write.stdout for write in writes):
            output = None  # stdout goes to the file, not down the pipe
        if _has_error(node) or any(_has_error(r) for r in flat) or self.swallows_line(node, flat):
            effect.add(Intent.UNPARSEABLE, f"part of {_clip(effect.text)!r} does not parse")
        if _BIDI_CONTROLS.search(effect.text):
            effect.add(
                Intent.UNPARSEABLE,
                "contains bidirectional control characters, so what is "
                "displayed differs from what runs",
            )
        self.emit(effect)
        return output

    def run_simple(
        self,
        effect: _Effect,
        words: list[_Word],
        feed: _Feed | None,
        *,
        assignments: bool,
        network: bool = False,
    ) -> _Feed | None:
        if not words:
            effect.operation = _ASSIGNMENT if assignments else _REDIRECT_ONLY
            return None
        call = _Call(self, effect, words[0], words[1:], feed, network=network)
        self.dispatch(call)
        return call.stdout

    def dispatch(self, call: _Call) -> None:
        name = call.name
        effect = call.effect
        call.stdout = _Feed(_Origin.DATA, f"the output of {name.display}")
        if name.runs_own_arguments and not (call.args or self.in_body or self.depth):
            effect.operation = name.display
            effect.add(Intent.UNKNOWN, 'runs the command the script was given ("$@")')
            return
        if name.dynamic:
            effect.operation = name.display
            effect.add(Intent.DYNAMIC, f"the program {name.display} is only known at run time")
            if name.origin & _PAYLOAD:
                _payload(call, name.origin, name.source)
            return
        written = name.value
        # (a scoped npm package, `npx @someone/migrate`, is not the program `migrate`)
        program = written if written.startswith("@") else written.rsplit("/", 1)[-1] or written
        effect.operation = program
        if name.origin & _Origin.DECODED:  # a decoded literal: a payload, yet readable
            _payload(call, name.origin, name.source)
        aliased = self.call_alias(name, call.args, effect)
        if aliased:
            call.stdout = None if aliased is True else aliased
            return
        if self.call_function(written, call.args, _Io(feed=call.feed)):
            return  # a shell function of this script: its body is read with the arguments
        if self.fact(f"function {written}") is not None:
            # a function of an enclosing script: it reads the body, its arguments unknown
            self.note_fact(f"function {written} called inside", "arguments unknown")
            return
        if name.glob:
            message = f"the program name {name.display} is a pattern: what runs depends on files"
            effect.add(Intent.DYNAMIC, message)
            for candidate in program_candidates(written):  # `/???/r?` may be /bin/rm
                self.run_inner(
                    call, [_Word.literal(candidate), *call.args], feed=call.feed, transparent=False
                )
            return
        if not written.isascii():
            normal = unicodedata.normalize("NFKC", written)
            if normal != written:
                effect.add(
                    Intent.UNPARSEABLE,
                    f"the program name {written!r} contains look-alike "
                    f"characters (it normalises to {normal!r}); refusing to guess what runs",
                )
                return
        values = [word.value for word in call.args]
        # `export AWS_SECRET_ACCESS_KEY=...` lines: captured for eval, used; printed, judged below
        secret = shell_registry.prints_credentials(program, values)
        if shell_registry.sets_up_shell(program, values) and (
            not secret or self.out is _Out.CAPTURED
        ):
            effect.add(Intent.READ, f"{program} prints shell set-up (variables, completions)")
            origin = _Origin.SECRET if secret else _Origin.NONE
            call.stdout = _Feed(origin, f"the set-up {program} prints", _Word.literal(""))
            return
        handler = _HANDLERS.get(_canonical(program))
        known = shell_registry.lookup(program)
        idle = shell_registry.changes_nothing(program, values) if handler or known else None
        if idle is not None:
            if idle:
                effect.add(Intent.READ, f"{program} {idle}")
            effect.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, program)
            return
        if handler is not None:
            handler(call)
            unexplained = set(effect.findings) <= {Intent.READ, Intent.WRITE}
            if known is not None and unexplained:
                shell_registry.judge(call, known, _BRIDGE)
        elif known is not None:
            shell_registry.judge(call, known, _BRIDGE)
            judge_arguments(effect, program, values)
            if program == "createdb":
                note_created_database(call)
        else:
            _unknown(call)

    def run_inner(
        self, call: _Call, words: list[_Word], *, feed: _Feed | None, transparent: bool
    ) -> StatementEffect:
        """A command run by another (sudo CMD, find -exec CMD): an embedded statement."""
        spans = [word.span for word in words if word.span]
        if spans:
            span = (spans[0][0], spans[-1][1])
            text = self.text[span[0] : span[1]]
        else:
            span, text = call.effect.span, call.effect.text
        # the child inherits the environment the variables in front of the wrapper set
        inner = _Effect(text=text, span=span, local_test_database=call.effect.local_test_database)
        inner_call = _Call(self, inner, words[0], words[1:], feed)
        self.dispatch(inner_call)
        frozen = inner.freeze(len(call.effect.embedded))
        if _is_bare_wrapper(inner):  # sudo nohup timeout 5 CMD: embed CMD once, not 3 layers
            frozen = inner.embedded[0].model_copy(update={"index": len(call.effect.embedded)})
        call.effect.embedded.append(frozen)
        if transparent:
            call.effect.operation = inner.operation
            call.stdout = inner_call.stdout
        return frozen

    # ----- nested analysers

    def appended(self, write: _Write, output: _Feed) -> _Feed:
        """What the file holds after WRITE: an append to a file whose text is known adds to it
        (a text no longer known as a whole is forgotten); else what was written is in it."""
        before = None if write.truncates else self.produced_by(write.target)
        if before is None or before.literal is None:
            return output
        whole = before.followed_by(output)
        if whole is None:
            self.produced.pop(posixpath.normpath(write.target.value), None)
            return output
        return whole

    def nested_shell(self, effect: _Effect, script: str, out: _Out | None = None) -> _Feed | None:
        if self.depth + 1 > MAX_DEPTH:
            effect.embedded.append(_too_deep(script, CommandKind.SHELL))
            return None
        shared = (self.produced, self.variables, self.links, self.credentials)
        statements, output = _Analyzer(
            script, self.depth + 1, *shared, self.out if out is None else out
        ).run()
        effect.embedded.extend(statements)
        return output

    def nested_sql(self, sql: str, dialect: str | None) -> list[StatementEffect]:
        if self.depth + 1 > MAX_DEPTH:
            return [_too_deep(sql, CommandKind.SQL).model_copy(update={"dialect": dialect})]
        try:
            return analyze_sql(sql, dialect, depth=self.depth + 1)
        except Exception as error:  # analyze_sql must not raise; if it does, fail closed here
            message = f"the SQL analyser failed ({type(error).__name__}: {_clip(str(error))})"
            statement = _special_statement(
                sql, CommandKind.SQL, _UNPARSEABLE, {Intent.UNPARSEABLE: message}
            )
            return [statement.model_copy(update={"dialect": dialect})]


def _is_empty(content: _Word | None) -> bool:
    return content is not None and not content.dynamic and content.value == ""


def _is_bare_wrapper(effect: _Effect) -> bool:
    """A transparent wrapper that only ran one inner command and added nothing of its own."""
    return (
        len(effect.embedded) == 1
        and not effect.findings
        and not effect.objects
        and effect.embedded[0].operation == effect.operation
    )


# --------------------------------------------------------------------------- public API


def analyze_shell(text: str, *, depth: int = 0) -> list[StatementEffect]:
    """The effects of every simple command in ``text``, in order. Never raises.

    What cannot be parsed is ``unparseable`` (fail closed) while the rest is still analysed; an
    internal error yields one ``unparseable`` statement that says what went wrong.
    """
    try:
        if depth > MAX_DEPTH:
            return [_too_deep(text, CommandKind.SHELL)]
        statements, _ = _Analyzer(text, depth).run()
        return statements
    except Exception as error:  # the analyser must never take the pipeline down: fail closed
        message = (
            f"the shell analyser failed ({type(error).__name__}: {_clip(str(error), 200)}); "
            "treating the command as unparseable"
        )
        return [
            _special_statement(text, CommandKind.SHELL, _UNPARSEABLE, {Intent.UNPARSEABLE: message})
        ]
