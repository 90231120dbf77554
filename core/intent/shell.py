"""Shell -> statement effects: what each simple command of a shell script will do when it runs.

Parser: tree-sitter-bash: the full bash grammar (heredocs, case, functions, substitutions),
error recovery that marks unparseable regions (ERROR/MISSING) so we fail closed, and C speed
(~10 µs a command). bashlex is unmaintained since 2023 and rejects common constructs.

Every detection is data (the program tables near the end) plus one small handler function.
Spans of embedded statements are relative to the text their own analysis saw: the same script
for wrapped commands (``sudo rm``), the inner script for ``sh -c``/``eval``/``ssh``, the SQL text
for SQL.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Flag, auto
from urllib.parse import urlsplit

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from guardrails_core.intent import shell_registry
from guardrails_core.intent.sql import analyze_sql
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

__all__ = ["EXPANSION_PLACEHOLDER", "MAX_DEPTH", "analyze_shell"]

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
    FILE = auto()  # a local file's contents, not visible here
    DATA = auto()  # some program's output, not visible here


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

    @classmethod
    def literal(cls, text: str) -> _Word:
        return cls(text, text)

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

    def text(self, text: str) -> None:
        self.value.append(text)
        self.display.append(text)

    def bare_text(self, raw: str) -> None:
        text, glob = _unquote_bare(raw)
        self.bare.append(raw)
        self.glob = self.glob or glob
        self.text(text)

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
        )


# --------------------------------------------------------------------------- streams


@dataclass(frozen=True, slots=True)
class _Feed:
    """What arrives on a command's stdin, or what it writes to stdout."""

    origin: _Origin
    description: str  # for findings: "a heredoc", "curl https://x", "dump.sql"
    literal: _Word | None = None  # the text itself, when it is known statically

    def passed_through(self, program: str) -> _Feed:
        """The same bytes after a filter that changes them (sed, gzip): origin kept, text lost."""
        return _Feed(self.origin | _Origin.DATA, f"{self.description} via {program}")


@dataclass(frozen=True, slots=True)
class _Io:
    """How the enclosing constructs connect a command: its stdin and inherited redirections."""

    feed: _Feed | None = None
    redirects: tuple[Node, ...] = ()


@dataclass(frozen=True, slots=True)
class _Write:
    target: _Word
    how: str
    stdout: bool  # the command's stdout goes there (not down a pipe)


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


# --------------------------------------------------------------------------- options


@dataclass(slots=True)
class _Parsed:
    """A command line split into options (with their values) and operands."""

    options: list[tuple[str, _Word | None]] = field(default_factory=list)
    operands: list[_Word] = field(default_factory=list)
    after_dashdash: int | None = None  # index in operands where the words after `--` start
    unknown: bool = False  # an option word built at run time: it could be any option

    def has(self, *names: str) -> bool:
        return any(name in names for name, _ in self.options)

    def values(self, *names: str) -> list[_Word]:
        return [value for name, value in self.options if name in names and value is not None]


def _parse(
    args: Sequence[_Word],
    takes_value: frozenset[str] = frozenset(),
    *,
    attached_only: frozenset[str] = frozenset(),
    clusters: bool = True,
    first_operand_ends: bool = False,
) -> _Parsed:
    """getopt-style parsing: ``-abc`` clusters, ``-ovalue``, ``--long=value``, ``--``.

    ``attached_only`` options take a value only when it is glued on (``mysql -pSECRET``);
    ``first_operand_ends`` stops at the first operand (wrappers: the rest is the inner command).
    """
    parsed = _Parsed()
    index = 0
    while index < len(args):
        word = args[index]
        text = word.value
        if text == "--":
            parsed.after_dashdash = len(parsed.operands)
            parsed.operands.extend(args[index + 1 :])
            break
        if not text.startswith("-") or text == "-":
            parsed.operands.append(word)
            if first_operand_ends:
                parsed.operands.extend(args[index + 1 :])
                break
            index += 1
            continue
        parsed.unknown = parsed.unknown or word.dynamic
        following = args[index + 1] if index + 1 < len(args) else None
        if text.startswith("--"):
            name, equals, _ = text.partition("=")
            if equals:
                parsed.options.append((name, word.after("=")))
            elif name in takes_value and following is not None:
                parsed.options.append((name, following))
                index += 1
            else:
                parsed.options.append((name, None))
        elif text in takes_value or not clusters:
            if text in takes_value and following is not None:
                parsed.options.append((text, following))
                index += 1
            else:
                parsed.options.append((text, None))
        else:
            for position in range(1, len(text)):
                option = "-" + text[position]
                if option in takes_value or option in attached_only:
                    if position + 1 < len(text):
                        parsed.options.append((option, word.tail(position + 1)))
                    elif option in takes_value and following is not None:
                        parsed.options.append((option, following))
                        index += 1
                    else:
                        parsed.options.append((option, None))
                    break
                parsed.options.append((option, None))
        index += 1
    return parsed


def _options(*names: str) -> frozenset[str]:
    return frozenset(names)


def _words(text: str) -> frozenset[str]:
    """A table of names written as one whitespace-separated string."""
    return frozenset(text.split())


# --------------------------------------------------------------------------- paths and places

_SCRATCH_ROOTS = ("/tmp/", "/var/tmp/")
_HARMLESS_DEVICES = _words(
    "/dev/null /dev/zero /dev/stdout /dev/stderr /dev/stdin /dev/tty /dev/full "
    "/dev/random /dev/urandom /dev/ptmx"
)
_HARMLESS_DEVICE_DIRS = ("/dev/fd/", "/dev/pts/", "/dev/shm/", "/dev/mqueue/")
_NETWORK_DEVICE = re.compile(r"^/dev/(?:tcp|udp)/([^/]+)/")
_PRIVILEGED_FILE = re.compile(
    r"^/etc/(?:sudoers(?:\.d/.*)?|passwd|shadow|group|gshadow|pam\.d/.*|security/.*)$"
    r"|(?:^|/)\.ssh/authorized_keys2?$"
)
_SYSTEM_PREFIXES = ("/etc/", "/usr/", "/bin/", "/sbin/", "/boot/", "/lib/", "/lib64/", "/root/")
_URL_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*://")
_SCP_REMOTE = re.compile(r"^(?:[^@/:\s]+@)?(\[[^\]]+\]|[^@/:\s]+):")
_RCLONE_REMOTE = re.compile(r"^:?[\w.\- ]+:")
_AZURE_HOSTS = (".blob.core.windows.net", ".dfs.core.windows.net", ".file.core.windows.net")


def _is_scratch(word: _Word) -> bool:
    """A literal path strictly inside /tmp/ or /var/tmp/, or a relative build or cache folder."""
    if word.dynamic:
        return False
    path = word.value
    if shell_registry.is_scratch(path):
        return True
    root = next((root for root in _SCRATCH_ROOTS if path.startswith(root)), None)
    if root is None:
        return False
    parts = [part for part in path[len(root) :].split("/") if part not in ("", ".")]
    # `.*` can match `..` in older bashes, so a glob on a dot-name is not confined either.
    climbs = any(part == ".." or (word.glob and part.startswith(".")) for part in parts)
    return bool(parts) and not climbs


def _is_workspace(word: _Word) -> bool:
    """A literal relative path that stays inside the working folder."""
    path = word.value
    if word.dynamic or word.glob or path.startswith(("/", "~")):
        return False
    return ".." not in path.split("/")


def _is_device(path: str) -> bool:
    return (
        path.startswith("/dev/")
        and path not in _HARMLESS_DEVICES
        and not path.startswith(_HARMLESS_DEVICE_DIRS)
    )


def _url_basename(text: str) -> str:
    """The file name a downloader saves a URL as."""
    try:
        path = urlsplit(text).path
    except ValueError:
        path = text
    return posixpath.basename(path) or "index.html"


def _url_host(text: str) -> str:
    try:
        return urlsplit(text).hostname or text
    except ValueError:
        return text


_Location = tuple[ObjectKind, str]


def _scp_location(word: _Word) -> _Location | None:
    if _URL_SCHEME.match(word.value):
        return ObjectKind.URL, word.display
    match = _SCP_REMOTE.match(word.value)
    return (ObjectKind.HOST, match.group(1).strip("[]")) if match else None


def _prefix_location(prefixes: tuple[str, ...]) -> Callable[[_Word], _Location | None]:
    def locate(word: _Word) -> _Location | None:
        return (ObjectKind.URL, word.display) if word.value.startswith(prefixes) else None

    return locate


def _azure_location(word: _Word) -> _Location | None:
    if word.value.startswith("https://") and _url_host(word.value).endswith(_AZURE_HOSTS):
        return ObjectKind.URL, word.display
    return None


def _rclone_location(word: _Word) -> _Location | None:
    if _URL_SCHEME.match(word.value) or not _RCLONE_REMOTE.match(word.value):
        return None
    return ObjectKind.URL, word.display


# --------------------------------------------------------------------------- one command


@dataclass(slots=True)
class _Call:
    """One simple command being analysed: its words, stdin, and the statement it feeds."""

    analyzer: _Analyzer
    effect: _Effect
    name: _Word
    args: list[_Word]
    feed: _Feed | None
    stdout: _Feed | None = None
    network: bool = False  # a redirect connects it to /dev/tcp or /dev/udp

    @property
    def prog(self) -> str:
        return self.effect.operation

    def add(self, intent: Intent, message: str) -> None:
        self.effect.add(intent, message)

    def obj(self, kind: ObjectKind, action: ObjectAction, name: str) -> None:
        self.effect.obj(kind, action, name)

    def stdin(self) -> str:
        return f"stdin ({self.feed.description})" if self.feed else "stdin"


_Handler = Callable[[_Call], None]


# ----- deletes, devices, writes, privilege


def _delete(
    call: _Call,
    targets: Sequence[_Word],
    description: str,
    *,
    bulk: bool,
    kind: ObjectKind = ObjectKind.FILE,
) -> None:
    """Record a delete; recursive/bulk or wildcard deletes outside scratch space are mass."""
    call.add(Intent.DELETE, description)
    for target in targets:
        call.obj(kind, ObjectAction.DELETE, target.display)
        if kind is ObjectKind.FILE:
            _special_file(call.effect, target, call.prog, writes=True)
    devices = [t for t in targets if not t.dynamic and _is_device(t.value)]
    if devices:
        _device_damage(
            call.effect, devices, f"{call.prog} destroys the contents of {_names(devices)}"
        )
    wildcard = kind is not ObjectKind.FILE  # cloud CLIs expand * themselves, even quoted
    wide = [
        t
        for t in targets
        if (bulk or t.glob or (wildcard and "*" in t.value)) and not _is_scratch(t)
    ]
    if wide:
        where = " (not confined to /tmp/ or /var/tmp/)" if kind is ObjectKind.FILE else ""
        call.add(Intent.MASS_MUTATION, f"bulk delete of {_names(wide)}{where}")


def _device_damage(effect: _Effect, targets: Sequence[_Word], message: str) -> None:
    effect.add(Intent.HOST_ACCESS, message)
    effect.add(Intent.MASS_MUTATION, message)
    for target in targets:
        effect.obj(ObjectKind.FILE, ObjectAction.WRITE, target.display)


def _record_write(effect: _Effect, target: _Word, how: str, content: _Word | None = None) -> None:
    """A file written by a redirect, tee, dd of=, curl -o ...: devices and auth files are worse."""
    path = target.value
    if not target.dynamic and (path in _HARMLESS_DEVICES or path.startswith("/dev/fd/")):
        return
    if target.display.startswith((">(", "<(")):
        return  # a process substitution: the command inside is analysed on its own
    network = _NETWORK_DEVICE.match(path)
    if network:
        effect.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, network.group(1))
        effect.add(Intent.EXPORT, f"{how} sends data to {network.group(1)} through {path}")
        return
    if _is_device(path):
        _device_damage(effect, [target], f"{how} writes raw data to the device {target.display}")
        return
    effect.obj(ObjectKind.FILE, ObjectAction.WRITE, target.display)
    effect.add(Intent.WRITE, f"{how} writes {target.display}")
    if _PRIVILEGED_FILE.search(path):
        effect.add(
            Intent.PRIVILEGE, f"{how} writes {target.display}, which controls logins or sudo"
        )
    _special_file(effect, target, how, writes=True, content=content)


# Lines that a startup file may gain without running anything new: comments, plain exports of
# variables that load no code, and psql display settings.
_HARMLESS_STARTUP_LINE = re.compile(
    r"^\s*(?:#.*|export\s+(?P<name>[A-Za-z_]\w*)=\S*|\\(?:timing|pset|x|encoding)\b.*"
    r"|\\set\s+(?:ON_ERROR_STOP|ECHO|VERBOSITY|HISTSIZE|PROMPT\d)\b.*)?\s*$"
)


def _harmless_startup(content: _Word | None) -> bool:
    if content is None or content.dynamic:
        return False
    for line in content.value.splitlines():
        match = _HARMLESS_STARTUP_LINE.match(line)
        if match is None:
            return False
        name = match.group("name")
        if name and (
            name in shell_registry.environment("code")
            or name in shell_registry.environment("loader")
            or name in shell_registry.environment("search_path")
        ):
            return False
    return True


