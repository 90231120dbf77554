"""Backup rotation through a pipe: ``ls -t DIR/*.dump | tail -n +15 | xargs rm`` removes every
file of one named kind but the newest few, as ``find DIR -name '*.dump' -mtime +30 -delete``
removes the old ones: retention of that kind, not a sweep of the folder.

Only the whole idiom counts: ``ls`` sorted by time, one per line (no long format whose fields
xargs would take for names), of one pattern that names a kind of file; then a cut that keeps
at least the newest one (``tail -n +N`` of newest-first, ``head -n -N`` of oldest-first). Any
other filter between them, a kind-less pattern (``*``, a folder) or a cut that keeps nothing
(``head -n 100`` of the oldest: all of them when there are fewer) leaves a mass delete; so does
a pattern that names credential files (``~/.ssh/id_*``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.options import _Parsed
from guardrails_core.intent.shell.words import _Feed, _Listing, _Word

# ls options that keep one plain name per line: one per line, by time, reversed, folders
# listed as names rather than their contents
_PLAIN_LS = frozenset(("-1", "-t", "-r", "-d", "--reverse", "--directory"))
_KEPT = {("tail", "+"): True, ("head", "-"): False}  # the cut, and the order it keeps newest of


def listed(parsed: _Parsed, files: Sequence[_Word]) -> _Listing | None:
    """``ls -1t /backups/*.dump``: the names of one kind of file, ordered by age."""
    by_time = parsed.has("-t") or any(
        name == "--sort" and value is not None and value.value == "time"
        for name, value in parsed.options
    )
    plain = all(name in _PLAIN_LS or name == "--sort" for name, _ in parsed.options)
    if not (by_time and plain and len(files) == 1) or files[0].dynamic:
        return None
    folder, name = posixpath.split(files[0].value)
    if not name.strip("*") or re.search(r"[*?\[]", folder):
        return None
    if shell_registry.names_credential_file(name):  # id_*, *.pem: keys, not backups
        return None
    return _Listing(files[0], newest_first=not parsed.has("-r", "--reverse"))


def cut(program: str, parsed: _Parsed, feed: _Feed | None) -> _Listing | None:
    """``tail -n +15`` of a newest-first listing (``head -n -14`` of an oldest-first one): the
    names left are all but the newest, which are kept."""
    listing = feed.listing if feed is not None else None
    counts = parsed.values("-n", "--lines")
    if listing is None or len(counts) != 1 or len(parsed.options) != 1:
        return None
    match = re.fullmatch(r"([+-])(\d+)", counts[0].value)
    if match is None or _KEPT.get((program, match.group(1))) is not listing.newest_first:
        return None
    kept = int(match.group(2)) - (1 if program == "tail" else 0)  # tail -n +2 keeps one
    return _Listing(listing.files, listing.newest_first, keeps_newest=True) if kept > 0 else None


def rotated(feed: _Feed | None) -> _Word | None:
    """The files a rotation's listing names (xargs appends them): old files of one kind."""
    listing = feed.listing if feed is not None else None
    if listing is None or not listing.keeps_newest:
        return None
    files = listing.files
    return _Word(files.value, files.display, span=files.span, retained=True)
