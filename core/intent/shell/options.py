"""Option parsing, paths and places, and the one command being analysed (`_Call`)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from guardrails_core.intent import shell_registry
from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.shell.words import (
    EXPANSION_PLACEHOLDER,
    _Effect,
    _Feed,
    _Origin,
    _Word,
)
from guardrails_core.locations import in_temp_folder, lexical_path
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

if TYPE_CHECKING:
    from guardrails_core.intent.shell.walk import _Analyzer


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
    """A literal path strictly inside /tmp/ or /var/tmp/, or a relative build or cache folder
    (also a path built of `${X:?}` guards: see guarded_path)."""
    if _temporary_leaf(word):
        return True
    path = guarded_path(word) if word.dynamic else word.value
    if path is None:
        return False
    return shell_registry.is_scratch(path) or in_temp_folder(path, glob=word.glob)


# `"${DIR:?message}"` stops the shell when DIR is unset or empty: it names some folder, unknown as
# the working folder is, so `"${DIR:?}/build"` is judged as the relative `build` is (a leading
# `${TMPDIR:?}` is the temp folder: see expand.temp_folder). `${DIR?}` (no colon) lets an empty
# DIR through, and `$DIR` or `${DIR:-}` may be empty: `/build`.
_NON_EMPTY = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}")
# an object store's URL: the bucket, then a key that names objects literally
_OBJECT_KEY = re.compile(r"^(?:s3a?|gs|gcs)://([^/]*)/")


def guarded_path(word: _Word) -> str | None:
    """The path a quoted word whose every expansion is a `${X:?}` guard stands for: a leading
    `${DIR:?}/` is a folder judged as the working folder is, a guard inside a name
    (`/tmp/run-${ID:?}`) some name, spelt X. A guard that is a whole name (`/tmp/${X:?}`) may
    be `..`: no path, except in an object store's key (`s3://b/runs/${ID:?}/`), where `..` is
    a name like any other; the bucket itself must be written out."""
    guards = [_NON_EMPTY.fullmatch(expansion) for expansion in word.expansions]
    if word.split or not guards or not all(guards):
        return None
    names = [guard.group(1) for guard in guards if guard is not None]
    value = word.value
    if value.startswith(EXPANSION_PLACEHOLDER + "/"):
        names.pop(0)
        value = value[len(EXPANSION_PLACEHOLDER) + 1 :]
    store = _OBJECT_KEY.match(value)
    if store is None and EXPANSION_PLACEHOLDER in value.split("/"):
        return None
    if store is not None and EXPANSION_PLACEHOLDER in store.group(1):
        return None
    for name in names:
        value = value.replace(EXPANSION_PLACEHOLDER, name, 1)
    return value


def _temporary_leaf(word: _Word) -> bool:
    """`/data/pipeline/${RUN_ID:?}/tmp`: a folder named as temporary (tmp, temp, scratch: the
    scratch bucket names) two levels or more below the root, its name written out. `${X:?}`
    guards cannot expand empty, and whatever they hold (even `..`), the folder deleted is
    one of that name; any other expansion may hold a space, a glob or nothing."""
    if word.glob or word.split or not word.value.startswith("/"):
        return False
    if word.dynamic and not all(_NON_EMPTY.fullmatch(e) for e in word.expansions):
        return False
    parts = [part for part in word.value.split("/") if part not in ("", ".")]
    return (
        len(parts) >= 3
        and ".." not in parts
        and parts[-1] in registry().scratch_buckets
        and not shell_registry.file_classes(word.value)
    )


def _is_workspace(word: _Word) -> bool:
    """A literal relative path that stays inside the working folder."""
    path = word.value
    if word.dynamic or word.glob or path.startswith(("/", "~")):
        return False
    return ".." not in path.split("/")


def _is_device(written: str) -> bool:
    path = lexical_path(written)
    return (
        path.startswith("/dev/")
        and path not in _HARMLESS_DEVICES
        and not path.startswith(_HARMLESS_DEVICE_DIRS)
    )


_SECRET_FILES = ("secrets", "secret_folders", "environ")
# folders that hold every user's home folder, and with it their ~/.ssh and ~/.aws (the root
# folder and one home folder hold a table's files themselves: folder_holds)
_HOMES = frozenset(("/home", "/Users"))


def _file_read(word: _Word) -> _Origin:
    """The origin of a file's bytes read whole: a file or folder that holds credentials, or
    whose name is not visible here, may be a credentials file."""
    if word.dynamic or (
        shell_registry.file_classes(word.value) & set(_SECRET_FILES)
        or shell_registry.folder_holds(word.value, _SECRET_FILES)
        or lexical_path(word.value).rstrip("/") in _HOMES
    ):
        return _Origin.FILE | _Origin.CREDENTIALS
    return _Origin.FILE


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

    def note_fact(self, key: str, value: str) -> None:
        self.analyzer.note_fact(key, value)

    def fact(self, key: str) -> str | None:
        return self.analyzer.fact(key)

    def reads_whole(self, word: _Word) -> None:
        """It reads this file or folder whole into its stdout (``tar c ~/.ssh``): one that may
        hold credentials makes the output never plain data."""
        printed = self.stdout or _Feed(_Origin.DATA, f"the output of {self.prog}")
        if _file_read(word) & _Origin.CREDENTIALS:
            self.stdout = _Feed(printed.origin | _Origin.CREDENTIALS, printed.description)

    def prints_credential(self, *, named: bool = False) -> None:
        """Its stdout is a credential (``named``: among named values): where that goes is
        judged where it lands."""
        printed = self.stdout or _Feed(_Origin.DATA, f"the output of {self.prog}")
        origin = printed.origin | _Origin.SECRET | (_Origin.NAMED if named else _Origin.NONE)
        self.stdout = _Feed(origin, printed.description)


_Handler = Callable[[_Call], None]
# ipython runs Python as python does (-c, -m, a script); its magics and !lines do not parse as
# Python, so code using them stays dynamic
_INTERPRETER_ALIASES = {
    "nodejs": "node",
    "powershell": "pwsh",
    "jruby": "ruby",
    "ipython": "python",
    "ipython3": "python",
}
_VERSIONED = re.compile(r"^(python|pypy|perl|ruby|php|lua|node)[\d.]*$")


def _canonical(program: str) -> str:
    """The table key for a program name: python3.11 -> python, mkfs.ext4 -> mkfs; a notebook
    cell's `!cmd` -> `!`."""
    if program.startswith("!") and len(program) > 1:
        return "!"
    versioned = _VERSIONED.match(program)
    if versioned:
        return "python" if versioned.group(1) == "pypy" else versioned.group(1)
    if program.startswith("mkfs."):
        return "mkfs"
    return _INTERPRETER_ALIASES.get(program, program)
