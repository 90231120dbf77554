"""The function registry (rules/sql_functions.yaml): what calling a function, procedure or
package reaches, loaded once and checked row by row."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails_core.model import Intent, ObjectAction, ObjectKind
from guardrails_core.yaml_data import load_yaml

FUNCTIONS_FILE = Path(__file__).parent.parent / "rules" / "sql_functions.yaml"
BUILTINS_FILE = Path(__file__).parent.parent / "rules" / "sql_builtins.yaml"
# The dialects whose built-in list (rules/sql_builtins.yaml) a dialect's calls are checked against.
_BUILTIN_LISTS = {"postgres": "postgres", "mysql": "mysql"}


@dataclass(frozen=True)
class FunctionRule:
    intents: tuple[Intent, ...]
    message: str
    # What the function's first string argument names (a server file, a connection string).
    argument: tuple[ObjectKind, ObjectAction] | None = None
    # The function runs the SQL text of its last string argument (dblink_exec('conn', 'sql')).
    runs_sql_argument: bool = False
    # The intents apply only when the call's arguments (as SQL, lower-case) match this.
    when_arguments: re.Pattern[str] | None = None
    # The call runs its SQL text on the database its catalog connects to (Trino's
    # `postgresql.system.query(query => '...')`): read in that database's dialect when known.
    passthrough: bool = False
    # A call whose arguments (tokens joined by spaces, lower-case) match this is bounded: it
    # keeps what the pattern says (the last snapshots, a day of history), so not mass_mutation.
    bounded_when: re.Pattern[str] | None = None
    # The call acts on sessions; its intents do not hold when a SELECT over the session list
    # keeps to the caller's own (`WHERE usename = current_user`): pg_cancel_backend.
    own_sessions: bool = False
    # What the call's first string argument gives, a `url` or a libpq `conninfo`: when it names
    # a host of the organisation's own network, the row's intents do not hold (the SQL the
    # call runs there is still analysed): dblink to localhost, UTL_HTTP of an internal URL.
    own_network: str | None = None
    # The call's first string argument names an environment variable: one whose name says it
    # holds a credential (the shell's rule, rules/programs.yaml environment.credentials) makes
    # reading it privilege too.
    credential_argument: bool = False
    # Where the SQL text a runs_sql call runs stands (1 for the first argument), when it is not
    # the last string: cron.schedule_in_database(job, schedule, command, database).
    sql_argument: int | None = None
    # Where the value a call sets a sequence's position to stands (setval(seq, value): 2): a
    # value past every key a table holds (max(id)) moves it forward, and the intents do not hold.
    position_argument: int | None = None

    def applies(self, arguments: str) -> bool:
        """The row's intents hold for a call with these arguments (written as SQL)."""
        return self.when_arguments is None or bool(self.when_arguments.search(arguments.lower()))


@dataclass(frozen=True)
class FunctionRegistry:
    functions: dict[str, FunctionRule]
    packages: dict[str, FunctionRule]
    # Prefixes of system functions: an unlisted call in one of them is `unknown`.
    system_namespaces: tuple[str, ...]
    # System functions known only to read catalog state (matched against the whole name).
    system_reads: re.Pattern[str]
    # Functions that run the SQL text of their first string argument.
    sql_text: frozenset[str]
    # Tables whose rows are scheduled jobs: the column that holds the SQL each job runs.
    job_tables: dict[str, str]


class FunctionRegistryError(ValueError):
    """A row of the function registry is wrong: the message names the file, row and fix."""


_SECTIONS = {
    "functions",
    "packages",
    "system_namespaces",
    "system_reads",
    "sql_text",
    "job_tables",
}
_ROW_KEYS = {
    "names",
    "intents",
    "message",
    "argument",
    "runs_sql",
    "sql_argument",
    "when_arguments",
    "passthrough",
    "bounded_when",
    "own_sessions",
    "own_network",
    "credential_argument",
    "position_argument",
}
_OWN_NETWORK_FORMS = frozenset(("url", "conninfo"))
_NAME = re.compile(r"^[a-z_][a-z0-9_$.]*$")