def _special_file(
    effect: _Effect, target: _Word, how: str, *, writes: bool, content: _Word | None = None
) -> None:
    """Startup, trust, credential and database files mean more than their bytes (data table)."""
    classes = shell_registry.file_classes(target.value)
    name = target.display
    if writes and "startup" in classes and not _harmless_startup(content):
        effect.add(Intent.HOST_ACCESS, f"{how} writes {name}, which runs as code later")
    if writes and "privileged" in classes:
        effect.add(Intent.PRIVILEGE, f"{how} writes {name}, which decides who is trusted")
    if writes and "data" in classes:
        effect.add(Intent.MASS_MUTATION, f"{how} changes {name}, a database server's own file")
        effect.add(Intent.HOST_ACCESS, f"{how} changes {name}, a database server's own file")
    if not writes and "secrets" in classes:
        effect.add(Intent.PRIVILEGE, f"{how} reads {name}, which holds credentials")


def _rm(call: _Call) -> None:
    parsed = _parse(call.args)
    recursive = parsed.unknown or parsed.has("-r", "-R", "--recursive")
    verb = "rm -r" if recursive else "rm"
    how = " recursively" if recursive else ""
    targets = parsed.operands
    _delete(call, targets, f"{verb} deletes {_names(targets)}{how}", bulk=recursive)


def _plain_delete(call: _Call) -> None:
    targets = _parse(call.args).operands
    _delete(call, targets, f"{call.prog} deletes {_names(targets)}", bulk=False)


def _shred(call: _Call) -> None:
    targets = _parse(call.args, _words("-n --iterations -s --size")).operands
    _delete(call, targets, f"shred destroys the contents of {_names(targets)}", bulk=True)


def _truncate(call: _Call) -> None:
    parsed = _parse(call.args, _words("-s --size -r --reference"))
    sizes = [size.value for size in parsed.values("-s", "--size")]
    if sizes and all(size.lstrip("=") in ("0", "-0") for size in sizes):
        targets = parsed.operands
        _delete(call, targets, f"truncate -s 0 empties {_names(targets)}", bulk=False)
        return
    for target in parsed.operands:
        _record_write(call.effect, target, "truncate")


def _find(call: _Call) -> None:
    """find ROOTS... EXPRESSION: -delete and -exec act on every match under the roots."""
    args = call.args
    split = next(
        (i for i, w in enumerate(args) if w.value.startswith(("-", "(", "!", ")"))), len(args)
    )
    roots = list(args[:split]) or [_Word.literal(".")]
    call.add(Intent.READ, f"find lists files under {_names(roots)}")
    for root in roots:
        call.obj(ObjectKind.FILE, ObjectAction.READ, root.display)
    # Each match is a path under one of the roots, so scratch roots keep their matches scratch;
    # so do matches that every -name test confines to build or cache litter (*.pyc, __pycache__).
    names = [
        args[i + 1].value
        for i in range(split, len(args) - 1)
        if args[i].value in ("-name", "-iname") and not args[i + 1].dynamic
    ]
    litter = (
        bool(names)
        and "-o" not in (w.value for w in args)
        and all(shell_registry.is_scratch(f"./{name}") for name in names)
    )
    matches = [
        _Word(
            f"{root.value.rstrip('/')}/{names[0] if litter else '*'}",
            f"{root.display.rstrip('/')}/**",
            dynamic=root.dynamic,
            glob=not litter,
        )
        for root in roots
    ]
    index = split
    while index < len(args):
        action = args[index].value
        if action == "-delete":
            _delete(
                call, matches, f"find -delete deletes every match under {_names(roots)}", bulk=True
            )
        elif action in ("-fprint", "-fprint0", "-fls", "-fprintf") and index + 1 < len(args):
            _record_write(call.effect, args[index + 1], f"find {action}")
        elif action in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next(
                (j for j in range(index + 1, len(args)) if args[j].value in (";", "+")), len(args)
            )
            inner: list[_Word] = []
            for word in args[index + 1 : end]:
                found = [replace(match, span=word.span) for match in matches]
                inner.extend(found if word.value == "{}" else [word])
            if inner:
                effect = call.analyzer.run_inner(call, inner, feed=None, transparent=False)
                if Intent.DELETE in effect.intents:
                    _delete(
                        call,
                        matches,
                        f"find {action} {effect.operation} deletes every match"
                        f" under {_names(roots)}",
                        bulk=True,
                    )
            index = end
        index += 1


# git settings whose value is a command git runs (or a folder of hooks it runs).
_GIT_COMMAND_KEYS = re.compile(
    r"^(?:core\.(?:pager|sshcommand|fsmonitor|editor|askpass|gitproxy)|sequence\.editor|"
    r"diff\.external|diff\.\w+\.(?:command|textconv)|credential\.helper|gpg\.program|"
    r"pager\.\w+|filter\.[\w.-]+\.(?:clean|smudge|process)|uploadpack\.packobjectshook|"
    r"merge\.\w+\.driver|alias\.[\w.-]+)$"
)
_GIT_CODE_FOLDERS = re.compile(r"^(?:core\.hookspath|protocol\.ext\.allow|init\.templatedir)$")


def _git_setting(call: _Call, key: str, value: _Word, *, persistent: bool) -> None:
    lowered = key.lower()
    where = "in git's configuration" if persistent else "for this run"
    if _GIT_CODE_FOLDERS.match(lowered):
        call.add(Intent.HOST_ACCESS, f"git {key}={value.display} {where} lets git run other code")
        return
    if not _GIT_COMMAND_KEYS.match(lowered):
        return
    command = value.value
    if lowered.startswith("alias.") and not command.startswith("!"):
        return  # an alias of other git subcommands
    call.add(Intent.DYNAMIC, f"git {key} {where} runs {_clip(command)}")
    if persistent:
        call.add(Intent.HOST_ACCESS, f"git {key} is stored: it runs later, unseen")
    _script(call, _Word.literal(command.lstrip("!")), f"git {key}")


_GIT_DISCARDS = {
    "reset": _options("--hard", "--merge", "--keep"),
    "checkout": _options("--", ".", "-f", "--force"),
    "restore": _options(".", "--staged", "--worktree", "-W"),
    "stash": _options("clear", "drop"),
}


def _git(call: _Call) -> None:
    parsed = _parse(call.args, _words("-C -c --git-dir --work-tree"), first_operand_ends=True)
    for setting in parsed.values("-c"):
        key, _, value = setting.value.partition("=")
        _git_setting(call, key, _Word.literal(value), persistent=False)
    if not parsed.operands:
        return
    verb, rest = parsed.operands[0].value, parsed.operands[1:]
    if verb == "config":
        words = [w for w in rest if not w.value.startswith("-")]
        if len(words) >= 2:
            _git_setting(call, words[0].value, words[1], persistent=True)
        return
    if verb == "push":
        options = {w.value.split("=", 1)[0] for w in rest if w.value.startswith("-")}
        if options & {
            "--force",
            "-f",
            "--force-with-lease",
            "--mirror",
            "--delete",
            "-d",
            "--prune",
        } or any(w.value.startswith(("+", ":")) for w in rest):
            call.add(Intent.DELETE, "git push rewrites or deletes history on the remote")
            call.add(
                Intent.MASS_MUTATION, "git push --force/--delete/--mirror replaces remote history"
            )
        return
    if verb in ("remote", "submodule") and any(w.value in ("add", "set-url") for w in rest):
        call.add(Intent.UNKNOWN, f"git {verb} points the repository at another remote")
        return
    if verb in _GIT_DISCARDS and any(w.value in _GIT_DISCARDS[verb] for w in rest):
        call.add(Intent.UNKNOWN, f"git {verb} discards uncommitted work")
        return
    if verb != "clean":
        return
    clean = _parse(parsed.operands[1:], _options("-e", "--exclude"))
    if clean.has("-n", "--dry-run"):
        return
    where = clean.operands or [_Word.literal(".")]
    written = " ".join(word.display for word in parsed.operands[1:])
    _delete(
        call, where, f"git clean {written} deletes untracked files under {_names(where)}", bulk=True
    )


def _dd(call: _Call) -> None:
    operands = {w.value.partition("=")[0]: w.after("=") for w in call.args if "=" in w.value}
    source, target = operands.get("if"), operands.get("of")
    if source is not None:
        call.obj(ObjectKind.FILE, ObjectAction.READ, source.display)
        call.add(Intent.READ, f"dd reads {source.display}")
        call.stdout = _Feed(_Origin.FILE, source.display)
    elif call.feed is not None:
        call.stdout = call.feed
    if target is not None:
        _record_write(call.effect, target, "dd of=")
        call.stdout = None


@dataclass(frozen=True, slots=True)
class _DeviceTool:
    """A partitioning/formatting tool: destructive unless run in one of its read-only modes."""

    read_only: frozenset[str] = frozenset()  # options or operands that only inspect
    destructive: frozenset[str] | None = None  # when set, only these options destroy


def _device_tool(call: _Call) -> None:
    tool = _DEVICE_TOOLS[_canonical(call.prog)]
    parsed = _parse(call.args, _words("-t --type -L --label -b -o -O"))
    words = {name for name, _ in parsed.options} | {w.value for w in parsed.operands}
    harmless = (tool.destructive is not None and not words & tool.destructive) or bool(
        words & tool.read_only
    )
    targets = [w for w in parsed.operands if w.value.startswith("/dev/") or w.dynamic]
    disks = _names(targets) if targets else "the disks"
    if harmless:
        call.add(Intent.READ, f"{call.prog} inspects {disks}")
        return
    message = f"{call.prog} rewrites {disks}, destroying filesystems or partitions"
    _device_damage(call.effect, targets, message)


def _chmod(call: _Call) -> None:
    parsed = _parse(call.args, _options("--reference"))
    if not parsed.operands:
        return
    mode, *targets = parsed.operands
    for target in targets:
        call.obj(ObjectKind.FILE, ObjectAction.ALTER, target.display)
    call.add(Intent.WRITE, f"chmod {mode.display} changes permissions of {_names(targets)}")
    risky = _risky_mode(mode.value)
    if risky:
        call.add(Intent.PRIVILEGE, f"chmod {mode.display} " + risky.format(_names(targets)))


def _risky_mode(mode: str) -> str | None:
    """What is dangerous about a chmod mode, if anything: world-writable or set-id bits."""
    if mode.isdigit():
        digits = mode.zfill(4)[-4:]
        if int(digits[-1]) & 2:
            return _WORLD_WRITABLE
        return _SET_ID if int(digits[0]) & 6 else None
    for clause in mode.split(","):
        match = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not match or match.group(2) == "-":
            continue
        who, _, perms = match.groups()
        if "s" in perms:
            return _SET_ID
        if "w" in perms and ("o" in who or "a" in who):
            return _WORLD_WRITABLE
    return None


_WORLD_WRITABLE = "makes {} world-writable"
_SET_ID = "sets set-user/group-id bits on {}"


def _chown(call: _Call) -> None:
    parsed = _parse(call.args, _options("--reference", "--from"))
    if not parsed.operands:
        return
    owner, *targets = parsed.operands
    for target in targets:
        call.obj(ObjectKind.FILE, ObjectAction.ALTER, target.display)
        _special_file(call.effect, target, call.prog, writes=True)
    call.add(Intent.WRITE, f"{call.prog} {owner.display} changes ownership of {_names(targets)}")
    recursive = parsed.has("-R", "--recursive")
    risky = [
        target
        for target in targets
        if (recursive and (target.dynamic or _is_top_level(target.value)))
        or (not target.dynamic and target.value.startswith(_SYSTEM_PREFIXES))
    ]
    if risky:
        how = " recursively" if recursive else ""
        call.add(Intent.PRIVILEGE, f"{call.prog} hands {_names(risky)} to {owner.display}{how}")


def _is_top_level(path: str) -> bool:
    """``/`` itself or a directory right under it (/data, /etc)."""
    return path.startswith("/") and path.rstrip("/").count("/") <= 1


def _privilege_tool(call: _Call) -> None:
    call.add(Intent.PRIVILEGE, f"{call.prog} changes users, passwords, groups or sudo rights")


def _host_control(call: _Call) -> None:
    if call.prog in ("systemctl", "service"):
        verbs = {w.value for w in _parse(call.args).operands}
        if not verbs or verbs & _SYSTEMCTL_READ_ONLY:
            return
    call.add(Intent.HOST_ACCESS, f"{call.prog} changes the state of the host")


# ----- uploads and downloads


def _export(
    call: _Call,
    destinations: Sequence[_Location],
    payload: Sequence[_Word],
    tool: str,
    *,
    sent_remote: Sequence[str] = (),
    to: str | None = None,
) -> None:
    """Record data leaving: ``payload`` local files ("-" is stdin) sent to ``destinations``."""
    sent: list[str] = list(sent_remote)
    for word in payload:
        if word.value == "-":
            sent.append(call.stdin())
        else:
            call.obj(ObjectKind.FILE, ObjectAction.READ, word.display)
            sent.append(word.display)
    for kind, name in destinations:
        call.obj(kind, ObjectAction.EXPORT_TARGET, name)
    where = to or ", ".join(name for _, name in destinations) or "a remote destination"
    call.add(Intent.EXPORT, f"{tool} uploads {', '.join(sent) or 'data'} to {where}")


