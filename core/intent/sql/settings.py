"""Session and server settings by registry (rules/sql_settings.yaml): risky, harmless, or unknown.

One judgement for every way SQL changes a setting: SET (parsed or kept as a keyword command),
set_config(), ALTER SYSTEM / DATABASE / ROLE / USER ... SET, and a query's own SETTINGS clause.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from guardrails_core.intent.sql.dialects import MAX_DEPTH, I
from guardrails_core.intent.sql.statement import _Chunk, _Statement
from guardrails_core.locations import in_working_folder
from guardrails_core.model import Intent
from guardrails_core.yaml_data import load_yaml

_SETTINGS_FILE = Path(__file__).parent.parent / "rules" / "sql_settings.yaml"


@dataclass(frozen=True)
class _RiskySetting:
    names: tuple[re.Pattern[str], ...]
    values: frozenset[str]
    intents: tuple[Intent, ...]
    message: str
    shell: bool = False  # the value is a shell command the server runs
    working_folder: bool = False  # harmless when every path it is given is in the working folder


@dataclass(frozen=True)
class _Registry:
    risky: tuple[_RiskySetting, ...]
    harmless: tuple[re.Pattern[str], ...]
    # Harmless settings named exactly that a risky row only reaches through a pattern
    # (ClickHouse `log_comment` tags the query log; `log_*` changes what is logged): the
    # exact name is the more specific row.
    named_harmless: frozenset[str]
    variable_dialects: frozenset[str]
    in_process_dialects: frozenset[str]


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.lower()))


@functools.cache
def _registry() -> _Registry:
    data = load_yaml(_SETTINGS_FILE.read_text(encoding="utf-8"))
    risky = tuple(
        _RiskySetting(
            names=tuple(_glob(str(name)) for name in row["names"]),
            values=frozenset(str(value).lower() for value in row.get("values") or ()),
            intents=tuple(Intent(intent) for intent in row["intents"]),
            message=str(row["message"]),
            shell=bool(row.get("shell")),
            working_folder=bool(row.get("working_folder")),
        )
        for row in data["risky"]
    )
    harmless = tuple(_glob(str(name)) for name in data["harmless"])
    risky_names = {str(name).lower() for row in data["risky"] for name in row["names"]}
    named_harmless = frozenset(
        str(name).lower()
        for name in data["harmless"]
        if not any(char in str(name) for char in "*?[") and str(name).lower() not in risky_names
    )
    return _Registry(
        risky,
        harmless,
        named_harmless,
        frozenset(data.get("variable_dialects") or ()),
        frozenset(data.get("in_process_dialects") or ()),
    )


# Scopes whose change outlives the session: the server's configuration for every session.
_SERVER_SCOPES = frozenset({"GLOBAL", "PERSIST", "PERSIST_ONLY", "SYSTEM"})


def embed_shell(statement: _Statement, command: str) -> None:
    """What the shell command a setting holds does (`curl -T %p https://...` exports)."""
    if not command or statement.depth >= MAX_DEPTH:
        return
    from guardrails_core.intent.shell import analyze_shell  # shell imports sql: import late

    statement.embed(analyze_shell(command, depth=statement.depth + 1))


def normalise_setting(name: str) -> str:
    """`@@SESSION.Sql_Log_Bin` -> `sql_log_bin`; quotes and surrounding spaces go."""
    name = name.strip().strip("`\"'[]").lower()
    name = re.sub(r"^@@(session\.|local\.)?", "", name)
    return " ".join(name.split())


def is_variable(name: str, dialect: str | None, scope: str = "") -> bool:
    """`@x` (MySQL, T-SQL) or a plain name in a dialect whose plain SET (no SESSION, GLOBAL ...
    `scope`) assigns script or routine variables."""
    stripped = name.strip()
    if stripped.startswith("@") and not stripped.startswith("@@"):
        return True
    return dialect in _registry().variable_dialects and not stripped.startswith("@@") and not scope


def judge_setting(
    statement: _Statement,
    name: str,
    value: str | None,
    *,
    scope: str = "",
    verb: str = "SET",
) -> None:
    """Add what setting `name` to `value` does: a risky row's intents, nothing for a harmless
    setting, `unknown` for a setting in no row. `scope` GLOBAL/PERSIST/SYSTEM reaches every
    session (host_access)."""
    raw = name
    if raw.strip().lower().startswith("@@global."):
        scope = "GLOBAL"
        raw = raw.strip()[len("@@global.") :]
    setting = normalise_setting(raw)
    if not setting:
        statement.add(I.UNKNOWN, f"{verb} of a setting whose name is computed at run time")
        return
    registry = _registry()
    server_wide = (
        scope.upper() in _SERVER_SCOPES
        and statement.dialect_name not in registry.in_process_dialects
    )
    if server_wide:
        statement.add(
            I.HOST_ACCESS,
            f"{verb} {scope.upper()} {setting} changes the server's configuration for every "
            "session",
        )
    lowered = None if value is None else value.strip().strip("'\"").lower()
    if setting in registry.named_harmless:
        return
    for row in registry.risky:
        if any(pattern.fullmatch(setting) for pattern in row.names):
            # A value the analyzer cannot read (computed, missing) counts as the risky one.
            # A list value (`['a', 'b']`) is no single value a row names: read as the risky one.
            listed = lowered is not None and lowered.startswith("[")
            if row.values and lowered is not None and lowered not in row.values and not listed:
                return
            if row.working_folder and value is not None and _working_folder_paths(value):
                return
            for intent in row.intents:
                statement.add(intent, f"{verb} {setting}: {row.message}")
            if row.shell and value is not None:
                embed_shell(statement, value.strip().strip("'\""))
            return
    if any(pattern.fullmatch(setting) for pattern in registry.harmless):
        return
    if server_wide:
        return  # already named: a server-wide change, whatever the setting
    statement.add(
        I.UNKNOWN,
        f"{verb} {setting}: a setting the analyzer has no record of, so its effect is not known",
    )


_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def _working_folder_paths(value: str) -> bool:
    """`['data/']`, `'landing/'`: every path the value names is a relative one that stays in the
    working folder and is not hidden (`.ssh/`), where the pipeline's own reads already go; the
    value holds nothing but those paths and list punctuation."""
    paths = [single or double for single, double in _QUOTED.findall(value)]
    rest = _QUOTED.sub("", value).strip()
    if not paths and not value.strip().startswith("["):
        paths, rest = [value.strip()], ""  # one literal, its quotes already gone
    return (
        bool(paths)
        and not rest.strip("[](), ")
        and all(
            in_working_folder(path)
            and not any(part.startswith(".") and part != "." for part in re.split(r"[\\/]", path))
            for path in paths
        )
    )


# Words between SET and the setting's name that say how long or how far it applies.
_SCOPE_WORDS = frozenset({"SESSION", "LOCAL", "GLOBAL", "PERSIST", "PERSIST_ONLY", "SYSTEM"})


def judge_set_words(
    statement: _Statement, words: list[str], verb: str = "SET", *, variables: bool = True
) -> None:
    """A SET kept as words (token texts, quotes stripped, from SET on):
    `SET [SESSION|LOCAL] name {=|TO} value`, `SET TIME ZONE 'UTC'`, `SET NAMES ...`.
    `variables`: a plain SET may assign a script variable; ALTER ... SET never does."""
    rest = words[1:]
    scope = scoped = ""
    while rest and rest[0].upper() in _SCOPE_WORDS:
        scope = rest[0].upper() if rest[0].upper() not in ("SESSION", "LOCAL") else scope
        scoped = rest[0].upper()
        rest = rest[1:]
    upper = [word.upper() for word in rest]
    if upper[:2] == ["TIME", "ZONE"] or upper[:1] in (["TRANSACTION"], ["NAMES"], ["CHARSET"]):
        return  # the session's time zone, transaction mode or character set
    if upper[:3] == ["SESSION", "CHARACTERISTICS", "AS"] or upper[:2] == ["CHARACTER", "SET"]:
        return
    for stop in ("=", "TO"):
        if stop in upper:
            position = upper.index(stop)
            parts = rest[:position]
            name = "".join(parts) if "." in parts else " ".join(parts)
            value = rest[position + 1] if position + 1 < len(rest) else None
            if variables and is_variable(name, statement.dialect_name, scoped):
                return
            judge_setting(statement, name, value, scope=scope, verb=verb)
            return
    name = rest[0] if rest else ""
    if variables and is_variable(name, statement.dialect_name, scoped):
        return
    judge_setting(statement, name, rest[1] if len(rest) > 1 else None, scope=scope, verb=verb)


def judge_unset_words(statement: _Statement, words: list[str], verb: str) -> None:
    """Snowflake's `ALTER ACCOUNT|USER|DATABASE ... UNSET name[, name]`: each setting goes back
    to its default, which for a safeguard (a network policy, a guard against unloading to
    arbitrary URLs) is off. Judged as a SET to a value the analyzer cannot read: a risky
    setting stays risky, a harmless one harmless, an unrecorded one unknown."""
    for name in " ".join(words).split(","):
        judge_setting(statement, name.strip(), None, verb=verb)


def _handle_query_settings(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """ClickHouse's `SELECT ... SETTINGS name = value` and `ALTER ... SETTINGS ...`: the settings
    hold for this one query, and each is judged as a SET of it would be (a setting that shows
    secrets in the result matters as much for one query as for a session)."""
    items = node.args.get("settings") if isinstance(node, exp.Query) else node.expressions
    for item in items or ():
        if isinstance(item, exp.EQ):
            judge_setting(statement, item.this.sql(), item.expression.sql(), verb="SETTINGS")