def load_function_registry(path: Path = FUNCTIONS_FILE) -> FunctionRegistry:
    """Read and check the registry; a wrong row raises FunctionRegistryError naming it."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != _SECTIONS:
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise FunctionRegistryError(
            f"{path.name}: the file must have exactly the sections {sorted(_SECTIONS)}, "
            f"not {found}; fix the file"
        )
    return FunctionRegistry(
        functions=_rows(path.name, "functions", data["functions"]),
        packages=_rows(path.name, "packages", data["packages"]),
        system_namespaces=tuple(_names(path.name, "system_namespaces", data["system_namespaces"])),
        system_reads=_alternatives(path.name, data["system_reads"]),
        sql_text=frozenset(_names(path.name, "sql_text", data["sql_text"])),
        job_tables=_job_tables(path.name, data["job_tables"]),
    )


def _job_tables(where: str, data: object) -> dict[str, str]:
    if not isinstance(data, dict) or not all(
        isinstance(table, str) and isinstance(column, str) and _NAME.match(table)
        for table, column in data.items()
    ):
        raise FunctionRegistryError(
            f"{where}: job_tables maps a lower-case table name to its SQL column; fix the section"
        )
    return {table: column.lower() for table, column in data.items()}


@functools.cache
def function_registry() -> FunctionRegistry:
    return load_function_registry()


@functools.cache
def _builtin_lists() -> dict[str, frozenset[str]]:
    data = load_yaml(BUILTINS_FILE.read_text(encoding="utf-8"))
    lists: dict[str, frozenset[str]] = {}
    for dialect, names in (data or {}).items():
        if not isinstance(names, list) or any(
            not isinstance(name, str) or name != name.lower() for name in names
        ):
            raise FunctionRegistryError(
                f"{BUILTINS_FILE.name}: {dialect} must be a list of lower-case function names"
            )
        lists[str(dialect)] = frozenset(names)
    return lists


def builtin_functions(dialect: str | None) -> frozenset[str] | None:
    """The dialect's built-in function names, when it is one where user functions can change
    data and the list is kept (None: calls are not checked against a list)."""
    listed = _BUILTIN_LISTS.get(dialect or "")
    return _builtin_lists().get(listed) if listed else None


def _rows(file: str, section: str, rows: Any) -> dict[str, FunctionRule]:
    if not isinstance(rows, list):
        raise FunctionRegistryError(f"{file}: {section} must be a list of rows; fix the file")
    rules: dict[str, FunctionRule] = {}
    first_row: dict[str, int] = {}
    for position, row in enumerate(rows):
        where = f"{file}: {section}[{position}]"
        if not isinstance(row, dict):
            raise FunctionRegistryError(f"{where}: a row is a mapping with names, intents, message")
        where = f"{where} ({', '.join(map(str, row.get('names') or ()))})"
        rule = _rule(where, row)
        for name in _names(file, f"{section}[{position}].names", row.get("names")):
            if name in first_row:
                raise FunctionRegistryError(
                    f"{where}: {name!r} is already in {section}[{first_row[name]}]; "
                    "a name belongs to one row, fix the row"
                )
            first_row[name] = position
            rules[name] = rule
    return rules


def _rule(where: str, row: dict[str, Any]) -> FunctionRule:
    unknown = set(row) - _ROW_KEYS
    if unknown:
        raise FunctionRegistryError(
            f"{where}: unknown key {sorted(unknown)} (known: {sorted(_ROW_KEYS)}); fix the row"
        )
    if "message" not in row or "intents" not in row:
        raise FunctionRegistryError(f"{where}: every row needs intents and message; fix the row")
    try:
        intents = tuple(Intent(intent) for intent in row["intents"])
        argument = row.get("argument")
        target = (
            None
            if argument is None
            else (ObjectKind(argument["kind"]), ObjectAction(argument["action"]))
        )
    except (KeyError, ValueError, TypeError) as error:
        raise FunctionRegistryError(f"{where}: {error}; fix the row") from error
    runs_sql = row.get("runs_sql", False)
    if not isinstance(runs_sql, bool):
        raise FunctionRegistryError(f"{where}: runs_sql is true or false; fix the row")
    when_arguments, bounded_when = (_pattern(where, row, key) for key in _PATTERN_KEYS)
    passthrough, own_sessions = row.get("passthrough", False), row.get("own_sessions", False)
    credential_argument = row.get("credential_argument", False)
    if not all(isinstance(flag, bool) for flag in (passthrough, own_sessions, credential_argument)):
        raise FunctionRegistryError(
            f"{where}: passthrough, own_sessions and credential_argument are true or false; "
            "fix the row"
        )
    sql_argument, position_argument = row.get("sql_argument"), row.get("position_argument")
    for position in (sql_argument, position_argument):
        if position is not None and not (isinstance(position, int) and position >= 1):
            raise FunctionRegistryError(
                f"{where}: sql_argument and position_argument are positions from 1; fix the row"
            )
    own_network = row.get("own_network")
    if own_network is not None and own_network not in _OWN_NETWORK_FORMS:
        raise FunctionRegistryError(
            f"{where}: own_network is one of {sorted(_OWN_NETWORK_FORMS)}; fix the row"
        )
    return FunctionRule(
        intents,
        str(row["message"]),
        target,
        runs_sql,
        when_arguments,
        passthrough,
        bounded_when,
        own_sessions,
        own_network,
        credential_argument,
        sql_argument,
        position_argument,
    )


_PATTERN_KEYS = ("when_arguments", "bounded_when")


def _pattern(where: str, row: dict[str, Any], key: str) -> re.Pattern[str] | None:
    try:
        return None if row.get(key) is None else re.compile(str(row[key]))
    except re.error as error:
        raise FunctionRegistryError(f"{where}: {key}: {error}; fix the row") from error


def _names(file: str, where: str, names: Any) -> list[str]:
    if not isinstance(names, list) or not names:
        raise FunctionRegistryError(f"{file}: {where} must be a non-empty list; fix the row")
    wrong = [name for name in names if not isinstance(name, str) or not _NAME.match(name)]
    if wrong:
        raise FunctionRegistryError(
            f"{file}: {where}: {wrong} are not lower-case names as the database resolves them "
            "(quotes gone, letters, digits, _ $ .); fix the row"
        )
    return list(names)


def _alternatives(file: str, patterns: Any) -> re.Pattern[str]:
    if not isinstance(patterns, list) or not patterns:
        raise FunctionRegistryError(f"{file}: system_reads must be a non-empty list; fix it")
    for position, pattern in enumerate(patterns):
        try:
            re.compile(str(pattern))
        except re.error as error:
            raise FunctionRegistryError(
                f"{file}: system_reads[{position}] ({pattern!r}) is not a regular expression: "
                f"{error}; fix the row"
            ) from error
    return re.compile("^(?:" + "|".join(str(pattern) for pattern in patterns) + ")$")