def _transfer(
    call: _Call,
    operands: Sequence[_Word],
    locate: Callable[[_Word], _Location | None],
    tool: str,
) -> _Location | None:
    """``tool SOURCE... DEST``: an export when DEST is remote, a download when a source is.

    A destination that starts with an expansion could be anywhere: it counts as remote.
    """
    if len(operands) < 2:
        return None
    *sources, dest = operands
    where = locate(dest) or ((ObjectKind.URL, dest.display) if dest.unknown_location else None)
    if where is not None:
        local = [s for s in sources if locate(s) is None]
        remote = [found for s in sources if (found := locate(s)) is not None]
        for kind, name in remote:
            call.obj(kind, ObjectAction.READ, name)
        _export(
            call, [where], local, tool, sent_remote=[name for _, name in remote], to=dest.display
        )
        return where
    remote_sources = [s for s in sources if locate(s) is not None]
    if remote_sources:
        for source in remote_sources:
            kind, name = locate(source) or (ObjectKind.URL, source.display)
            call.obj(kind, ObjectAction.READ, name)
        call.add(Intent.READ, f"{tool} downloads {_names(remote_sources)}")
    else:
        for source in sources:
            call.obj(ObjectKind.FILE, ObjectAction.READ, source.display)
        call.add(Intent.READ, f"{tool} reads {_names(sources)}")
    fetched = _Feed(_Origin.DOWNLOAD, f"{tool} {_names(sources)}")
    if dest.value == "-":
        call.stdout = fetched
        return None
    _record_write(call.effect, dest, tool)
    for source in sources:
        content = fetched if locate(source) else call.analyzer.produced_by(source)
        if content is not None:  # into DEST itself, or into DEST/ when it is a directory
            call.analyzer.note_produced(dest, content)
            name = (
                _url_basename(source.value) if locate(source) else posixpath.basename(source.value)
            )
            call.analyzer.note_produced(
                replace(dest, value=posixpath.join(dest.value, name)), content
            )
    return None


_CURL_VALUES = _words(
    "-A -b -c -C -d -D -e -E -F -H -K -m -o -P -Q -r -t -T -u -U -w -x -X -y -Y -z "
    "--data --data-ascii --data-binary --data-raw --data-urlencode --json --form "
    "--form-string --upload-file --request --header --output --user --user-agent "
    "--referer --cookie --cookie-jar --proxy --max-time --connect-timeout --write-out "
    "--config --cert --key --cacert --capath --range --retry --retry-delay "
    "--retry-max-time --continue-at --proxy-user --url --limit-rate --resolve "
    "--output-dir --dump-header --trace --trace-ascii --stderr --interface "
    "--max-filesize --oauth2-bearer --aws-sigv4 --variable --connect-to"
)
_CURL_DATA = _words("-d --data --data-ascii --data-binary --json")
_CURL_FORM = _options("-F", "--form")
_CURL_FORM_FILE = re.compile(r"^[^=]*=[@<]")


_CURL_CARRIERS = _words("-H --header -A --user-agent -e --referer -b --cookie -u --user")


def _leaks(words: Sequence[_Word], origins: _Origin) -> list[_Word]:
    """Request parts built from local data (``-d "$(cat f)"``, ``?q=$(cat /etc/passwd)``)."""
    return [
        _Word.literal(f"the output of {word.source or word.display}")
        for word in words
        if word.origin & origins
    ]


def _curl(call: _Call) -> None:
    parsed = _parse(call.args, _CURL_VALUES)
    urls = parsed.operands + parsed.values("--url")
    payload: list[_Word] = []
    for value in parsed.values("-T", "--upload-file"):
        payload.append(_Word.literal("-") if value.value in ("-", ".") else value)
    for value in parsed.values(*_CURL_DATA):
        if value.value.startswith("@"):
            payload.append(value.tail(1))
    for value in parsed.values("--data-urlencode"):
        if re.match(r"^[^=]*@", value.value):
            payload.append(value.after("@"))
    for value in parsed.values(*_CURL_FORM):
        if _CURL_FORM_FILE.match(value.value):
            path = re.split(r"[@<]", value.value, maxsplit=1)[1].split(";")[0]
            payload.append(_Word.literal(path))
    bodies = parsed.values(*_CURL_DATA, "--data-raw", "--data-urlencode", *_CURL_FORM)
    payload.extend(_leaks(bodies, _Origin.FILE | _Origin.DUMP | _Origin.DATA))
    method = next((m.value.upper() for m in parsed.values("-X", "--request")), "")
    if method == "DELETE":
        call.add(Intent.DELETE, f"curl -X DELETE asks {_names(urls)} to delete what it names")
        call.add(Intent.MASS_MUTATION, f"an HTTP DELETE of {_names(urls)} removes it whole")
        for url in urls:
            call.obj(ObjectKind.URL, ObjectAction.DELETE, url.display)
    if any(_BULK_HTTP_DELETE.search(url.value) for url in urls):
        call.add(Intent.MASS_MUTATION, f"{_names(urls)} deletes every document its query matches")
    _sql_in_payloads(call, [*bodies, *urls])
    payload.extend(_leaks([*urls, *parsed.values(*_CURL_CARRIERS)], _Origin.FILE | _Origin.DUMP))
    if payload:
        destinations = [(ObjectKind.URL, url.display) for url in urls]
        _export(call, destinations, payload, "curl")
    else:
        for url in urls:
            call.obj(ObjectKind.URL, ObjectAction.READ, url.display)
        call.add(Intent.READ, f"curl fetches {_names(urls)}")
    outputs = parsed.values("-o", "--output")
    fetched = _Feed(_Origin.DOWNLOAD, f"curl {_names(urls)}")
    for output in outputs:
        if output.value != "-":
            _record_write(call.effect, output, "curl -o")
            call.analyzer.note_produced(output, fetched)
    if parsed.has("-O", "--remote-name", "--remote-name-all"):
        for url in urls:
            call.analyzer.note_produced(_Word.literal(_url_basename(url.value)), fetched)
    saved = parsed.has("-O", "--remote-name", "--remote-name-all") or any(
        o.value != "-" for o in outputs
    )
    call.stdout = None if saved else fetched


# Database HTTP APIs whose endpoint deletes in bulk (Elasticsearch/OpenSearch delete-by-query).
_BULK_HTTP_DELETE = re.compile(r"/_delete_by_query\b|/_truncate\b|/_flush_all\b")
_SQL_START = re.compile(
    r"(?is)^\s*(?:select|insert|update|delete|drop|truncate|alter|create|grant|revoke|with|merge|"
    r"copy|unload|call|exec|execute|replace|rename|optimize|vacuum|attach|detach|kill|system)\b"
)
_SQL_FIELDS = re.compile(
    r"(?i)[\"'](?:statement|query|sql|command|stmt|q)[\"']\s*:\s*\"((?:[^\"\\]|\\.)*)\""
    r"|(?:^|[?&])(?:query|q|sql)=([^&]+)"
)


def _sql_in_payloads(call: _Call, words: Sequence[_Word]) -> None:
    """SQL sent over HTTP (ClickHouse, InfluxQL, Databricks, Trino REST): analysed as SQL."""
    from urllib.parse import unquote_plus

    for word in words:
        text = word.value
        candidates = [text] if _SQL_START.match(text) else []
        for match in _SQL_FIELDS.finditer(text):
            found = match.group(1) if match.group(1) is not None else unquote_plus(match.group(2))
            candidates.append(found.replace('\\"', '"'))
        for sql in candidates:
            if _SQL_START.match(sql):
                call.effect.embedded.extend(call.analyzer.nested_sql(sql, None))


_WGET_VALUES = _words(
    "-O --output-document -o --output-file -a --append-output -i --input-file -P "
    "--directory-prefix -U --user-agent --header --post-data --post-file --body-data "
    "--body-file --method -t --tries -T --timeout -w --wait --user --password -e "
    "--execute -B --base"
)


def _wget(call: _Call) -> None:
    parsed = _parse(call.args, _WGET_VALUES)
    urls = parsed.operands
    carriers = parsed.values("--post-data", "--body-data", "--header")
    payload = parsed.values("--post-file", "--body-file")
    payload += _leaks([*urls, *carriers], _Origin.FILE | _Origin.DUMP)
    if payload:
        _export(call, [(ObjectKind.URL, url.display) for url in urls], payload, "wget")
    else:
        for url in urls:
            call.obj(ObjectKind.URL, ObjectAction.READ, url.display)
        call.add(Intent.READ, f"wget fetches {_names(urls)}")
    call.stdout = None
    fetched = _Feed(_Origin.DOWNLOAD, f"wget {_names(urls)}")
    outputs = parsed.values("-O", "--output-document")
    for output in outputs:
        if output.value == "-":
            call.stdout = fetched
        else:
            _record_write(call.effect, output, "wget -O")
            call.analyzer.note_produced(output, fetched)
    if not outputs:
        prefix = "".join(w.value for w in parsed.values("-P", "--directory-prefix"))
        for url in urls:
            name = posixpath.join(prefix, _url_basename(url.value))
            call.analyzer.note_produced(_Word.literal(name), fetched)


def _httpie(call: _Call) -> None:
    urls = [w for w in _parse(call.args).operands if "://" in w.value or "." in w.value][:1]
    files = [w.after("@") for w in call.args if re.match(r"^[\w-]+=?@", w.value)]
    if files or (call.feed is not None and call.feed.literal is None):
        _export(
            call,
            [(ObjectKind.URL, u.display) for u in urls],
            files or [_Word.literal("-")],
            call.prog,
        )
    else:
        call.add(Intent.READ, f"{call.prog} fetches {_names(urls)}")
    call.stdout = _Feed(_Origin.DOWNLOAD, f"{call.prog} {_names(urls)}")


_SCP_VALUES = _words("-P -i -o -F -c -l -J -S -D -X")
_RSYNC_VALUES = _words(
    "-e --rsh -f --filter --exclude --include --exclude-from --include-from --files-from "
    "--port -T --temp-dir --log-file --password-file --bwlimit --chmod --chown -B "
    "--block-size --timeout --compare-dest --copy-dest --link-dest --backup-dir --suffix "
    "--rsync-path --out-format --max-size --min-size -M --remote-option --partial-dir"
)


def _scp(call: _Call) -> None:
    _transfer(call, _parse(call.args, _SCP_VALUES).operands, _scp_location, "scp")


def _rsync(call: _Call) -> None:
    parsed = _parse(call.args, _RSYNC_VALUES)
    _transfer(call, parsed.operands, _scp_location, "rsync")
    if len(parsed.operands) < 2:
        return
    for option, _ in parsed.options:
        if option.startswith("--del") or option == "--remove-source-files":
            sources = option == "--remove-source-files"
            removed = parsed.operands[:-1] if sources else parsed.operands[-1:]
            what = "the source files" if sources else "files missing from the source"
            _delete(
                call, removed, f"rsync {option} removes {what} from {_names(removed)}", bulk=True
            )


def _ftp_commands(call: _Call, script: _Word | None, host: str | None, tool: str) -> None:
    """sftp/ftp/lftp command scripts: put/mput/mirror -R send local files to the server."""
    if host:
        call.obj(ObjectKind.HOST, ObjectAction.EXECUTE, host)
    if script is None:
        return
    sent: list[_Word] = []
    for line in re.split(r"[\n;]", script.value):
        words = line.split()
        if not words:
            continue
        verb = words[0].lower()
        if verb in _FTP_UPLOADS:
            sent.extend(_Word.literal(word) for word in words[1:2])
        elif verb == "mirror" and len(words) > 2 and words[1] in ("-R", "--reverse"):
            sent.append(_Word.literal(words[2]))
    if sent:
        _export(call, [(ObjectKind.HOST, host or "the server")], sent, tool)
    if script.dynamic:
        call.add(Intent.DYNAMIC, f"the {tool} commands are built at run time")


_FTP_UPLOADS = _words("put mput reput send append")


def _ftp_family(call: _Call) -> None:
    parsed = _parse(
        call.args,
        _words("-b -P -i -o -F -e -c -u -p -l -D -s -B -R -S -J"),
    )
    targets = [w for w in parsed.operands if not w.value.isdigit()]
    host = None
    if targets:
        location = _scp_location(targets[0])
        host = location[1] if location else _url_host(targets[0].value).rpartition("@")[2]
    scripts = parsed.values("-e", "-c") if call.prog == "lftp" else []
    batch = parsed.values("-b") if call.prog == "sftp" else []
    if batch and batch[0].value != "-":
        call.obj(ObjectKind.FILE, ObjectAction.READ, batch[0].display)
        call.add(Intent.DYNAMIC, f"sftp runs commands from {batch[0].display}, not visible here")
    script = scripts[0] if scripts else (call.feed.literal if call.feed else None)
    if script is None and call.feed is not None:
        call.add(Intent.DYNAMIC, f"{call.prog} runs commands from {call.feed.description}")
    _ftp_commands(call, script, host, call.prog)


_NC_VALUES = _words(
    "-p -s -w -i -x -X -e -c -q -W -I -O -T -V --exec --sh-exec --lua-exec --source-port"
)


def _netcat(call: _Call) -> None:
    parsed = _parse(call.args, _NC_VALUES)
    listening = parsed.has("-l", "--listen")
    hosts = [] if listening else [w for w in parsed.operands[:1] if not w.value.isdigit()]
    for host in hosts:
        call.obj(
            ObjectKind.HOST,
            ObjectAction.EXPORT_TARGET if call.feed else ObjectAction.READ,
            host.display,
        )
    where = _names(hosts) if hosts else "whoever connects"
    shells = parsed.values("-e", "-c", "--exec", "--sh-exec", "--lua-exec")
    if shells:
        message = f"{call.prog} hands {_names(shells)} to the network ({where}): a remote shell"
        call.add(Intent.HOST_ACCESS, message)
        call.add(Intent.DYNAMIC, message)
    if call.feed is not None:
        call.add(Intent.EXPORT, f"{call.prog} sends {call.stdin()} to {where}")
    call.stdout = _Feed(_Origin.DOWNLOAD, f"{call.prog} {where}")


