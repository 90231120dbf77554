"""Shell words after quote removal, streams between commands, and the effects being built."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, Flag, auto

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from guardrails_core.intent.shell.generated_sql import Generated
from guardrails_core.model import (
    CommandKind,
    Finding,
    Intent,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    StatementEffect,
    sorted_intents,
)

#: Stands for a shell expansion ($X, $(cmd), ...) in word values and in SQL handed to analyze_sql.
EXPANSION_PLACEHOLDER = "__shell_expansion__"
#: Nesting (sh -c in sh -c, SQL in a heredoc in ssh ...) deeper than this is not analysed.
MAX_DEPTH = 4

# py-tree-sitter holds the GIL while parsing (it allocates through PyMem), so one parser is safe
# to share between threads.
_PARSER = Parser(Language(tree_sitter_bash.language()))

# Operation labels for statements that run no program.
_ASSIGNMENT = "(assignment)"
_REDIRECT_ONLY = "(redirect)"
_UNPARSEABLE = "(unparseable)"
_TOO_DEEP = "(too deep)"

_MAX_NAMES = 4  # targets listed in a finding before "and N more"
_MAX_NAME = 80  # characters of one target shown in a finding
_MAX_MESSAGE = 300  # characters of one finding message


# --------------------------------------------------------------------------- words


class _Origin(Flag):
    """Where bytes on a stream (or a substitution's output) come from, as far as we can tell."""

    NONE = 0
    DOWNLOAD = auto()  # fetched from the network
    DECODED = auto()  # decoded from an opaque encoding (base64, hex, rev)
    DUMP = auto()  # a database dump
    DROPS = auto()  # a dump whose SQL drops what it recreates (pg_dump --clean)
    FILE = auto()  # a local file's contents, not visible here
    DATA = auto()  # some program's output, not visible here
    SECRET = auto()  # a credential (a secret manager's value, a live token)
    # its credentials are named values among others (terraform output -json): a field picked
    # out whose name does not say it is one is not one
    NAMED = auto()
    # the bytes of a credentials file (files: secrets), or of a file whose name is not visible
    # here: read whole, not printed as a value, but never plain data to send to another host
    CREDENTIALS = auto()


_PAYLOAD = _Origin.DOWNLOAD | _Origin.DECODED


@dataclass(frozen=True, slots=True)
class _Word:
    """One shell word after quote removal.

    ``value`` has every expansion replaced by EXPANSION_PLACEHOLDER (what option parsing and SQL
    see); ``display`` keeps expansions as written (what people read, and what a nested shell
    re-parses, so ``sh -c "rm -rf $DIR"`` still sees an unknown path).
    """

    value: str
    display: str
    dynamic: bool = False
    glob: bool = False  # unquoted *, ?, [...] or {a,b}: stands for many paths
    origin: _Origin = _Origin.NONE  # what substitutions inside it produce
    source: str = ""  # the substitution that produced it, for findings
    expansions: tuple[str, ...] = ()
    span: tuple[int, int] | None = None
    split: bool = False  # an unquoted expansion: its value is split into words and globbed
    # the files a retention names (find -name '*.dump' -mtime +30, a rotation's older files):
    # old ones of one kind, each deleted whole (rm -r) without sweeping the folder they are in
    retained: bool = False

    @classmethod
    def literal(cls, text: str) -> _Word:
        return cls(text, text)

    @property
    def runs_own_arguments(self) -> bool:
        """``"$@"`` alone, as a command: it runs the command the script was given, which its
        caller shows (a container's CMD), not this script; unknown here, as an image run with
        no visible command is, rather than a command built at run time from unseen values.
        Only in the script itself: in a function body or a nested ``sh -c`` the words are a
        call's arguments, which may be visible and are judged there (dynamic)."""
        return not self.split and self.value == EXPANSION_PLACEHOLDER and self.display == "$@"

    def tail(self, length: int) -> _Word:
        """The word without its first ``length`` characters (an attached option name)."""
        return replace(self, value=self.value[length:], display=self.display[length:], span=None)

    def after(self, separator: str) -> _Word:
        """The part after the first ``separator`` (``--data=@x`` -> ``@x``)."""
        value = self.value.partition(separator)[2]
        display = self.display.partition(separator)[2]
        return replace(self, value=value, display=display, span=None)

    @property
    def unknown_location(self) -> bool:
        """Starts with an expansion, so not even the kind of place it names is known."""
        return self.dynamic and self.value.startswith(EXPANSION_PLACEHOLDER)


def _concat(words: Sequence[_Word], separator: str = "") -> _Word:
    if len(words) == 1 and not separator:
        return words[0]
    spans = [word.span for word in words if word.span]
    return _Word(
        value=separator.join(word.value for word in words),
        display=separator.join(word.display for word in words),
        dynamic=any(word.dynamic for word in words),
        glob=any(word.glob for word in words),
        origin=_merge_origins(word.origin for word in words),
        source=next((word.source for word in words if word.source), ""),
        expansions=tuple(e for word in words for e in word.expansions),
        span=(spans[0][0], spans[-1][1]) if spans else None,
        split=any(word.split for word in words),
    )


def _merge_origins(origins: Iterator[_Origin] | Sequence[_Origin]) -> _Origin:
    merged = _Origin.NONE
    for origin in origins:
        merged |= origin
    return merged


_BRACE_EXPANSION = re.compile(r"\{[^{}\s]*(?:,|\.\.)[^{}\s]*\}")
_DOUBLE_QUOTE_ESCAPE = re.compile(r'\\([$`"\\\n])')
_HEREDOC_ESCAPE = re.compile(r"\\([$`\\\n])")
_ANSI_C_ESCAPE = re.compile(
    r"\\(?:x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.S
)
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def _ansi_c_char(match: re.Match[str]) -> str:
    escape = match.group()[1:]
    head = escape[0]
    if head in "xuU" and len(escape) > 1:
        code = int(escape[1:], 16)
    elif head in "01234567":
        code = int(escape, 8)
    elif head == "c" and len(escape) > 1:
        return chr(ord(escape[1]) & 0x1F)
    else:
        return _SIMPLE_ESCAPES.get(head, match.group())
    # Lone surrogates would make the decision unserialisable; they never name a real file anyway.
    return "\ufffd" if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else chr(code)


def _decode_escapes(text: str) -> str:
    return _ANSI_C_ESCAPE.sub(_ansi_c_char, text) if "\\" in text else text


def _unquote_bare(raw: str) -> tuple[str, bool]:
    """Backslash removal for unquoted text, and whether it globs (an unescaped * ? or [)."""
    if "\\" not in raw:
        return raw, any(char in raw for char in "*?[")
    out: list[str] = []
    glob = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\":
            if index + 1 < len(raw) and raw[index + 1] != "\n":
                out.append(raw[index + 1])
            index += 2
            continue
        glob = glob or char in "*?["
        out.append(char)
        index += 1
    return "".join(out), glob


@dataclass(slots=True)
class _WordBuilder:
    value: list[str] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    bare: list[str] = field(default_factory=list)  # unquoted raw text, to spot brace expansion
    dynamic: bool = False
    glob: bool = False
    origin: _Origin = _Origin.NONE
    sources: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    split: bool = False

    def text(self, text: str) -> None:
        self.value.append(text)
        self.display.append(text)

    def bare_text(self, raw: str) -> None:
        text, glob = _unquote_bare(raw)
        self.bare.append(raw)
        self.glob = self.glob or glob
        self.text(text)

    def known(self, text: str, produced_by: _Feed) -> None:
        """Text known statically that a program produced (a decoded literal): kept, with where
        it came from, so running it is still a payload."""
        self.text(text)
        self.origin |= produced_by.origin
        self.sources.append(produced_by.description)

    def stands_for(self, value: str, written: str) -> None:
        """An expansion whose value is known in kind (`${TMPDIR:?}`: the temp folder)."""
        self.value.append(value)
        self.display.append(written)

    def expansion(self, written: str, origin: _Origin, sources: Sequence[str]) -> None:
        self.value.append(EXPANSION_PLACEHOLDER)
        self.display.append(written)
        self.dynamic = True
        self.origin |= origin
        self.sources.extend(sources)
        self.expansions.append(written)

    def build(self, span: tuple[int, int] | None) -> _Word:
        glob = self.glob or bool(_BRACE_EXPANSION.search("".join(self.bare)))
        return _Word(
            value="".join(self.value),
            display="".join(self.display),
            dynamic=self.dynamic,
            glob=glob,
            origin=self.origin,
            source=self.sources[0] if self.sources else "",
            expansions=tuple(self.expansions),
            span=span,
            split=self.split,
        )


# --------------------------------------------------------------------------- streams


@dataclass(frozen=True, slots=True)
class _Listing:
    """A stream of file names ordered by age (``ls -t DIR/*.dump``): the pattern they match,
    which end comes first, and whether the newest were cut off it (``tail -n +15``)."""

    files: _Word
    newest_first: bool
    keeps_newest: bool = False


@dataclass(frozen=True, slots=True)
class _Feed:
    """What arrives on a command's stdin, or what it writes to stdout."""

    origin: _Origin
    description: str  # for findings: "a heredoc", "curl https://x", "dump.sql"
    literal: _Word | None = None  # the text itself, when it is known statically
    listing: _Listing | None = None  # file names of one kind, by age (shell/rotation.py)
    names: _Word | None = None  # stands for each path a listing prints (shell/listings.py)
    state_of: str | None = None  # the program whose installed state this lists (crontab -l)
    filtered: bool = False  # a filter (grep -v, sed) changed the lines on the way
    generated: Generated | None = None  # SQL a query prints per row (shell/generated_sql.py)
    secrets_of: str | None = None  # the secret files (.env.prod) whose bytes these are

    def followed_by(self, more: _Feed) -> _Feed | None:
        """A file holding this text, then MORE appended (`echo w >> s.ed` after `echo ',d' >
        s.ed`): both texts in order, or None when either text is not known."""
        if self.literal is None or more.literal is None:
            return None
        return _Feed(
            self.origin | more.origin,
            f"{self.description} and {more.description}",
            _concat([self.literal, more.literal]),
        )

    def passed_through(self, program: str) -> _Feed:
        """The same bytes after a filter that changes them (sed, gzip): origin kept, text lost."""
        return _Feed(
            self.origin | _Origin.DATA,
            f"{self.description} via {program}",
            secrets_of=self.secrets_of,
            state_of=self.state_of,
            filtered=True,
        )


class _Out(Enum):
    """Where a command's stdout goes when no redirection of its own sends it to a file."""

    TASK = auto()  # the task's output: its log, which many people can read
    PIPE = auto()  # the next command of a pipeline reads it
    CAPTURED = auto()  # a command substitution captures it
    FILE = auto()  # a redirection of an enclosing construct sends it to a file


@dataclass(frozen=True, slots=True)
class _Io:
    """How the enclosing constructs connect a command: its stdin, inherited redirections and
    where its stdout goes."""

    feed: _Feed | None = None
    redirects: tuple[Node, ...] = ()
    out: _Out = _Out.TASK


@dataclass(frozen=True, slots=True)
class _Write:
    target: _Word
    how: str
    stdout: bool  # the command's stdout goes there (not down a pipe)
    truncates: bool = False  # `>`, not `>>` or `<>`: what the file held is replaced


# --------------------------------------------------------------------------- effects


@dataclass(slots=True)
class _Effect:
    """A statement being built: intents (each with its evidence), objects, embedded statements."""

    text: str
    span: tuple[int, int]
    operation: str = ""
    findings: dict[Intent, list[str]] = field(default_factory=dict)
    objects: dict[tuple[str, str, str], ObjectRef] = field(default_factory=dict)
    embedded: list[StatementEffect] = field(default_factory=list)
    # a database of this host named for tests that the variables in front of the command point
    # it at (`DATABASE_URL=postgresql://localhost/app_test alembic downgrade base`), or the
    # container of this host named for tests it runs in (`docker exec ci-postgres psql`), or ""
    local_test_database: str = ""

    def add(self, intent: Intent, message: str) -> None:
        message = _clip(message, _MAX_MESSAGE)  # a heredoc or a long URL must not flood the UI
        messages = self.findings.setdefault(intent, [])
        if message not in messages:
            messages.append(message)

    def obj(self, kind: ObjectKind, action: ObjectAction, name: str) -> None:
        self.objects.setdefault(
            (kind, action, name), ObjectRef(kind=kind, action=action, name=name)
        )

    def freeze(self, index: int) -> StatementEffect:
        """The frozen statement, with embedded intents, objects and evidence folded in."""
        embedded = tuple(
            inner if inner.index == position else inner.model_copy(update={"index": position})
            for position, inner in enumerate(self.embedded)
        )
        findings = {intent: list(messages) for intent, messages in self.findings.items()}
        objects = dict(self.objects)
        for inner in embedded:
            for finding in inner.findings:
                messages = findings.setdefault(finding.intent, [])
                if finding.message not in messages:
                    messages.append(finding.message)
            for intent in inner.intents:  # an inner analyser may report an intent without evidence
                findings.setdefault(intent, [f"{inner.operation} ({inner.kind.value}) is {intent}"])
            for ref in inner.objects:
                objects.setdefault((ref.kind, ref.action, ref.qualified), ref)
        intents = sorted_intents(set(findings))
        return StatementEffect(
            index=index,
            kind=CommandKind.SHELL,
            text=self.text,
            span=self.span,
            operation=self.operation,
            intents=intents,
            objects=tuple(objects.values()),
            findings=tuple(Finding(intent=i, message="; ".join(findings[i])) for i in intents),
            embedded=embedded,
        )


def _special_statement(
    text: str, kind: CommandKind, operation: str, findings: dict[Intent, str]
) -> StatementEffect:
    intents = sorted_intents(set(findings))
    return StatementEffect(
        index=0,
        kind=kind,
        text=text,
        span=(0, len(text)),
        operation=operation,
        intents=intents,
        findings=tuple(Finding(intent=i, message=findings[i]) for i in intents),
    )


def _too_deep(text: str, kind: CommandKind) -> StatementEffect:
    message = f"nested more than {MAX_DEPTH} levels deep; not analysed"
    findings = {Intent.DYNAMIC: message, Intent.UNPARSEABLE: message}
    return _special_statement(text, kind, _TOO_DEEP, findings)


def _names(words: Sequence[_Word]) -> str:
    if not words:
        return "(nothing)"
    shown = [_clip(word.display, _MAX_NAME) or "''" for word in words[:_MAX_NAMES]]
    if len(words) > _MAX_NAMES:
        shown.append(f"and {len(words) - _MAX_NAMES} more")
    return ", ".join(shown)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
