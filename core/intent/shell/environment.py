"""Variables set in front of a command that send its traffic elsewhere or log its credentials."""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import itertools
import re
from collections.abc import Sequence

from guardrails_core.intent import guard_switches, shell_registry
from guardrails_core.intent.programs import home_form
from guardrails_core.intent.shell.credentials import _to_task_log
from guardrails_core.intent.shell.password_files import connection_settings, password_stored
from guardrails_core.intent.shell.words import _clip, _Effect, _Word
from guardrails_core.intent.this_machine import is_this_machine
from guardrails_core.model import Intent, ObjectAction, ObjectKind

_PROXY_HOST = re.compile(r"^(?:[a-z][\w+.-]*://)?(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)", re.IGNORECASE)
_OFF = frozenset(("0", "false", "no", "off"))
_ON = frozenset(("1", "true", "yes", "on"))


def judge_variable(effect: _Effect, name: str, value: str, program: str = "") -> None:
    """``HTTPS_PROXY=http://198.51.100.23:3128 cmd``, ``TF_LOG=TRACE terraform apply`` (PROGRAM:
    the command it is set for, when known)."""
    table = {
        kind
        for kind in ("proxy", "debug_log", "tls_checks", "tls_skips", "safeguard_skips")
        if name in shell_registry.environment(kind)
    }
    lowered = value.lower()
    guard = guard_switches.switched(name, value)
    if guard == "off":
        switched = f"{name}={_clip(value)} switches access-guardrails off"
        effect.add(Intent.PRIVILEGE, f"{switched}: what runs next is not judged or not recorded")
        # the statements a guarded task or tool would have had judged run unseen
        effect.add(Intent.UNKNOWN, f"{switched}: what the command runs is judged by nobody")
    elif guard == "elsewhere":
        elsewhere = f"{name}={_clip(value)} points access-guardrails at a policy, store or server"
        effect.add(Intent.UNKNOWN, f"{elsewhere} not visible here")
        if guard_switches.guard_program(program):
            # the guard's own command judges (or records) by what the caller chose
            effect.add(Intent.PRIVILEGE, f"{elsewhere} of the caller's choosing for the guard")
    if "proxy" in table and value:
        _proxy(effect, name, value)
    elif ("tls_checks" in table and lowered in _OFF) or ("tls_skips" in table and lowered in _ON):
        effect.add(Intent.PRIVILEGE, f"{name}={value} switches TLS certificate checks off")
    elif "safeguard_skips" in table and lowered in _ON:
        effect.add(Intent.PRIVILEGE, f"{name}={value} switches off a guard against destroying data")
    elif "debug_log" in table and lowered in shell_registry.environment("debug_levels"):
        _to_task_log(effect, f"{name}={value} logs requests with their credentials")


def production_tests(effect: _Effect, assignments: Sequence[str], words: Sequence[str]) -> None:
    """``DATABASE_URL=$PROD_DATABASE_URL pytest``: a test suite pointed at production, whose
    fixtures create, truncate and drop tables between tests."""
    effect.local_test_database = _local_test_database(assignments)
    command = " " + " ".join(word.rsplit("/", 1)[-1] for word in words[:3]) + " "
    runners = shell_registry.environment("test_runners")
    if not any(f" {runner} " in command for runner in runners):
        return
    production = shell_registry.environment("production")
    for text in assignments:
        name, _, value = text.partition("=")
        if _connection(name) and set(re.split(r"[^a-z0-9]+", value.lower())) & production:
            message = f"{name}={_clip(value)} runs a test suite against production"
            effect.add(Intent.DELETE, message)
            effect.add(Intent.MASS_MUTATION, f"{message}: its fixtures truncate and drop tables")


_CONNECTION_URL = re.compile(
    r"^[a-z][\w+.-]*://(?:[^@/]*@)?(?P<host>\[[^\]]+\]|[^/:?]+)(?::\d+)?/(?P<db>[\w.-]+)/?$",
    re.IGNORECASE,
)