def _socat(call: _Call) -> None:
    addresses = _parse(call.args, _words("-d -lf -t -T"), clusters=False).operands
    network = [
        a for a in addresses if re.match(r"(?i)^(tcp|udp|sctp|openssl|ssl)[46]?[-:]", a.value)
    ]
    local = [a for a in addresses if re.match(r"(?i)^(file|open|gopen|create|pipe):", a.value)]
    execs = [a for a in addresses if re.match(r"(?i)^(exec|system):", a.value)]
    hosts = [a.value.split(":")[1] for a in network if a.value.count(":") >= 2]
    for host in hosts:
        call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
    where = ", ".join(hosts) or "whoever connects"
    if network and execs:
        message = f"socat connects {_names(execs)} to the network ({where}): a remote shell"
        call.add(Intent.HOST_ACCESS, message)
        call.add(Intent.DYNAMIC, message)
    if network and (local or call.feed is not None):
        sent = [a.after(":") for a in local] or [_Word.literal("-")]
        _export(call, [(ObjectKind.HOST, h) for h in hosts], sent, "socat")
    listeners = [a for a in addresses if re.match(r"(?i)^(tcp|udp|sctp)[46]?-listen:", a.value)]
    if listeners and len(network) >= 2:
        call.add(Intent.EXPORT, f"socat relays {_names(listeners)} to {where}: a tunnel")
    call.stdout = _Feed(_Origin.DOWNLOAD, f"socat {where}")


def _mail(call: _Call) -> None:
    parsed = _parse(call.args, _words("-a -A -s -c -b -r -S -F"))
    attachments = parsed.values("-a", "-A")
    if attachments:
        recipients = [(ObjectKind.URL, f"mailto:{r.display}") for r in parsed.operands]
        _export(call, recipients, attachments, call.prog)


_AWS_GLOBAL = _words(
    "--profile --region --endpoint-url --output --query --cli-read-timeout "
    "--cli-connect-timeout --ca-bundle --color"
)
_AWS_S3_VALUES = _words(
    "--exclude --include --acl --storage-class --sse --sse-kms-key-id --content-type "
    "--expires --metadata-directive --grants --cache-control --profile --region "
    "--endpoint-url --expected-size --metadata --page-size --source-region "
    "--content-encoding --content-disposition --website-redirect"
)
_S3 = _prefix_location(("s3://",))
_GS = _prefix_location(("gs://",))


def _cloud_copy(
    call: _Call,
    verb: str,
    args: Sequence[_Word],
    locate: Callable[[_Word], _Location | None],
    values: frozenset[str],
    tool: str,
) -> None:
    """cp/mv/sync/rm of the cloud CLIs (aws s3, gsutil, gcloud storage, azcopy, rclone)."""
    parsed = _parse(args, values)
    operands = parsed.operands
    recursive = parsed.has("--recursive", "-r", "-R", "-a", "--all-versions")
    if verb in _CLOUD_COPY:
        _transfer(call, operands, locate, f"{tool} {verb}")
        sweeping = [
            name
            for name, value in parsed.options
            if name in _CLOUD_SYNC_DELETES and (value is None or value.value.lower() != "false")
        ]
        if verb in ("sync", "rsync") and (sweeping or tool == "rclone") and len(operands) >= 2:
            _delete(
                call,
                operands[-1:],
                f"{tool} {verb} {' '.join(sweeping)} removes files"
                f" missing from the source in {operands[-1].display}",
                bulk=True,
                kind=ObjectKind.URL if locate(operands[-1]) else ObjectKind.FILE,
            )
        if verb in ("mv", "move", "moveto") and len(operands) >= 2:
            _delete(
                call,
                operands[:-1],
                f"{tool} {verb} removes the source {_names(operands[:-1])}",
                bulk=recursive,
                kind=ObjectKind.URL if locate(operands[0]) else ObjectKind.FILE,
            )
    elif verb in _CLOUD_DELETE:
        bulk = recursive or parsed.has("--force") or (tool == "rclone" and verb != "deletefile")
        _delete(
            call,
            operands,
            f"{tool} {verb} deletes {_names(operands)}",
            bulk=bulk,
            kind=ObjectKind.URL,
        )
    elif verb == "cat":
        for operand in operands:
            call.obj(ObjectKind.URL, ObjectAction.READ, operand.display)
        call.add(Intent.READ, f"{tool} cat reads {_names(operands)}")
        call.stdout = _Feed(_Origin.DOWNLOAD, f"{tool} cat {_names(operands)}")
    elif verb == "rcat" and operands:
        _export(call, [(ObjectKind.URL, operands[0].display)], [_Word.literal("-")], f"{tool} rcat")


_CLOUD_COPY = _words("cp copy copyto mv move moveto sync rsync bisync")
_CLOUD_DELETE = _words("rm rb remove delete deletefile purge rmdirs")
_CLOUD_SYNC_DELETES = _words(
    "--delete -d --delete-unmatched-destination-objects --delete-destination"
)


def _aws(call: _Call) -> None:
    operands = _parse(call.args, _AWS_GLOBAL, first_operand_ends=True).operands
    if len(operands) < 2:
        return
    service, verb = operands[0].value, operands[1].value
    if service == "s3":
        _cloud_copy(call, verb, operands[2:], _S3, _AWS_S3_VALUES, "aws s3")
    elif service == "s3api":
        parsed = _parse(operands[2:], _words("--bucket --key --body --delete"))
        bucket = "".join(w.display for w in parsed.values("--bucket"))
        key = "".join(w.display for w in parsed.values("--key"))
        target = [_Word.literal(f"s3://{bucket}/{key}".rstrip("/"))]
        if verb == "put-object" and parsed.values("--body"):
            _export(
                call,
                [(ObjectKind.URL, target[0].display)],
                parsed.values("--body"),
                "aws s3api put-object",
            )
        elif verb.startswith("delete-"):
            _delete(
                call,
                target,
                f"aws s3api {verb} deletes {target[0].display}",
                bulk=verb in ("delete-objects", "delete-bucket"),
                kind=ObjectKind.URL,
            )


def _gsutil(call: _Call) -> None:
    parsed = _parse(call.args, _words("-o -h -u -i -p"), first_operand_ends=True)
    if parsed.operands:
        verb = parsed.operands[0].value
        _cloud_copy(call, verb, parsed.operands[1:], _GS, _words("-x -p -z -j -s"), "gsutil")


def _gcloud(call: _Call) -> None:
    values = _words("--project --account --configuration --format --verbosity")
    operands = _parse(call.args, values, first_operand_ends=True).operands
    if len(operands) >= 2 and operands[0].value == "storage":
        _cloud_copy(
            call, operands[1].value, operands[2:], _GS, values | {"--exclude"}, "gcloud storage"
        )


def _azcopy(call: _Call) -> None:
    operands = _parse(call.args, first_operand_ends=True).operands
    if operands:
        verb = {"cp": "copy", "rm": "remove"}.get(operands[0].value, operands[0].value)
        _cloud_copy(
            call,
            verb,
            operands[1:],
            _azure_location,
            _options("--include-pattern", "--exclude-pattern", "--log-level"),
            "azcopy",
        )


def _rclone(call: _Call) -> None:
    values = _words(
        "--config --exclude --include --filter --transfers --checkers --log-file "
        "--log-level --bwlimit --max-age"
    )
    operands = _parse(call.args, values, first_operand_ends=True).operands
    if operands:
        _cloud_copy(call, operands[0].value, operands[1:], _rclone_location, values, "rclone")


# ----- stdout producers and filters


def _echo(call: _Call) -> None:
    args = list(call.args)
    escapes = False
    while args and re.fullmatch(r"-[neE]+", args[0].value):
        escapes = escapes or "e" in args[0].value
        args.pop(0)
    text = _concat([_concat(args, " "), _Word.literal("\n")]) if args else _Word.literal("\n")
    if escapes:
        text = replace(
            text, value=_decode_escapes(text.value), display=_decode_escapes(text.display)
        )
    call.stdout = _Feed(_Origin.NONE, call.prog, text)


def _printf(call: _Call) -> None:
    args = list(call.args)
    if args and args[0].value == "-v":
        return  # assigns a variable, prints nothing
    if not args or args[0].dynamic:
        call.stdout = _Feed(_Origin.DATA, "printf with a format built at run time")
        return
    fmt, values = _decode_escapes(args[0].value), args[1:]
    pieces: list[_Word] = []
    for index, piece in enumerate(re.split(r"%[-+ #0-9.]*[a-zA-Z%]", fmt)):
        if index:
            pieces.append(values.pop(0) if values else _Word.literal(""))
        pieces.append(_Word.literal(piece))
    call.stdout = _Feed(_Origin.NONE, "printf", _concat(pieces))


def _cat(call: _Call) -> None:
    files = [w for w in _parse(call.args).operands if w.value != "-"]
    if not files:
        call.stdout = call.feed
        return
    for file in files:
        call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        _special_file(call.effect, file, call.prog, writes=False)
    call.add(Intent.READ, f"{call.prog} reads {_names(files)}")
    call.stdout = _Feed(_Origin.FILE, _names(files))


def _tee(call: _Call) -> None:
    for target in _parse(call.args).operands:
        _record_write(call.effect, target, "tee")
        if call.feed is not None:
            call.analyzer.note_produced(target, call.feed)
    call.stdout = call.feed


def _passthrough(call: _Call) -> None:
    call.stdout = call.feed


@dataclass(frozen=True, slots=True)
class _Reader:
    """A program that reads files: ``skip`` leading operands are not files (grep's pattern)."""

    skip: int = 0
    value_options: frozenset[str] = frozenset()
    pattern_options: frozenset[str] = frozenset()  # when given, no operand is skipped
    in_place: frozenset[str] = frozenset()  # options that make it rewrite its files (sed -i)


def _reader(call: _Call) -> None:
    reader = _READERS[call.prog]
    parsed = _parse(call.args, reader.value_options | reader.pattern_options)
    skip = 0 if parsed.has(*reader.pattern_options) else reader.skip
    program, files = parsed.operands[:skip], parsed.operands[skip:]
    if call.prog in ("awk", "gawk", "mawk", "nawk") and any(
        "system(" in p.value or re.search(r"\|\s*(getline|\")", p.value) for p in program
    ):
        call.add(Intent.DYNAMIC, f"the {call.prog} program runs shell commands")
    if call.prog in ("awk", "gawk") and any("/inet" in p.value for p in program):
        call.add(Intent.EXPORT, f"the {call.prog} program opens a network connection (/inet)")
    if call.prog == "sed":
        _sed_commands(call, program + parsed.values("-e", "--expression"))
    if parsed.has(*reader.in_place):
        for file in files:
            _record_write(call.effect, file, f"{call.prog} -i")
        call.stdout = None
        return
    if not files:
        call.stdout = call.feed.passed_through(call.prog) if call.feed else None
        if call.prog in ("ls", "du", "tree", "stat"):
            call.add(Intent.READ, f"{call.prog} lists the current directory")
        return
    for file in files:
        call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        _special_file(call.effect, file, call.prog, writes=False)
    call.add(Intent.READ, f"{call.prog} reads {_names(files)}")
    call.stdout = _Feed(_Origin.FILE, f"{call.prog} {_names(files)}")


# sed's `e` command and the `e` flag of `s///` run a shell command (GNU sed).
_SED_EXECUTE = re.compile(r"(?:^|[;\n{}])\s*(?:\d+|\$|/[^/]*/)?\s*e\s+([^;\n}]+)")
_SED_SUBSTITUTE_EXECUTE = re.compile(r"s(.)(?:(?!\1).)*\1((?:(?!\1).)*)\1[gpI\d]*e[gpI\d]*\b")


def _sed_commands(call: _Call, scripts: Sequence[_Word]) -> None:
    for script in scripts:
        for match in _SED_EXECUTE.finditer(script.value):
            _script(call, _Word.literal(match.group(1).strip()), "sed e")
        for match in _SED_SUBSTITUTE_EXECUTE.finditer(script.value):
            call.add(Intent.DYNAMIC, "sed s///e runs each replaced line as a shell command")
            _script(call, _Word.literal(match.group(2)), "sed s///e")


def _compressor(call: _Call) -> None:
    """gzip FILE replaces FILE; with -c (or no files) it is a filter on a stream."""
    parsed = _parse(call.args, _words("-S --suffix -T --threads -b -p"))
    if not parsed.operands:
        call.stdout = call.feed.passed_through(call.prog) if call.feed else None
    elif parsed.has("-c", "--stdout", "--to-stdout", "-t", "--test", "-l", "--list"):
        for file in parsed.operands:
            call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        call.add(Intent.READ, f"{call.prog} reads {_names(parsed.operands)}")
        call.stdout = _Feed(_Origin.FILE, f"{call.prog} {_names(parsed.operands)}")
    else:
        for file in parsed.operands:
            _record_write(call.effect, file, call.prog)
        call.stdout = None


