"""Paths, URLs and stages as the system that uses them will read them, for policy matching.

`readings(text)` gives every form a location may take where it is used: `.` and `..` resolved,
`//` collapsed, URLs percent-decoded (again while a decode still changes them: double encoding),
hosts lower-cased and IDNA-mapped, `file:` URIs turned into paths, Windows paths with `/`.
Where systems disagree (a backslash on a server of unknown OS, `..` in an object-store key, a
server that NFKC-folds look-alikes) each reading is kept: an allow must hold for all of them, a
deny for any. `None` means the location cannot be read safely (control characters, `..` above a
stage or home folder, an unreadable host): it may match a deny, never an allow.

`compile_pattern(text)` turns a location glob into a regex over those readings: `*` and `?` stay
inside one path segment, `**` (a whole segment) spans any depth, and no glob matches `.` or `..`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import unquote, urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_FILE_URI = re.compile(r"^file:(?://(?P<host>[^/]*))?(?P<path>/.*)$", re.IGNORECASE | re.DOTALL)
_WINDOWS = re.compile(r"^(?:\\\\\?\\)?(?:[A-Za-z]:[\\/]|\\\\)")
_GLOB = re.compile(r"[*?\[]")
_MAX_DECODES = 3
_LOCAL_HOSTS = ("", "localhost")


class LocationPatternError(ValueError):
    """A location pattern that cannot be matched safely; the message says how to write it."""


# --------------------------------------------------------------------------- readings


@lru_cache(maxsize=8192)
def readings(text: str) -> tuple[str, ...] | None:
    """Every normalised, lower-cased form of `text`, or None when it cannot be read safely."""
    if _CONTROL.search(text):
        return None
    if text[:5].lower() == "file:":
        return _file_uri_readings(text)
    if _SCHEME.match(text):
        return _url_readings(text)
    return _path_readings(text)


def _path_readings(text: str) -> tuple[str, ...] | None:
    if _WINDOWS.match(text):
        return _one(_windows_path(text))
    found = [_posix_path(text)]
    if "\\" in text:
        # A database server on Windows reads `\` as a separator; which OS it runs is unknown.
        found.append(_posix_path(text.replace("\\", "/")))
    return _distinct(found)


# Inside the working folder: no root, home, drive, scheme or URL (no `:` at all), no `..`.
_WORKING_FOLDER_PATH = re.compile(r"(?![/~\\])(?!.*:)(?!(?:.*[/\\])?\.\.(?:[/\\]|$))")


# What a fresh `mktemp` path reads as in the shell analyzer (`d=$(mktemp -d)`): a folder the
# script itself made, that nothing else kept data in.
MKTEMP_PATH = "/tmp/tmp.mktemp"


def in_fresh_temp_folder(text: str) -> bool:
    """`/tmp/tmp.mktemp/part-0.parquet`: a path inside a folder the script made with mktemp."""
    resolved = _posix_path(text)
    return resolved is not None and resolved.startswith(f"{MKTEMP_PATH}/")


# The host's temporary folders: what is strictly inside one is scratch space, never kept data.
TEMP_ROOTS = ("/tmp/", "/var/tmp/")


def in_temp_folder(path: str, *, glob: bool = False) -> bool:
    """`/tmp/scratch/x.parquet`: a literal path strictly inside a temporary folder."""
    return strictly_inside(path, TEMP_ROOTS, glob=glob)


def strictly_inside(path: str, roots: Sequence[str], *, glob: bool = False) -> bool:
    """A path strictly inside one of `roots` (not the root itself), no `..` (nor, in a glob, a
    dot-name: `.*` can match `..` in older shells)."""
    root = next((root for root in roots if path.startswith(root)), None)
    if root is None:
        return False
    parts = [part for part in path[len(root) :].split("/") if part not in ("", ".")]
    climbs = any(part == ".." or (glob and part.startswith(".")) for part in parts)
    return bool(parts) and not climbs


def in_working_folder(text: str) -> bool:
    """`data/orders.parquet`: a non-empty relative path that stays in the working folder."""
    return bool(text.strip()) and _WORKING_FOLDER_PATH.match(text) is not None


def lexical_path(text: str) -> str:
    """A POSIX path with `.`, `..` and `//` resolved, case kept (`text` itself when `..` climbs
    above `~`): what the shell analyzer classifies besides the path as written."""
    return _posix_path(text) or text


def _posix_path(text: str) -> str | None:
    if text.startswith(("@", "~")):
        root, _, rest = text.partition("/")
        resolved = _resolve(rest.split("/"), above_root=None)
        return None if resolved is None else _join(root, resolved)
    absolute = text.startswith("/")
    resolved = _resolve(text.split("/"), above_root="drop" if absolute else "keep")
    if resolved is None:
        return None
    return ("/" if absolute else "") + "/".join(resolved) or "."


def _windows_path(text: str) -> str | None:
    root, rest = _windows_root(text)
    segments = []
    for segment in rest.split("/"):
        # Windows drops trailing dots and spaces: `x.csv.` is `x.csv`.
        trimmed = segment.rstrip(". ")
        if not trimmed and segment not in ("", ".", ".."):
            return None  # `.. .`, `...`: read differently by different Windows APIs
        segments.append(segment if segment in (".", "..") else trimmed)
    resolved = _resolve(segments, above_root="drop")
    return None if resolved is None else _join(root, resolved).lower()


def _windows_root(text: str) -> tuple[str, str]:
    """`C:` or `//server/share`, and the rest with `/` separators."""
    body = re.sub(r"^\\\\\?\\", "", text).replace("\\", "/")
    if body.startswith("//"):
        server, _, rest = body[2:].partition("/")
        share, _, rest = rest.partition("/")
        return f"//{server}/{share}".lower(), rest
    drive, _, rest = body.partition("/")
    return drive.lower(), rest


def _file_uri_readings(text: str) -> tuple[str, ...] | None:
    match = _FILE_URI.match(text)
    if match is None:
        return None
    if (match.group("host") or "").lower() not in _LOCAL_HOSTS:
        return _url_readings(text)
    decoded = _decodings(match.group("path"))
    if decoded is None:
        return None
    return _distinct([reading for one in decoded for reading in _path_readings(one) or (None,)])


def _url_readings(text: str) -> tuple[str, ...] | None:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    hosts = _hosts(parts.hostname or "")
    paths = _decodings(parts.path)
    if hosts is None or paths is None:
        return None
    scheme = parts.scheme.lower()
    forms: list[str] = []
    for path in paths:
        forms.append(path)
        if "\\" in path:
            forms.append(path.replace("\\", "/"))  # WHATWG parsers read `\` as `/` in http(s)
        folded = unicodedata.normalize("NFKC", path)
        if folded != path:
            forms.append(folded)  # servers that fold look-alikes (fullwidth dots -> `..`)
    found: list[str | None] = []
    for host in hosts:
        root = f"{scheme}://{host}" + (f":{port}" if port is not None else "")
        for form in forms:
            segments = form.split("/")
            resolved = _resolve(segments, above_root="drop")
            found.append(None if resolved is None else _join(root, resolved))
            if any(segment in (".", "..") for segment in segments):
                # Object stores (and clients told not to) keep `..` as part of the key.
                found.append(_join(root, [segment for segment in segments if segment]))
    return _distinct(found)


def _hosts(host: str) -> list[str] | None:
    """The host as written and percent-decoded (WHATWG decodes hosts), IDNA-mapped."""
    found = []
    for candidate in dict.fromkeys((host, unquote(host))):
        if _CONTROL.search(candidate):
            return None
        name = candidate.rstrip(".")
        if not name.isascii():
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                return None
        found.append(name.lower())
    return found


def _decodings(path: str) -> list[str] | None:
    """`path` decoded once, and again while that changes it (a server may decode twice)."""
    found = [path]
    while "%" in found[-1]:
        try:
            decoded = unquote(found[-1], errors="strict")
        except UnicodeDecodeError:
            return None
        if decoded == found[-1]:
            break
        if len(found) > _MAX_DECODES:
            return None
        found.append(decoded)
    decoded_forms = found[1:] or found
    return None if any(_CONTROL.search(one) for one in decoded_forms) else decoded_forms


def _resolve(segments: list[str], *, above_root: str | None) -> list[str] | None:
    """Resolve `.`, `..` and empty segments. `above_root`: "drop" (a filesystem or URL root: `/..`
    is `/`), "keep" (a relative path keeps its leading `..`), None (a stage or home folder whose
    parent is unknown: climbing above it cannot be read)."""
    resolved: list[str] = []
    for segment in segments:
        if segment in ("", "."):
            continue
        if segment != "..":
            resolved.append(segment)
        elif resolved and resolved[-1] != "..":
            resolved.pop()
        elif above_root == "keep":
            resolved.append("..")
        elif above_root is None:
            return None
    return resolved


def _join(root: str, segments: list[str]) -> str:
    return "/".join([root, *segments]) if segments else root


def _one(reading: str | None) -> tuple[str, ...] | None:
    return None if reading is None else (reading,)


def _distinct(found: list[str | None]) -> tuple[str, ...] | None:
    if not found or any(reading is None for reading in found):
        return None
    return tuple(dict.fromkeys(reading.lower() for reading in found if reading is not None))


# --------------------------------------------------------------------------- patterns

_ANY_SEGMENT = r"(?!\.\.?(?:/|$))[^/]+"


def compile_pattern(text: str) -> re.Pattern[str]:
    """A location glob as a regex over `readings`; raises `LocationPatternError`."""
    if _CONTROL.search(text):
        raise LocationPatternError(f"{text!r} contains a control character")
    root, path, relative = _pattern_root(text)
    segments = path.split("/")
    if ".." in segments:
        raise LocationPatternError(
            f"{text!r} contains '..'; write the folder it resolves to (patterns are matched "
            "against resolved paths)"
        )
    kept = [segment for segment in segments if segment not in ("", ".")]
    if not kept:
        body = "" if root or relative else "/"
    else:
        body = _path_regex(kept, text, relative=relative)
    return re.compile(_root_regex(root) + body, flags=re.DOTALL)


def _pattern_root(text: str) -> tuple[str, str, bool]:
    """The pattern's root (scheme and host, stage, home, drive; "" for `/`), its path, and
    whether it is relative."""
    file_uri = _FILE_URI.match(text)
    if file_uri is not None and (file_uri.group("host") or "").lower() in _LOCAL_HOSTS:
        return _pattern_root(unquote(file_uri.group("path")))
    scheme = _SCHEME.match(text)
    if scheme is not None:
        authority, slash, path = text[scheme.end() :].partition("/")
        if "@" in authority:
            raise LocationPatternError(f"{text!r}: user names in URL patterns are not matched")
        host = authority.rstrip(".").lower()
        if not _GLOB.search(host) and not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError as error:
                raise LocationPatternError(f"{text!r}: the host is not a name ({error})") from None
        return f"{scheme.group(1).lower()}://{host}", unquote(slash + path), False
    if _WINDOWS.match(text):
        root, rest = _windows_root(text)
        return root, rest, False
    if text.startswith(("@", "~")):
        root, _, rest = text.partition("/")
        return root.lower(), rest, False
    return "", text, not text.startswith("/")


def _path_regex(segments: list[str], text: str, *, relative: bool) -> str:
    """Segments joined by `/` (none before the first of a relative path); a `**` segment is
    any number of segments (at the end: at least one)."""
    regex = ""
    glued = relative  # whether the next segment follows without its own `/`
    for index, segment in enumerate(segments):
        separator = "" if glued else "/"
        glued = False
        if segment == "**":
            if index == len(segments) - 1:
                first = f"{separator}{_ANY_SEGMENT}"
                regex += f"{first}(?:/{_ANY_SEGMENT})*"
            else:
                regex += f"{separator}(?:{_ANY_SEGMENT}/)*"
                glued = True
            continue
        if "**" in segment:
            raise LocationPatternError(
                f"{text!r}: '**' must be a whole path segment (a/**/b); '*' matches within one"
            )
        regex += separator + _segment_glob(segment)
    return regex


def _segment_glob(segment: str) -> str:
    """One path segment's glob: `*` and `?` never match `/`, and no glob matches `.` or `..`."""
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        end = segment.find("]", index + 2) if char == "[" else -1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif end != -1:
            body = re.escape(segment[index + 1 : end].lower()).replace("\\-", "-")
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"(?!/)[{body}]")
            index = end
        else:
            out.append(re.escape(char.lower()))
        index += 1
    regex = "".join(out)
    return f"(?!\\.\\.?(?:/|$)){regex}" if _GLOB.search(segment) else regex


def _root_regex(root: str) -> str:
    """A root (scheme://host, stage, drive) with `*` and `?` inside one name."""
    return "".join(
        "[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char) for char in root
    )


# --------------------------------------------------------------------------- the local filesystem


def real_paths(names: Iterable[str]) -> dict[str, str]:
    """Where each absolute local path really leads once symlinks are resolved (the kernel's
    order: a link before the `..` after it), for those where that differs from its reading.

    This reads the filesystem, so only the edge calls it, and only for paths on this host: the
    files of shell commands the guard's own process runs. Paths on a database server (COPY ...
    TO), in URLs or stages, relative paths (the command's working folder may differ) and `~`
    cannot be checked here and keep their lexical reading.
    """
    found: dict[str, str] = {}
    for name in names:
        if not name.startswith("/") or _CONTROL.search(name):
            continue
        real = os.path.realpath(name)
        if (real.lower(),) != readings(name):
            found[name] = real
    return found