def _local_test_database(assignments: Sequence[str]) -> str:
    """The database every connection variable set here points at, written out whole, when it
    is on this host (loopback) and named for tests (app_test, test_app): what a migration reset
    drops there is the test suite's own (as a dbt target named for CI). "" when any connection
    variable points elsewhere (`PGHOST=db1` beside it decides where a client connects)."""
    found = ""
    for text in assignments:
        name, _, value = text.partition("=")
        if not _connection(name):
            continue
        match = _CONNECTION_URL.match(value.strip("'\""))
        local = match is not None and is_this_machine(match["host"])
        if not (local and match and shell_registry.names_test_database(match["db"])):
            return ""
        found = match["db"]
    return found


def _connection(name: str) -> bool:
    """NAME is a variable that says which database a program connects to (DATABASE_URL)."""
    return any(
        fnmatch.fnmatchcase(name.upper(), glob.upper())
        for glob in shell_registry.environment("connection")
    )


def env_file_retargeted(effect: _Effect, target: _Word, text: str, how: str) -> None:
    """TEXT written into an environment file (.env.dev, app.env; not a template) that sets a
    connection variable to a server off this host named for production, or with credentials at
    a full host name: the app that loads the file now works on that server, which a person has
    to recognise (`DATABASE_URL=postgres://admin:pw@prod-db.internal/app`)."""
    classes = set() if target.dynamic else shell_registry.file_classes(target.value)
    if "templates" in classes:
        return
    password_stored(effect, target, text, how)
    if not target.dynamic and _connection_file(target.value):
        _config_retargeted(effect, target.display, text, how)
    if not classes & {"secrets", "secret_variants"}:
        return
    production = shell_registry.environment("production")
    for match in _SETTING.finditer(text):
        name, value = match["name"], match["value"]
        url = _ANY_URL.match(value)
        host = (url["host"] if url else value).lower()
        if not _connection(name) or not host or is_this_machine(host) or "$" in value:
            continue
        named = set(re.split(r"[^a-z0-9]+", value.lower())) & production
        if named or (url and url["user"] and "." in host):
            effect.add(
                Intent.UNKNOWN,
                f"{how} sets {name}={_clip(value)} in {target.display}: what loads it connects "
                f"to {host}{' (named for production)' if named else ' with these credentials'}",
            )


def host_substituted(effect: _Effect, target: _Word, replacements: Sequence[str], how: str) -> None:
    """`sed -i 's/dev-db.internal/prod-db.internal/' .env.development`: a substitution whose
    replacement is a bare server (no `NAME=`), named for production and off this host, in an
    environment or connection file: the setting that held what it replaced now names that
    server, and what loads the file next works there under the name it had."""
    if target.dynamic:
        return
    classes = shell_registry.file_classes(target.value)
    if "templates" in classes or not (
        classes & {"secrets", "secret_variants"} or _connection_file(target.value)
    ):
        return
    production = shell_registry.environment("production")
    for replacement in replacements:
        value = replacement.strip()
        if not value or re.search(r"[\s=&$]", value) or re.match(r"[\w.-]+\s*:\s", value):
            continue  # a setting (judged by its name elsewhere), a match reference, a variable
        url = _ANY_URL.match(value)
        host = (url["host"] if url else value).lower()
        if is_this_machine(host) or not set(re.split(r"[^a-z0-9]+", host)) & production:
            continue
        effect.add(
            Intent.UNKNOWN,
            f"{how} puts {_clip(value)} in {target.display} where another server stood: what "
            f"loads it next connects to {host} (named for production) under the name it had",
        )


@functools.cache
def _connection_setting() -> re.Pattern[str]:
    """`host: x`, `host=x`, `"host": "x"`: one of the table's connection keys given a value."""
    keys = "|".join(re.escape(str(key)) for key in connection_settings()["keys"])
    return re.compile(
        rf"(?im)(?:^|[\s.;,{{\[])(?P<name>{keys})\s*[:=]\s*[\"']?(?P<value>[^\s\"',}}]+)"
    )


def _connection_file(path: str) -> bool:
    home = home_form(path)
    return any(fnmatch.fnmatchcase(home, str(g)) for g in connection_settings()["files"])