def _copy(call: _Call) -> None:
    """cp/mv/install/ln SOURCE... DEST (or -t DEST SOURCE...)."""
    parsed = _parse(
        call.args,
        _words("-t --target-directory -S --suffix -m --mode -o --owner -g --group"),
    )
    directory = parsed.values("-t", "--target-directory")
    sources = parsed.operands if directory else parsed.operands[:-1]
    dest = directory[-1] if directory else (parsed.operands[-1] if parsed.operands else None)
    action = ObjectAction.RENAME if call.prog == "mv" else ObjectAction.READ
    if action is ObjectAction.RENAME and all(
        _is_scratch(word) or _is_workspace(word) for word in [*sources, *([dest] if dest else [])]
    ):
        action = ObjectAction.WRITE  # moving files around the working folder renames no data object
    for source in sources:
        call.obj(ObjectKind.FILE, action, source.display)
    if sources and call.prog != "ln":
        call.add(
            Intent.READ if action is ObjectAction.READ else Intent.WRITE,
            f"{call.prog} {'moves' if call.prog == 'mv' else 'reads'} {_names(sources)}",
        )
    if dest is not None:
        _record_write(call.effect, dest, call.prog)
        for source in sources:
            content = call.analyzer.produced_by(source)
            if content is not None:
                call.analyzer.note_produced(dest, content)
                base = posixpath.basename(source.value)
                call.analyzer.note_produced(
                    replace(dest, value=posixpath.join(dest.value, base)), content
                )


def _create(call: _Call) -> None:
    for target in _parse(call.args, _words("-m --mode -d --date -r -t")).operands:
        call.obj(ObjectKind.FILE, ObjectAction.CREATE, target.display)
        call.add(Intent.WRITE, f"{call.prog} creates {target.display}")


@dataclass(frozen=True, slots=True)
class _Decoder:
    """Turns an opaque encoding into bytes (base64 -d): running its output hides what runs."""

    decode_options: frozenset[str] = frozenset()  # empty: always decodes
    static: Callable[[str], str] | None = None  # decode a literal input here, when possible


def _b64decode(text: str) -> str:
    return base64.b64decode("".join(text.split()), validate=True).decode()


def _hexdecode(text: str) -> str:
    return bytes.fromhex("".join(text.split())).decode()


def _decoder(call: _Call) -> None:
    decoder = _DECODERS[call.prog]
    parsed = _parse(
        call.args,
        _words("-w --wrap -c -l -s -o -in -out"),
        clusters=call.prog not in ("openssl",),
    )
    words = {name for name, _ in parsed.options} | {w.value for w in parsed.operands}
    if decoder.decode_options and not words & decoder.decode_options:
        call.stdout = call.feed.passed_through(call.prog) if call.feed else None
        return
    source = " ".join([call.prog, *(word.display for word in call.args)])
    literal = None
    feed_text = call.feed.literal if call.feed else None
    if decoder.static and feed_text is not None and not feed_text.dynamic:
        try:
            literal = _Word.literal(decoder.static(feed_text.value))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            literal = None
    call.stdout = _Feed(
        _Origin.DECODED | (call.feed.origin if call.feed else _Origin.NONE), source, literal
    )


def _dump(call: _Call) -> None:
    parsed = _parse(call.args, _DUMP_VALUES)
    databases = parsed.values("-d", "--dbname") or parsed.operands[:1]
    name = databases[0].display if databases else "the default database"
    call.obj(ObjectKind.DATABASE, ObjectAction.READ, name)
    call.add(Intent.READ, f"{call.prog} reads the whole of {name}")
    outputs = parsed.values("-f", "--file", "-r", "--result-file")
    for output in outputs:
        _record_write(call.effect, output, call.prog)
    call.stdout = None if outputs else _Feed(_Origin.DUMP, f"a database dump from {call.prog}")


def _restore(call: _Call) -> None:
    parsed = _parse(call.args, _DUMP_VALUES)
    source = _names(parsed.operands) if parsed.operands else call.stdin()
    call.add(Intent.WRITE, f"{call.prog} loads {source} into the database")
    call.add(Intent.DYNAMIC, f"the contents {call.prog} loads are not visible here")


# ----- code execution


def _run_file(call: _Call, script: _Word) -> bool:
    """Running a file: a payload when it came from a substitution or an earlier download."""
    if script.origin:
        _payload(call, script.origin, script.source or script.display)
        return True
    written = call.analyzer.produced_by(script)
    if written is not None and written.literal is not None and not written.origin & _PAYLOAD:
        _script(call, written.literal, f"{script.display} (written above)")
        return True
    if written is not None:
        _payload(call, written.origin, f"{written.description}, saved as {script.display}")
        return True
    return False


def _payload(call: _Call, origin: _Origin, source: str, what: str = "code") -> None:
    """Code whose text is not visible runs: downloaded or decoded payloads also reach the host."""
    if origin & _Origin.DOWNLOAD:
        call.add(Intent.HOST_ACCESS, f"{call.prog} runs {what} downloaded by {source}")
        call.add(Intent.DYNAMIC, f"the {what} {call.prog} runs is fetched at run time by {source}")
    elif origin & _Origin.DECODED:
        call.add(Intent.HOST_ACCESS, f"{call.prog} runs an obfuscated payload ({source})")
        call.add(Intent.DYNAMIC, f"the {what} {call.prog} runs is decoded at run time by {source}")
    else:
        call.add(Intent.DYNAMIC, f"{call.prog} runs {what} from {source}, not visible here")


def _script(call: _Call, script: _Word, label: str) -> None:
    """A string that a shell will parse as a script (sh -c, eval, ssh host CMD): analyse it."""
    if script.dynamic:
        if script.origin:
            _payload(call, script.origin, script.source or script.display)
        else:
            built = ", ".join(script.expansions)
            call.add(Intent.DYNAMIC, f"the script {label} runs is built at run time from {built}")
    if script.value.replace(EXPANSION_PLACEHOLDER, "").strip():
        call.stdout = call.analyzer.nested_shell(call.effect, script.display)
    # else: nothing literal to re-read; the substitutions inside already ran through the analysis


def _stdin_program(call: _Call, *, shell: bool) -> None:
    """An interpreter with no script argument runs whatever arrives on stdin."""
    feed = call.feed
    if feed is None:
        call.add(Intent.DYNAMIC, f"{call.prog} runs a program read from stdin, not visible here")
    elif feed.origin & _PAYLOAD:
        _payload(call, feed.origin, feed.description)
        if shell and feed.literal is not None:
            call.analyzer.nested_shell(call.effect, feed.literal.display)
    elif feed.literal is not None and shell:
        _script(call, feed.literal, f"by {call.prog} from {feed.description}")
    elif feed.literal is not None:
        call.add(
            Intent.DYNAMIC, f"{call.prog} runs inline code from {feed.description} (not analysed)"
        )
    else:
        _payload(call, feed.origin, feed.description)


def _shell(call: _Call) -> None:
    parsed = _parse(call.args, _words("-o +o -O --rcfile --init-file"), first_operand_ends=True)
    if call.network:
        message = f"{call.prog} is connected to the network through /dev/tcp: a remote shell"
        call.add(Intent.HOST_ACCESS, message)
        call.add(Intent.DYNAMIC, message)
    if parsed.has("-c"):
        if parsed.operands:
            _script(call, parsed.operands[0], f"{call.prog} -c")
        return
    script = parsed.operands[0] if parsed.operands and not parsed.has("-s") else None
    if script is None or script.value in ("-", "/dev/stdin"):
        _stdin_program(call, shell=True)
    elif not _run_file(call, script):
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, script.display)
        _not_known(call, script)


@dataclass(frozen=True, slots=True)
class _Interpreter:
    inline: frozenset[str]  # options whose value is code (python -c, perl -e)
    value_options: frozenset[str] = frozenset()
    module: frozenset[str] = frozenset()  # options naming a module to run (python -m)
    clusters: bool = True


def _interpreter(call: _Call) -> None:
    spec = _INTERPRETERS[_canonical(call.prog)]
    parsed = _parse(
        call.args,
        spec.inline | spec.value_options | spec.module,
        clusters=spec.clusters,
        first_operand_ends=True,
    )
    inline = parsed.values(*spec.inline)
    modules = parsed.values(*spec.module)
    if inline:
        origin = _merge_origins(word.origin for word in inline)
        if origin & _PAYLOAD:
            _payload(call, origin, inline[0].source)
        call.add(Intent.DYNAMIC, f"{call.prog} runs inline code, which is not analysed")
    elif modules:
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, modules[0].display)
        if not _run_registered(call, modules[0], parsed.operands):
            _not_known(call, modules[0])
    elif parsed.operands and parsed.operands[0].value not in ("-", "/dev/stdin"):
        script = parsed.operands[0]
        if not _run_file(call, script):
            call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, script.display)
            if not _run_registered(call, script, parsed.operands[1:]):
                _not_known(call, script)
    elif parsed.has("--version", "-V", "--help", "-h", "-v"):
        return
    else:
        _stdin_program(call, shell=False)


def _alias(call: _Call) -> None:
    """``alias x='rm -rf /'``: later ``x`` runs the value, so the value is analysed now."""
    for definition in call.args:
        name, equals, _ = definition.value.partition("=")
        if equals:
            _script(call, definition.after("="), f"the alias {name}")


def _eval(call: _Call) -> None:
    if call.args:
        _script(call, _concat(call.args, " "), "eval")


def _source(call: _Call) -> None:
    if not call.args:
        return
    script = call.args[0]
    if script.value in ("/dev/stdin", "-"):
        _stdin_program(call, shell=True)
    elif not _run_file(call, script):
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, script.display)
        call.add(
            Intent.DYNAMIC,
            f"{call.prog} runs {script.display} in this shell; its contents are not visible",
        )


# ----- SQL clients


@dataclass(frozen=True, slots=True)
class _MetaCommands:
    """A client's own commands inside its SQL input (psql ``\\i``, sqlite3 ``.read``)."""

    prefix: str
    include: frozenset[str]  # run SQL from another file: not visible
    shell: frozenset[str]  # run a shell command
    sql: frozenset[str] = frozenset()  # the rest of the line is SQL (psql \copy)
    executes_results: frozenset[str] = frozenset()  # run query results as SQL (psql \gexec)
    bare: frozenset[str] = frozenset()  # recognised without the prefix (mysql `source`)


@dataclass(frozen=True, slots=True)
class _SqlClient:
    dialect: str | None
    sql_options: frozenset[str] = frozenset()  # options whose value is SQL
    file_options: frozenset[str] = frozenset()  # options whose value is a SQL script file
    value_options: frozenset[str] = frozenset()
    attached_only: frozenset[str] = frozenset()
    sql_operands_from: int | None = None  # operands from this index on are SQL (sqlite3 DB SQL)
    script_prefix: str | None = None  # an operand starting with it is a script (sqlplus @f)
    clusters: bool = True
    meta: _MetaCommands | None = None
    info_options: frozenset[str] = _words("--help --version -V -l --list -?")


def _sql_client(call: _Call) -> None:
    client = _SQL_CLIENTS[call.prog]
    parsed = _parse(
        call.args,
        client.sql_options | client.file_options | client.value_options,
        attached_only=client.attached_only,
        clusters=client.clusters,
    )
    _run_sql_client(call, client, parsed)


def _run_sql_client(call: _Call, client: _SqlClient, parsed: _Parsed) -> None:
    sql = parsed.values(*client.sql_options)
    if client.sql_operands_from is not None:
        sql.extend(parsed.operands[client.sql_operands_from :])
    files = [f for f in parsed.values(*client.file_options) if f.value not in ("-", "/dev/stdin")]
    if client.script_prefix:
        prefix = client.script_prefix
        files.extend(w.tail(len(prefix)) for w in parsed.operands if w.value.startswith(prefix))
    for text in sql:
        _embed_sql(call, client, text)
    if files:
        for file in files:
            call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        call.add(
            Intent.DYNAMIC,
            f"{call.prog} runs SQL from {_names(files)}, whose contents are not visible here",
        )
    reads_stdin = any(f.value in ("-", "/dev/stdin") for f in parsed.values(*client.file_options))
    if (sql or files or parsed.has(*client.info_options)) and not reads_stdin:
        return
    feed = call.feed
    if feed is None:
        call.add(Intent.DYNAMIC, f"{call.prog} reads SQL from stdin, which is not visible here")
    elif feed.literal is not None:
        _embed_sql(call, client, feed.literal, f" from {feed.description}")
    else:
        call.add(Intent.DYNAMIC, f"{call.prog} runs SQL from {feed.description}, not visible here")
        if feed.origin & (_Origin.FILE | _Origin.DUMP):
            call.add(Intent.WRITE, f"{call.prog} loads {feed.description} into the database")
        host = _remote_host(call)
        if feed.origin & _Origin.DUMP and host is not None:
            call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
            call.add(Intent.EXPORT, f"{call.prog} copies {feed.description} to the server {host}")


_LOCAL_HOSTS = frozenset(("localhost", "127.0.0.1", "::1", ""))


def _remote_host(call: _Call) -> str | None:
    """The server a client connects to, when it is named and not this machine."""
    for index, word in enumerate(call.args):
        value = word.value
        if value in ("-h", "--host") and index + 1 < len(call.args):
            host = call.args[index + 1].value
        elif value.startswith("--host="):
            host = value.partition("=")[2]
        elif value.startswith("-h") and len(value) > 2:
            host = value[2:]
        else:
            continue
        return None if host in _LOCAL_HOSTS or host.startswith("/") else host
    return None


def _embed_sql(call: _Call, client: _SqlClient, text: _Word, where: str = "") -> None:
    """Hand SQL to analyze_sql in the client's dialect; expansions become a placeholder."""
    sql = text.value
    if client.meta is not None:
        sql = _client_commands(call, client.meta, sql)
    if text.dynamic:
        call.add(
            Intent.DYNAMIC,
            f"the SQL {call.prog} runs{where} is built at run time from "
            f"{', '.join(text.expansions)}",
        )
        if text.origin & _PAYLOAD:
            _payload(call, text.origin, text.source, "SQL")
    if sql.strip():
        call.effect.embedded.extend(call.analyzer.nested_sql(sql, client.dialect))


