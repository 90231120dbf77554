"""SQL clients' start-up files (rules/client_startup.yaml): SQL this script wrote to one runs
before the SQL the client is given, so it is judged as part of that run."""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guardrails_core.intent.programs import home_form
from guardrails_core.intent.shell.words import _Feed, _Word
from guardrails_core.yaml_data import load_yaml

if TYPE_CHECKING:
    from guardrails_core.intent.shell.options import _Call

_RULES = Path(__file__).parent.parent / "rules" / "client_startup.yaml"


# Lines that a startup file may gain without running anything new: comments, plain exports of
# variables that load no code, psql display settings, and the display settings of sqlite3's and
# duckdb's dot commands (headers, output mode, NULL text, timer, column widths).
HARMLESS_STARTUP_LINE = re.compile(
    r"^\s*(?:#.*|export\s+(?P<name>[A-Za-z_]\w*)=\S*|\\(?:timing|pset|x|encoding)\b.*"
    r"|\\set\s+(?:ON_ERROR_STOP|ECHO|ECHO_HIDDEN|VERBOSITY|SHOW_CONTEXT|QUIET|HISTSIZE"
    r"|HISTCONTROL|COMP_KEYWORD_CASE|FETCH_COUNT|PROMPT\d)\b.*)?\s*$"
)


@dataclass(frozen=True, slots=True)
class _Startup:
    files: tuple[str, ...]
    key: str | None
    skip: frozenset[str]
    env: str | None = None


@functools.cache
def _clients() -> dict[str, _Startup]:
    data = load_yaml(_RULES.read_text(encoding="utf-8"))
    table: dict[str, _Startup] = {}
    for row in data["clients"]:
        startup = _Startup(
            tuple(row["files"]), row.get("key"), frozenset(row.get("skip") or ()), row.get("env")
        )
        table.update(dict.fromkeys(row["names"], startup))
    return table


def startup_sql(call: _Call) -> list[tuple[str, _Word]]:
    """(file, SQL) for each start-up file of this client that the script wrote, when the call
    reads start-up files."""
    startup = _clients().get(call.prog)
    if startup is None or any(word.value in startup.skip for word in call.args):
        return []
    named = call.analyzer.option_environment.get(startup.env) if startup.env else None
    # the variable replaces the default file (`./rc.sql` is the file written as `rc.sql`)
    files = (posixpath.normpath(named),) if named else startup.files
    found = []
    for name, written in call.analyzer.produced.items():
        if written.literal is None or not _is_startup(posixpath.normpath(home_form(name)), files):
            continue
        text = written.literal
        if startup.key is not None:
            text = _Word.literal("\n".join(_values(text.value, startup.key)))
        if text.value.strip():
            found.append((name, text))
    return found


def is_client_startup(path: str) -> bool:
    """A start-up file of one of the SQL clients (`~/.sqliterc`, `~/.psqlrc`)."""
    return any(_is_startup(home_form(path), startup.files) for startup in _clients().values())


def _is_startup(path: str, globs: tuple[str, ...]) -> bool:
    """One of the client's start-up files (`~/.psqlrc-16` of `~/.psqlrc*`), however the home
    folder is spelled."""
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)


def _values(text: str, key: str) -> list[str]:
    """An option file's values of `key` (`init-command` and `init_command` alike)."""
    spelled = "[-_]".join(re.escape(part) for part in re.split("[-_]", key))
    pattern = re.compile(rf"(?im)^\s*{spelled}\s*=\s*(.*?)\s*$")
    values = []
    for match in pattern.finditer(text):
        value = match.group(1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values.append(value)
    return values


_NOTHING = "/dev/null"


def names_seen_startup(variable: str, value: str, produced: dict[str, _Feed]) -> bool:
    """``PSQLRC=/dev/null psql``, ``PSQLRC=/tmp/rc psql`` with /tmp/rc written above: the start-up
    file a client's variable names loads no code: the null device holds nothing, and a file this
    script wrote with client settings only (HARMLESS_STARTUP_LINE: ``\\set ON_ERROR_STOP on``,
    ``\\timing``) runs nothing. A file with SQL or other client commands still points the client
    at code (its SQL is judged with the run by startup_sql)."""
    if variable not in {startup.env for startup in _clients().values() if startup.env}:
        return False
    path = posixpath.normpath(value)
    if path == _NOTHING:
        return True
    written = produced.get(path)
    if written is None or written.literal is None or written.literal.dynamic:
        return False
    return all(HARMLESS_STARTUP_LINE.match(line) for line in written.literal.value.splitlines())