def _config_retargeted(effect: _Effect, where: str, text: str, how: str) -> None:
    """TEXT sets a tool's connection setting (`host: prod-db.internal` in profiles.yml, `host=`
    in pg_service.conf) to a server off this host named for production."""
    for match in _connection_setting().finditer(text):
        _production_server(effect, match["name"], match["value"], f"{how} sets", where)


def _production_server(effect: _Effect, name: str, value: str, how: str, where: str) -> None:
    url = _ANY_URL.match(value)
    host = (url["host"] if url else value).lower()
    if not host or is_this_machine(host) or "$" in value:
        return
    if set(re.split(r"[^a-z0-9]+", host)) & shell_registry.environment("production"):
        effect.add(
            Intent.UNKNOWN,
            f"{how} {name} {_clip(value)} in {where}: what connects with it next works on "
            f"{host} (named for production) under the name it had",
        )


def judge_arguments(effect: _Effect, program: str, args: Sequence[str]) -> None:
    """What a known program's arguments set beyond its registry row: the guard's own switches
    given as options, connections stored for later runs (databases created: dumps.py)."""
    if guard_switches.guard_program(program):
        for option, value, how in guard_switches.switched_options(args):
            given = f"{option} {_clip(value)}"
            what = "off" if how == "off" else "to a policy of the caller's choosing"
            effect.add(Intent.PRIVILEGE, f"{program} {given} switches the guard's judging {what}")
        _contradicted_context(effect, args)
    stored_connection(effect, program, args)


def _contradicted_context(effect: _Effect, args: Sequence[str]) -> None:
    """`access-guardrails dbt --context environment=dev -- run --target prod`: the guard is
    told one environment while the command it wraps works on one named for production, so
    the rules that hold for production are not applied."""
    told = {
        value.partition("=")[2].lower()
        for option, value in itertools.pairwise(args)
        if option == "--context" and value.lower().startswith("environment=")
    }
    targets = {
        value.lower() for option, value in itertools.pairwise(args) if option in ("--target", "-t")
    }
    production = shell_registry.environment("production")
    named = {target for target in targets if set(re.split(r"[^a-z0-9]+", target)) & production}
    if told and named and not told & named:
        effect.add(
            Intent.PRIVILEGE,
            f"--context environment={sorted(told)[0]} tells the guard an environment that "
            f"--target {sorted(named)[0]} contradicts: production's rules are not applied",
        )


def stored_connection(effect: _Effect, program: str, args: Sequence[str]) -> None:
    """`airflow connections add dev_db --conn-uri postgres://...@prod-db.internal/shop`: a
    connection stored under a name that tasks use later, pointed at production."""
    name = program.rsplit("/", 1)[-1]
    for command in connection_settings()["commands"]:
        words = [str(word) for word in command["words"]]
        if name != command["program"] or list(args[: len(words)]) != words:
            continue
        options = {str(option) for option in command["options"]}
        for at, option in enumerate(args):
            given, _, inline = option.partition("=")
            found = inline or (args[at + 1] if at + 1 < len(args) else "")
            if given in options:
                _production_server(effect, given, found, f"{name} {' '.join(words)}", "its store")


# NAME=VALUE settings in a file's text (`export NAME=...`, quoted or not)
_SETTING = re.compile(
    r"(?m)(?:^|[\s;])(?:export\s+)?(?P<name>[A-Za-z_]\w*)=[\"']?(?P<value>[^\s\"']+)"
)
_ANY_URL = re.compile(
    r"^[a-z][\w+.-]*://(?:(?P<user>[^@/]*)@)?(?P<host>\[[^\]]+\]|[^/:?]+)", re.IGNORECASE
)


def _proxy(effect: _Effect, name: str, value: str) -> None:
    match = _PROXY_HOST.match(value)
    host = match.group(1).strip("[]").lower() if match else value
    # a single-label name (or localhost) is looked up in the network's own search domains
    if shell_registry.in_own_network(host) or "." not in host:
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    message = f"{name}={_clip(value)} sends the command's traffic, credentials included, via {host}"
    if address is None:
        effect.add(Intent.UNKNOWN, message)
        return
    effect.add(Intent.EXPORT, message)
    effect.add(Intent.PRIVILEGE, f"{name}: a proxy at a bare address can read and alter it all")
    effect.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