def _client_commands(call: _Call, meta: _MetaCommands, sql: str) -> str:
    """Blank the client's own commands (keeping offsets) and record what they do."""
    lines = sql.split("\n")
    for number, line in enumerate(lines):
        words = line.split(None, 1)
        if not words:
            continue
        command = words[0].lower()
        argument = words[1].strip() if len(words) > 1 else ""
        if any(marker in line for marker in meta.executes_results):
            call.add(Intent.DYNAMIC, f"{call.prog} runs query results as SQL ({line.strip()})")
        if not command.startswith(meta.prefix) and command not in meta.bare:
            continue
        if command in meta.sql:
            lines[number] = line.replace(
                words[0], " " * len(meta.prefix) + words[0][len(meta.prefix) :], 1
            )
            continue
        lines[number] = " " * len(line)
        if command in meta.include or (
            meta.prefix in meta.include
            and command.startswith(meta.prefix)
            and command != meta.prefix
        ):
            if command not in meta.include:  # `@file`: the name is glued to the prefix
                argument = command[len(meta.prefix) :]
            call.obj(ObjectKind.FILE, ObjectAction.READ, argument)
            call.add(
                Intent.DYNAMIC, f"{call.prog} {command} runs SQL from {argument}, not visible here"
            )
        elif command in meta.shell:
            _script(call, _Word.literal(argument), f"{call.prog} {command}")
    return "\n".join(lines)


def _bq(call: _Call) -> None:
    values = _words(
        "--project_id --location --dataset_id --format --destination_table --parameter "
        "--max_rows -n --api --flagfile --job_id"
    )
    parsed = _parse(call.args, values, first_operand_ends=True)
    if not parsed.operands:
        return
    verb, rest = parsed.operands[0].value, parsed.operands[1:]
    inner = _parse(rest, values)
    if verb == "query":
        client = _SQL_CLIENTS["bq"]
        _run_sql_client(call, client, inner)
    elif verb == "rm":
        bulk = inner.has("-r", "--recursive")
        _delete(
            call,
            inner.operands,
            f"bq rm deletes {_names(inner.operands)}",
            bulk=bulk,
            kind=ObjectKind.TABLE,
        )
    elif verb == "extract" and len(inner.operands) >= 2:
        call.obj(ObjectKind.TABLE, ObjectAction.READ, inner.operands[0].display)
        destinations = [(ObjectKind.URL, w.display) for w in inner.operands[1:]]
        _export(call, destinations, [inner.operands[0]], "bq extract")
    elif verb in ("load", "insert", "cp"):
        call.add(Intent.WRITE, f"bq {verb} writes {_names(inner.operands[:1])}")


def _clickhouse(call: _Call) -> None:
    if call.args and call.args[0].value == "client":
        call.args = call.args[1:]
        call.effect.operation = "clickhouse-client"
        _sql_client(call)


# ----- wrappers


@dataclass(frozen=True, slots=True)
class _Wrapper:
    """A program that runs the command given as its remaining arguments (``sudo CMD...``)."""

    value_options: frozenset[str] = frozenset()
    positionals: int = 0  # operands before the command (timeout DURATION, chroot DIR)
    assignments: bool = False  # skips NAME=value words (env)
    script_options: frozenset[str] = frozenset()  # options whose value is a script (su -c)
    lookup_only: frozenset[str] = frozenset()  # options that only look the command up
    shell_options: frozenset[str] = frozenset()  # with no command: a shell that reads stdin


def _wrapped(call: _Call) -> None:
    spec = _WRAPPERS[call.prog]
    values = spec.value_options | spec.script_options
    parsed = _parse(call.args, values, first_operand_ends=True)
    rest = parsed.operands
    if spec.positionals:  # options may follow them too (flock FILE -c CMD)
        after = _parse(rest[spec.positionals :], values, first_operand_ends=True)
        parsed.options.extend(after.options)
        rest = after.operands
    if parsed.has(*spec.lookup_only):
        return
    for script in parsed.values(*spec.script_options):
        _script(call, script, f"{call.prog} -c")
    if spec.assignments:
        while rest and re.match(r"^[A-Za-z_]\w*=", rest[0].value):
            rest = rest[1:]
    if rest:
        call.analyzer.run_inner(call, rest, feed=call.feed, transparent=True)
    elif parsed.has(*spec.shell_options) and call.feed is not None:
        _stdin_program(call, shell=True)


def _su(call: _Call) -> None:
    """su/runuser: options may follow the user; ``-c`` is a script, ``-- CMD`` a command."""
    parsed = _parse(
        call.args,
        _words("-s --shell -g --group -G -u --user -c --command -w"),
    )
    for script in parsed.values("-c", "--command"):
        _script(call, script, f"{call.prog} -c")
    command = parsed.operands[parsed.after_dashdash :] if parsed.after_dashdash is not None else []
    if command and parsed.has("-u", "--user"):
        call.analyzer.run_inner(call, command, feed=call.feed, transparent=True)
    elif not parsed.values("-c", "--command") and call.feed is not None:
        _stdin_program(call, shell=True)  # su - app <<EOF: the login shell reads the heredoc


def _xargs(call: _Call) -> None:
    values = _words(
        "-a --arg-file -d --delimiter -E -I -L -n --max-args -P --max-procs -s --max-chars"
    )
    parsed = _parse(
        call.args, values, attached_only=_options("-e", "-i", "-l"), first_operand_ends=True
    )
    inner = parsed.operands or [_Word.literal("echo")]
    for replace_string in parsed.values("-I") + [
        w.tail(2) for w in call.args if w.value.startswith("-I") and len(w.value) > 2
    ]:
        marker = replace_string.value
        inner = [
            _Word(EXPANSION_PLACEHOLDER, word.display, dynamic=True, expansions=("{xargs input}",))
            if marker and marker in word.value
            else word
            for word in inner
        ]
    # The words xargs appends come from stdin: unknown, and possibly many.
    appended = _Word(
        EXPANSION_PLACEHOLDER,
        "{xargs input}",
        dynamic=True,
        glob=True,
        expansions=("{xargs input}",),
    )
    call.analyzer.run_inner(call, [*inner, appended], feed=None, transparent=True)


def _trap(call: _Call) -> None:
    """``trap 'CMD' EXIT``: CMD runs later, when the signal comes: analysed now."""
    operands = [w for w in call.args if not w.value.startswith("-")]
    if len(operands) >= 2 and operands[0].value not in ("", "-"):
        _script(call, operands[0], "trap")


def _parallel(call: _Call) -> None:
    """GNU parallel: CMD ::: ARGS runs CMD per argument; with no CMD each argument is a command."""
    words = call.args
    split = next((i for i, w in enumerate(words) if w.value in (":::", "::::", ":::+")), len(words))
    command = _parse(
        words[:split], _words("-j --jobs -S --sshlogin --joblog --delay"), first_operand_ends=True
    ).operands
    inputs = words[split + 1 :]
    if command:
        appended = _Word(
            EXPANSION_PLACEHOLDER,
            "{parallel input}",
            dynamic=True,
            glob=True,
            expansions=("{parallel input}",),
        )
        call.analyzer.run_inner(
            call, [*command, *(inputs or [appended])], feed=None, transparent=True
        )
    else:
        for script in inputs:
            _script(call, script, "parallel")


def _watch(call: _Call) -> None:
    parsed = _parse(call.args, _words("-n --interval -q --equexit"), first_operand_ends=True)
    if not parsed.operands:
        return
    if parsed.has("-x", "--exec"):
        call.analyzer.run_inner(call, parsed.operands, feed=None, transparent=True)
    else:
        _script(call, _concat(parsed.operands, " "), "watch")


_SSH_VALUES = _words("-p -i -l -o -F -J -L -R -D -b -c -E -e -I -m -O -Q -S -W -w -B")


def _ssh(call: _Call) -> None:
    parsed = _parse(call.args, _SSH_VALUES, first_operand_ends=True)
    if not parsed.operands:
        return
    target, *command = parsed.operands
    host = _url_host(target.value) if "://" in target.value else target.display.rpartition("@")[2]
    call.obj(ObjectKind.HOST, ObjectAction.EXECUTE, host)
    feed = call.feed
    if feed is not None and feed.literal is None:
        call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
        call.add(Intent.EXPORT, f"ssh sends {call.stdin()} to {host}")
    if command:
        _script(call, _concat(command, " "), f"on {host}")
    elif feed is not None:
        _stdin_program(call, shell=True)
    call.stdout = _Feed(_Origin.DOWNLOAD, f"ssh {host}")


def _exec_in(call: _Call, target: _Word, command: Sequence[_Word]) -> None:
    """docker/kubectl exec: the command runs as given (no shell) inside ``target``."""
    call.obj(ObjectKind.HOST, ObjectAction.EXECUTE, target.display)
    if command:
        call.analyzer.run_inner(call, list(command), feed=call.feed, transparent=True)


_DOCKER_EXEC_VALUES = _words("-e --env --env-file -u --user -w --workdir --detach-keys --index")


_DOCKER_RUN_VALUES = _words(
    "-v --volume -e --env --env-file -p --publish --name -w --workdir -u --user --network --net "
    "--entrypoint -m --memory --cpus --mount -l --label --label-file --restart -h --hostname "
    "--add-host --dns --device --cap-add --cap-drop --security-opt --ulimit --log-driver "
    "--log-opt --platform --pull --shm-size --tmpfs --gpus --runtime --ipc --pid --uts --userns "
    "--cidfile --cgroupns --memory-swap --stop-signal --stop-timeout --volumes-from --group-add "
    "--expose --link -a --attach --health-cmd --health-interval --cpu-shares -c --cpuset-cpus"
)
_HOST_MOUNTS = ("/", "/etc", "/root", "/var/run/docker.sock", "/run/docker.sock", "/dev", "/proc")


def _container_run(call: _Call, args: Sequence[_Word]) -> None:
    """docker run IMAGE CMD: CMD runs in a new container, which can reach the host via mounts."""
    parsed = _parse(args, _DOCKER_RUN_VALUES, first_operand_ends=True)
    if not parsed.operands:
        return
    image, *command = parsed.operands
    call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, image.display)
    mounts = [m.value.split(":")[0] for m in parsed.values("-v", "--volume")]
    mounts += [
        part.split("=", 1)[1]
        for m in parsed.values("--mount")
        for part in m.value.split(",")
        if part.startswith(("source=", "src="))
    ]
    reasons = ["--privileged"] if parsed.has("--privileged") else []
    reasons += [f"-v {m}" for m in mounts if m == "/" or m.rstrip("/") in _HOST_MOUNTS]
    reasons += [f"{n}=host" for n, v in parsed.options if v is not None and v.value == "host"]
    if reasons:
        call.add(Intent.HOST_ACCESS, f"the container gets the host ({', '.join(reasons)})")
    entrypoint = parsed.values("--entrypoint")
    if entrypoint or command:
        call.analyzer.run_inner(call, [*entrypoint, *command], feed=call.feed, transparent=False)


def _docker(call: _Call) -> None:
    parsed = _parse(
        call.args,
        _words("-H --host -c --context --config -f --file -p --project-name"),
        first_operand_ends=True,
    )
    operands = parsed.operands
    if operands and operands[0].value == "compose":
        operands = _parse(
            operands[1:], _words("-f --file -p --project-name"), first_operand_ends=True
        ).operands
    if operands and operands[0].value == "run":
        _container_run(call, operands[1:])
    elif operands and operands[0].value == "exec":
        rest = _parse(operands[1:], _DOCKER_EXEC_VALUES, first_operand_ends=True).operands
        if rest:
            _exec_in(call, rest[0], rest[1:])
    else:
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, call.name.display)


def _kubectl(call: _Call) -> None:
    values = _words(
        "-n --namespace --context --kubeconfig --cluster --user -s --server -c "
        "--container -f --filename --pod-running-timeout"
    )
    parsed = _parse(call.args, values, first_operand_ends=True)
    if parsed.operands and parsed.operands[0].value == "exec":
        inner = _parse(parsed.operands[1:], values)  # options may follow the pod
        if inner.operands:
            split = inner.after_dashdash
            command = inner.operands[split:] if split is not None else inner.operands[1:]
            _exec_in(call, inner.operands[0], command)
    else:
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, call.name.display)


def _unknown(call: _Call) -> None:
    call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, call.name.display)
    # ./i.sh, /tmp/i.sh: maybe a file this script just downloaded
    if "/" in call.name.value and _run_file(call, call.name):
        return
    _not_known(call, call.name)


def _not_known(call: _Call, program: _Word) -> None:
    """A program or script in no registry: what it does is not known (closed world)."""
    if "/" in program.value or "." in program.value.rsplit("/", 1)[-1]:
        message = f"{call.prog} runs the script {program.display}, whose code is not visible here"
    else:
        message = f"{program.display} is in no registry of known programs: its effect is unknown"
    call.add(Intent.UNKNOWN, message)


def _run_registered(call: _Call, script: _Word, args: list[_Word]) -> bool:
    """``python manage.py flush``, ``php artisan migrate:fresh``: a script known by name."""
    known = shell_registry.lookup(script.value)
    if known is None:
        return False
    inner = _Call(call.analyzer, call.effect, script, args, call.feed)
    shell_registry.judge(inner, known, _BRIDGE)
    return True


def _embed_in(call: _Call, dialect: str | None, text: _Word) -> None:
    _embed_sql(call, _SqlClient(dialect), text)


def _run_words(call: _Call, words: list[_Word]) -> None:
    call.analyzer.run_inner(call, words, feed=call.feed, transparent=False)


_BRIDGE = shell_registry.Bridge(script=_script, sql=_embed_in, inner=_run_words)


def _inert(call: _Call) -> None:
    """Builtins and utilities with no effect worth recording (cd, sleep, true, date)."""


# --------------------------------------------------------------------------- program tables

_PSQL_META = _MetaCommands(
    prefix="\\",
    include=_words("\\i \\ir \\include \\include_relative"),
    shell=_options("\\!"),
    sql=_options("\\copy"),
    executes_results=_options("\\gexec"),
)
_MYSQL_META = _MetaCommands(
    prefix="\\",
    include=_options("\\.", "source"),
    shell=_options("\\!", "system"),
    bare=_options("source", "system"),
)
_DOT_META = _MetaCommands(
    prefix=".", include=_options(".read"), shell=_options(".shell", ".system", ".sh")
)
# SQL*Plus: `@file` runs a script; SET/SPOOL/... are client settings; HOST runs a shell command.
_SQLPLUS_META = _MetaCommands(
    prefix="@",
    include=_words("@ @@ start sta"),
    shell=_options("host", "ho", "!"),
    bare=_words(
        "set spool exit quit prompt whenever column define undefine show connect conn "
        "disconnect / host ho ! start sta ttitle btitle break compute var variable exec "
        "execute timing pause accept describe desc"
    ),
)
_MYSQL = _SqlClient(
    "mysql",
    sql_options=_options("-e", "--execute"),
    value_options=_words(
        "-h --host -u --user -P --port -D --database -S --socket --default-character-set "
        "--defaults-file"
    ),
    attached_only=_options("-p"),
    meta=_MYSQL_META,
)
_SQLITE = _SqlClient(
    "sqlite",
    sql_options=_options("-cmd"),
    file_options=_options("-init"),
    value_options=_words("-separator -nullvalue -newline -vfs"),
    sql_operands_from=1,
    clusters=False,
    meta=_DOT_META,
    info_options=_words("-help -version --help --version"),
)
_SPARK = _SqlClient(
    "spark",
    sql_options=_options("-e"),
    file_options=_options("-f", "-i"),
    value_options=_words(
        "-u -n -p -d --hivevar --hiveconf --conf --master --name --database --define "
        "--property-file"
    ),
)
#: Database clients: how each passes SQL, and the dialect analyze_sql parses it in.
_SQL_CLIENTS: dict[str, _SqlClient] = {
    "psql": _SqlClient(
        "postgres",
        sql_options=_options("-c", "--command"),
        file_options=_options("-f", "--file"),
        value_options=_words(
            "-h --host -p --port -U --username -d --dbname -v --set --variable -o "
            "--output -L --log-file -P --pset -F --field-separator -R --record-separator "
            "-T --table-attr"
        ),
        meta=_PSQL_META,
    ),
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "sqlite3": _SQLITE,
    "sqlite": _SQLITE,
    "snowsql": _SqlClient(
        "snowflake",
        sql_options=_options("-q", "--query"),
        file_options=_options("-f", "--filename"),
        value_options=_words(
            "-a --accountname -u --username -d --dbname -s --schemaname -r --rolename -w "
            "--warehouse -c --connection -o --option -D --variable --config"
        ),
    ),
    "bq": _SqlClient("bigquery", sql_operands_from=0),
    "sqlcmd": _SqlClient(
        "tsql",
        sql_options=_options("-Q", "-q"),
        file_options=_options("-i"),
        value_options=_words("-S -U -P -d -o -s -w -h -v -t -l -H -f -a -b -W"),
        clusters=False,
        info_options=_options("-?"),
    ),
    "clickhouse-client": _SqlClient(
        "clickhouse",
        sql_options=_options("-q", "--query"),
        file_options=_options("--queries-file"),
        value_options=_words(
            "-h --host --port -u --user --password -d --database -f --format --param --config-file"
        ),
    ),
    "duckdb": _SqlClient(
        "duckdb",
        sql_options=_options("-c", "-s", "-cmd"),
        file_options=_options("-init", "-f"),
        sql_operands_from=1,
        clusters=False,
        meta=_DOT_META,
    ),
    "trino": _SqlClient(
        "trino",
        sql_options=_options("--execute"),
        file_options=_options("-f", "--file"),
        value_options=_words(
            "--server --catalog --schema --user --output-format --session --source "
            "--client-tags --resource-estimate"
        ),
    ),
    "presto": _SqlClient(
        "presto",
        sql_options=_options("--execute"),
        file_options=_options("-f", "--file"),
        value_options=_words("--server --catalog --schema --user --output-format"),
    ),
    "sqlplus": _SqlClient(
        "oracle",
        script_prefix="@",
        clusters=False,
        meta=_SQLPLUS_META,
        info_options=_options("-V", "-H", "-v"),
    ),
    "beeline": _SPARK,
    "spark-sql": _SPARK,
    "hive": replace(_SPARK, dialect="hive"),
}
_DUMP_VALUES = _words(
    "-d --dbname -h --host -p --port -U --username -u --user -f --file -r --result-file "
    "-n --schema -t --table -F --format -j --jobs -S --socket"
)
_DUMPERS = _words("pg_dump pg_dumpall mysqldump mariadb-dump mongodump")
_RESTORERS = _words("pg_restore mysqlimport mongorestore")

_WRAPPERS: dict[str, _Wrapper] = {
    "sudo": _Wrapper(
        _words(
            "-u --user -g --group -h --host -p --prompt -C --close-from -D --chdir -r "
            "--role -t --type -U --other-user -T --command-timeout"
        ),
        shell_options=_words("-s --shell -i --login"),
    ),
    "doas": _Wrapper(_options("-u", "-C"), shell_options=_options("-s")),
    "env": _Wrapper(
        _words("-u --unset -C --chdir"),
        assignments=True,
        script_options=_options("-S", "--split-string"),
    ),
    "nohup": _Wrapper(),
    "setsid": _Wrapper(),
    "timeout": _Wrapper(_words("-s --signal -k --kill-after"), positionals=1),
    "nice": _Wrapper(_options("-n", "--adjustment")),
    "ionice": _Wrapper(_words("-c --class -n --classdata -p --pid -P --pgid -u --uid")),
    "time": _Wrapper(_words("-f --format -o --output")),
    "command": _Wrapper(lookup_only=_options("-v", "-V")),
    "builtin": _Wrapper(),
    "exec": _Wrapper(_options("-a")),
    "stdbuf": _Wrapper(_words("-i --input -o --output -e --error")),
    "chroot": _Wrapper(_options("--userspec", "--groups"), positionals=1),
    "flock": _Wrapper(
        _words("-w --timeout -E --conflict-exit-code"),
        positionals=1,
        script_options=_options("-c", "--command"),
    ),
    "taskset": _Wrapper(positionals=1),
    "busybox": _Wrapper(),
    "unbuffer": _Wrapper(),
}

_SHELLS = _words("sh bash zsh dash ksh mksh ash fish rbash")
_INTERPRETERS: dict[str, _Interpreter] = {
    "python": _Interpreter(_options("-c"), _options("-W", "-X", "-Q"), _options("-m")),
    "perl": _Interpreter(_options("-e", "-E"), _options("-I", "-M", "-m")),
    "ruby": _Interpreter(_options("-e"), _options("-I", "-r")),
    "node": _Interpreter(_words("-e --eval -p --print"), _options("-r", "--require")),
    "php": _Interpreter(_options("-r"), _options("-d", "-c")),
    "Rscript": _Interpreter(_options("-e")),
    "lua": _Interpreter(_options("-e"), _options("-l")),
    "pwsh": _Interpreter(_words("-c -Command -command -EncodedCommand -e"), clusters=False),
    "osascript": _Interpreter(_options("-e")),
    "tclsh": _Interpreter(frozenset()),
}
_INTERPRETER_ALIASES = {"nodejs": "node", "powershell": "pwsh", "jruby": "ruby"}
_VERSIONED = re.compile(r"^(python|pypy|perl|ruby|php|lua|node)[\d.]*$")

_DECODERS: dict[str, _Decoder] = {
    "base64": _Decoder(_options("-d", "--decode", "-D"), _b64decode),
    "base32": _Decoder(_options("-d", "--decode")),
    "basenc": _Decoder(_options("-d", "--decode")),
    "xxd": _Decoder(_options("-r", "--revert", "-revert"), _hexdecode),
    "openssl": _Decoder(_words("-d -base64 -a base64")),
    "uudecode": _Decoder(),
    "rev": _Decoder(static=lambda text: "\n".join(line[::-1] for line in text.split("\n"))),
}
_COMPRESSORS = _words("gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd lz4 pigz unpigz")

_READERS: dict[str, _Reader] = {
    **dict.fromkeys(
        _words(
            "head tail less more wc ls stat file du md5sum sha1sum sha256sum sha512sum "
            "cksum sort uniq cut diff cmp tree strings od hexdump nl tac column paste "
            "fold readlink realpath zcat bzcat xzcat zstdcat iconv csvlook comm join"
        ),
        _Reader(value_options=_words("-n -c -k -t -d -f -o -w -s -S -T")),
    ),
    **dict.fromkeys(
        ("grep", "egrep", "fgrep", "rg", "zgrep"),
        _Reader(
            1,
            _words("-m -A -B -C --include --exclude -g --glob -t"),
            _words("-e -f --regexp --file"),
        ),
    ),
    **dict.fromkeys(
        ("awk", "gawk", "mawk", "nawk"),
        _Reader(1, _options("-F", "-v"), _options("-f"), _options("-i")),
    ),
    "sed": _Reader(
        1, frozenset(), _words("-e -f --expression --file"), _options("-i", "--in-place")
    ),
    "jq": _Reader(1, _words("--arg --argjson --slurpfile --rawfile --indent")),
    "yq": _Reader(1, frozenset(), frozenset(), _options("-i", "--inplace")),
    "tr": _Reader(2),
}

_DEVICE_TOOLS: dict[str, _DeviceTool] = {
    "mkfs": _DeviceTool(),
    "mke2fs": _DeviceTool(),
    "mkswap": _DeviceTool(),
    "blkdiscard": _DeviceTool(),
    "wipefs": _DeviceTool(destructive=_words("-a --all -o --offset")),
    "fdisk": _DeviceTool(read_only=_options("-l", "--list")),
    "sfdisk": _DeviceTool(read_only=_words("-l --list -d --dump -s --show-size")),
    "sgdisk": _DeviceTool(read_only=_words("-p --print -i --info -v --verify")),
    "cfdisk": _DeviceTool(),
    "parted": _DeviceTool(read_only=_words("-l --list print p")),
}
_PRIVILEGE_TOOLS = _words(
    "usermod useradd userdel adduser deluser groupadd groupdel groupmod gpasswd passwd "
    "chpasswd chage visudo setcap addgroup delgroup"
)
_HOST_CONTROL = _words(
    "shutdown reboot halt poweroff init telinit insmod rmmod modprobe mount umount "
    "swapoff iptables ip6tables nft ufw systemctl service"
)
_SYSTEMCTL_READ_ONLY = _words(
    "status show cat list-units list-unit-files is-active is-enabled is-failed list-timers"
)
_INERT = _words(
    "true false : cd pwd sleep date exit return set shopt read test [ wait shift "
    "break continue unalias type which hash umask ulimit getopts let seq yes "
    "whoami id hostname uname printenv basename dirname mktemp jobs fg bg disown history "
    "help pushd popd dirs sync nproc clear tput logger local declare typeset readonly "
    "export unset df free uptime ps"
)


def _handlers() -> dict[str, _Handler]:
    table: dict[str, _Handler] = {
        "rm": _rm,
        "rmdir": _plain_delete,
        "unlink": _plain_delete,
        "shred": _shred,
        "truncate": _truncate,
        "find": _find,
        "git": _git,
        "dd": _dd,
        "chmod": _chmod,
        "chown": _chown,
        "chgrp": _chown,
        "scp": _scp,
        "rsync": _rsync,
        "sftp": _ftp_family,
        "ftp": _ftp_family,
        "lftp": _ftp_family,
        "nc": _netcat,
        "ncat": _netcat,
        "netcat": _netcat,
        "socat": _socat,
        "mail": _mail,
        "mailx": _mail,
        "mutt": _mail,
        "aws": _aws,
        "gsutil": _gsutil,
        "gcloud": _gcloud,
        "azcopy": _azcopy,
        "rclone": _rclone,
        "echo": _echo,
        "printf": _printf,
        "cat": _cat,
        "tee": _tee,
        "pv": _passthrough,
        "buffer": _passthrough,
        "mbuffer": _passthrough,
        "cp": _copy,
        "mv": _copy,
        "install": _copy,
        "ln": _copy,
        "mkdir": _create,
        "touch": _create,
        "eval": _eval,
        "alias": _alias,
        "source": _source,
        ".": _source,
        "bq": _bq,
        "clickhouse": _clickhouse,
        "xargs": _xargs,
        "trap": _trap,
        "parallel": _parallel,
        "watch": _watch,
        "ssh": _ssh,
        "docker": _docker,
        "docker-compose": _docker,
        "podman": _docker,
        "su": _su,
        "runuser": _su,
        "curl": _curl,
        "wget": _wget,
        "http": _httpie,
        "https": _httpie,
        "xh": _httpie,
        "kubectl": _kubectl,
        "oc": _kubectl,
    }
    groups: list[tuple[Collection[str], _Handler]] = [
        (_COMPRESSORS, _compressor),
        (_DECODERS, _decoder),
        (_READERS, _reader),
        (_DEVICE_TOOLS, _device_tool),
        (_PRIVILEGE_TOOLS, _privilege_tool),
        (_HOST_CONTROL, _host_control),
        (_SHELLS, _shell),
        (_INTERPRETERS, _interpreter),
        (_SQL_CLIENTS, _sql_client),
        (_DUMPERS, _dump),
        (_RESTORERS, _restore),
        (_WRAPPERS, _wrapped),
        (_INERT, _inert),
    ]
    for programs, handler in groups:
        for program in programs:
            table.setdefault(program, handler)
    return table


def _canonical(program: str) -> str:
    """The table key for a program name: python3.11 -> python, mkfs.ext4 -> mkfs."""
    versioned = _VERSIONED.match(program)
    if versioned:
        return "python" if versioned.group(1) == "pypy" else versioned.group(1)
    if program.startswith("mkfs."):
        return "mkfs"
    return _INTERPRETER_ALIASES.get(program, program)


_HANDLERS = _handlers()
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


# --------------------------------------------------------------------------- the tree walk

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
_SALVAGEABLE = (
    _WORD_PIECES
    | _EXPANSIONS
    | {"string", "raw_string", "concatenation", "ansi_c_string", "translated_string"}
)
_OUTPUT_OPERATORS = _words("> >> &> &>> >| >& <>")
_STDOUT_OPERATORS = _words("> >> &> &>> >|")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _parseable(text: str) -> bytes:
    """The bytes tree-sitter parses: every non-ASCII character becomes the letter ``a``.

    tree-sitter-bash 0.25's scanner segfaults on some astral characters (``{`` then U+E0000),
    and bash's own metacharacters are all ASCII, so the token structure is unchanged. Word
    values are always read from the original text; one byte per character also makes
    tree-sitter's byte offsets our character offsets.
    """
    return (text if text.isascii() else _NON_ASCII.sub("a", text)).encode("ascii")


class _Analyzer:
    """One pass over one script. Statements are emitted into the current sink, in order."""

    def __init__(
        self,
        text: str,
        depth: int,
        produced: dict[str, _Feed] | None = None,
        variables: dict[str, str] | None = None,
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
        self.unstable = _reassigned(text)

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
        self.sink.append(effect.freeze(len(self.sink)))

    # ----- entry

    def run(self) -> tuple[list[StatementEffect], _Feed | None]:
        root = _PARSER.parse(self.source).root_node
        output = self.statement(root, _Io())
        if root.has_error and not any(Intent.UNPARSEABLE in s.intents for s in self.statements):
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
        if kind == "redirected_statement":
            return self.redirected(node, io)
        if kind in ("variable_assignment", "variable_assignments"):
            self.bare_statement(node, _ASSIGNMENT)
            for assignment in [node] if kind == "variable_assignment" else node.children:
                if assignment.type == "variable_assignment":
                    self.remember(assignment)
            return None
        if kind in ("declaration_command", "unset_command"):
            self.bare_statement(node, node.children[0].type if node.children else kind)
            return None
        if kind == "ERROR":
            self.error(node, io)
            return None
        if kind == "function_definition":
            body = node.child_by_field_name("body")
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
            feed = self.statement(stage, _Io(feed, redirects))
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
        else:
            feed, outputs = self.split_redirects(redirects, io.feed)
            output = self.statement(body, _Io(feed, (*io.redirects, *outputs)))
        for child in continuations:
            if child.type == "pipeline" and child.children[0].type in ("|", "|&"):
                output = self.pipeline(child, _Io(output))
            else:
                output = self.statement(child, _Io())
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

    def bare_statement(self, node: Node, operation: str) -> None:
        """Assignments and declarations: no program runs, but substitutions inside them do."""
        effect = self.effect(node.start_byte, node.end_byte)
        effect.operation = operation
        with self.sinking(effect.embedded):
            self.loose(node)
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
        if _MKTEMP.match(text):
            self.variables[name] = "/tmp/tmp.mktemp"
            return
        if "$" in text or "`" in text:
            return  # built at run time: its substitutions were analysed where they stand
        word = self.word(value_node)
        if not word.dynamic and not word.glob:
            self.variables[name] = word.value

    def loose(self, node: Node) -> None:
        """Words outside a command (for-lists, case values, tests): their substitutions run."""
        pending = [node]
        while pending:
            current = pending.pop()
            if current.type in _SUBSTITUTIONS:
                self.substitute(current)
            else:
                pending.extend(reversed(current.children))

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
        with self.sinking(effect.embedded):
            for assignment in assignments:
                self.loose(assignment)
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
        if words:
            for assignment in assignments:
                self.environment(effect, self.node_text(assignment))
        network = any(_NETWORK_DEVICE.match(w.target.value) for w in writes) or bool(
            feed and feed.description.startswith("the network")
        )
        output = self.run_simple(
            effect, words, feed, assignments=bool(assignments), network=network
        )
        for write in writes:
            content = output.literal if write.stdout and output is not None else None
            _record_write(effect, write.target, write.how, content)
            if write.stdout and output is not None:
                self.note_produced(write.target, output)
        if any(write.stdout for write in writes):
            output = None  # stdout goes to the file, not down the pipe
        if node.has_error or any(r.has_error for r in flat):
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

    def environment(self, effect: _Effect, text: str) -> None:
        """``PAGER=... cmd``, ``LD_PRELOAD=... cmd``: a variable that makes the command run code."""
        name, _, value = text.partition("=")
        value = value.strip("'\"")
        if name in shell_registry.environment("code"):
            code = value.lstrip("|").replace("%s", "").strip()
            effect.add(Intent.DYNAMIC, f"{name} makes the command run {_clip(code)}")
            if code and self.depth < MAX_DEPTH:
                effect.embedded.extend(
                    _Analyzer(code, self.depth + 1, self.produced, self.variables).run()[0]
                )
        elif name in shell_registry.environment("loader"):
            effect.add(Intent.HOST_ACCESS, f"{name}={_clip(value)} loads code into the command")
        elif name in shell_registry.environment("session"):
            effect.add(Intent.DYNAMIC, f"{name}={_clip(value)} changes server session settings")
        elif name in shell_registry.environment("search_path"):
            writable = shell_registry.environment("writable")
            first = value.split(":", 1)[0]
            if first in writable or first.startswith(tuple(f"{w}/" for w in writable)):
                effect.add(
                    Intent.HOST_ACCESS, f"{name} puts {first} first: the program run may be planted"
                )

    def dispatch(self, call: _Call) -> None:
        name = call.name
        effect = call.effect
        call.stdout = _Feed(_Origin.DATA, f"the output of {name.display}")
        if name.dynamic:
            effect.operation = name.display
            effect.add(Intent.DYNAMIC, f"the program {name.display} is only known at run time")
            if name.origin & _PAYLOAD:
                _payload(call, name.origin, name.source)
            return
        written = name.value
        program = written.rsplit("/", 1)[-1] or written
        effect.operation = program
        if name.glob:
            message = f"the program name {name.display} is a pattern: what runs depends on files"
            effect.add(Intent.DYNAMIC, message)
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
        handler = _HANDLERS.get(_canonical(program))
        known = shell_registry.lookup(program)
        if (handler is not None or known is not None) and shell_registry.is_dry_run(
            [word.value for word in call.args]
        ):
            effect.add(Intent.READ, f"{program} runs as a dry run: it reports and changes nothing")
            effect.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, program)
            return
        if handler is not None:
            handler(call)
            unexplained = set(effect.findings) <= {Intent.READ, Intent.WRITE}
            if known is not None and unexplained:
                shell_registry.judge(call, known, _BRIDGE)
        elif known is not None:
            shell_registry.judge(call, known, _BRIDGE)
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
        inner = _Effect(text=text, span=span)
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

    # ----- files written earlier in the script

    def note_produced(self, path: _Word, content: _Feed) -> None:
        if content.origin & _PAYLOAD and not path.dynamic:
            self.produced[posixpath.normpath(path.value)] = content

    def produced_by(self, path: _Word) -> _Feed | None:
        return None if path.dynamic else self.produced.get(posixpath.normpath(path.value))

    # ----- nested analysers

    def nested_shell(self, effect: _Effect, script: str) -> _Feed | None:
        if self.depth + 1 > MAX_DEPTH:
            effect.embedded.append(_too_deep(script, CommandKind.SHELL))
            return None
        statements, output = _Analyzer(script, self.depth + 1, self.produced, self.variables).run()
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

    # ----- redirections

    @staticmethod
    def redirect_operator(redirect: Node) -> str:
        if redirect.type == "heredoc_redirect":
            return "<<"
        if redirect.type == "herestring_redirect":
            return "<<<"
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
        return [_Write(target, f"the redirect {descriptor}{operator}", stdout)]

    def input_redirect(self, redirect: Node, feed: _Feed | None, effect: _Effect) -> _Feed | None:
        if redirect.type == "heredoc_redirect":
            body = next((c for c in redirect.children if c.type == "heredoc_body"), None)
            text = self.heredoc(redirect, body) if body is not None else _Word.literal("")
            return _Feed(_Origin.NONE, "a heredoc", text)
        target = self.redirect_target(redirect)
        if target is None or re.fullmatch(r"\d+-?|-", target.value):
            return feed  # <&3 duplicates a descriptor
        if redirect.type == "herestring_redirect":
            return _Feed(_Origin.NONE, "a here-string", _concat([target, _Word.literal("\n")]))
        if target.origin:  # < <(cmd)
            return _Feed(target.origin, target.source or target.display)
        network = _NETWORK_DEVICE.match(target.value)
        if network:
            effect.obj(ObjectKind.HOST, ObjectAction.READ, network.group(1))
            return _Feed(_Origin.DOWNLOAD, f"the network ({target.display})")
        effect.obj(ObjectKind.FILE, ObjectAction.READ, target.display)
        effect.add(Intent.READ, f"input from {target.display}")
        return _Feed(_Origin.FILE, target.display)

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

    def slice(self, start_byte: int, end_byte: int) -> str:
        start, end = self.chars(start_byte, end_byte)
        return self.text[start:end]

    # ----- words

    def words(self, nodes: Sequence[Node]) -> list[_Word]:
        """Evaluate word nodes, gluing pieces the grammar split (``$"x"``, ``r\\<newline>m``)."""
        ordered = sorted(nodes, key=lambda n: n.start_byte)
        words: list[_Word] = []
        for group in self.adjacent_groups(ordered):
            expanded = self.brace_expansion(group)
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

    def word(self, node: Node) -> _Word:
        builder = _WordBuilder()
        self.piece(node, builder)
        return builder.build(self.chars(node.start_byte, node.end_byte))

    def piece(self, node: Node, builder: _WordBuilder) -> None:
        kind = node.type
        if kind in _EXPANSIONS:
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
        known = _PLAIN_VARIABLE.fullmatch(self.node_text(node))
        if known is not None and known.group(1) in self.variables:
            builder.text(self.variables[known.group(1)])
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
            holder = _Effect(text=text, span=self.chars(node.start_byte, node.end_byte))
            output = self.nested_shell(holder, body)
            self.sink.extend(
                s.model_copy(update={"index": len(self.sink) + i})
                for i, s in enumerate(holder.embedded)
            )
        else:
            # >(cmd) reads what the enclosing command writes into it.
            writer = _Feed(_Origin.DATA, "the output of the enclosing command")
            feed = writer if text.startswith(">(") else None
            output = None
            for child in node.children:
                if child.type in _STATEMENT_TYPES:
                    output = self.statement(child, _Io(feed))
        if output is None:
            return _Origin.DATA, text
        # $(echo x) is known text; anything else is some program's output, not visible here.
        origin = output.origin if output.literal else output.origin | _Origin.DATA
        return origin, output.description


_PLAIN_VARIABLE = re.compile(r"\$\{?([A-Za-z_]\w*)\}?")
_MKTEMP = re.compile(r"^[\"']?(?:\$\(|`)\s*mktemp\b[^|;&]*(?:\)|`)[\"']?$")


def _reassigned(text: str) -> frozenset[str]:
    """Names a script assigns more than once, reads into, loops over or changes in place."""
    counts: dict[str, int] = {}
    for match in re.finditer(r"(?:^|[\s;&|(])([A-Za-z_]\w*)\+?=", text):
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    unstable = {name for name, count in counts.items() if count > 1}
    unstable.update(re.findall(r"\bfor\s+([A-Za-z_]\w*)", text))
    for match in re.finditer(
        r"\b(?:read|mapfile|readarray|getopts|let|declare|typeset|local|export|unset)\b([^;&|\n]*)",
        text,
    ):
        unstable.update(re.findall(r"[A-Za-z_]\w*", match.group(1)))
    return frozenset(unstable)


def _without_nested_errors(node: Node) -> list[Node]:
    """The children of an ERROR node, with nested ERROR nodes opened up (one region, one report)."""
    children: list[Node] = []
    for child in node.children:
        children.extend(_without_nested_errors(child) if child.type == "ERROR" else [child])
    return children


def _is_bare_wrapper(effect: _Effect) -> bool:
    """A transparent wrapper that only ran one inner command and added nothing of its own."""
    return (
        len(effect.embedded) == 1
        and not effect.findings
        and not effect.objects
        and effect.embedded[0].operation == effect.operation
    )


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


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
