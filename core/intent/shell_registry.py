"""Turn what the program registry says of a command line into intents, objects and inner analyses.

The registry (``programs.py`` over ``rules/programs.yaml``) knows programs by their subcommands;
this module is the bridge to the shell analyzer's calls. It is imported by ``shell.py`` and gets
the analyzer's helpers passed in, so the dependency runs one way.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import yaml

from guardrails_core.intent import jinja_calls, makefiles, mongo, saved_plans
from guardrails_core.intent.carried_commands import (
    ed_script,
    ex_script,
    lua_commands,
    redis_lua,
    vim_commands,
    vim_emptied,
)
from guardrails_core.intent.inline_scripts import prints_facts_only
from guardrails_core.intent.program_args import command_words, env_args, given
from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.programs import Carrier, Program, Verdict, home_form
from guardrails_core.intent.registry_effects import record_effect
from guardrails_core.intent.run_parameters import switched_run
from guardrails_core.locations import lexical_path
from guardrails_core.model import Intent, ObjectAction, ObjectKind
from guardrails_core.yaml_data import SAFE_LOADER

_QUOTED = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'([^']*)'")


class Call(Protocol):
    """The parts of the shell analyzer's call that this module uses."""

    args: list[Any]
    effect: Any
    feed: Any
    name: Any
    analyzer: Any  # its option_environment: what the program reads as options

    def stdin(self) -> str: ...

    @property
    def prog(self) -> str: ...

    def add(self, intent: Intent, message: str) -> None: ...

    def obj(self, kind: ObjectKind, action: ObjectAction, name: str) -> None: ...

    def prints_credential(self, *, named: bool = False) -> None: ...

    def reads_whole(self, word: Any) -> None: ...

    def note_fact(self, key: str, value: str) -> None: ...

    def fact(self, key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Bridge:
    """The shell analyzer's helpers: run a script, embed SQL, run an inner command."""

    script: Callable[[Any, Any, str], None]
    sql: Callable[[Any, str | None, Any], None]
    inner: Callable[[Any, list[Any]], None]
    body: Callable[[Any, Any, str | None], None]  # an HTTP body: its SQL (of a dialect) is analysed
    line: Callable[[Any, list[Any]], None]  # a command read from stdin, run with no input
    leaks: Callable[[Any], bool]  # a word built from a local file's or a database's contents
    credential: Callable[[Any], bool]  # ... from a credential (a secrets file read, a secret)
    statements: Callable[[Any], None]  # whole SQL statements among the arguments: analysed
    # a local file (or, True, a folder) it writes, judged as any write there
    write: Callable[[Any, Any, str, Carrier], None]
    run_file: Callable[[Any, Any], bool]  # a file of code it runs (a payload when fetched)
    written: Callable[[Any, Any], Any]  # the text this script wrote to a file (None: not known)
    emptied: Callable[[Any, Any, str], None]  # a local file it overwrites with nothing


def is_scratch(path: str) -> bool:
    return registry().is_scratch(path)


def is_dry_run(args: Sequence[str]) -> bool:
    return registry().is_dry_run(args)


def opens_to_public(value: str) -> bool:
    """An option value that opens a resource to everyone (public-read, allUsers, 0.0.0.0/0)."""
    return value.lower() in registry().public_values


def file_classes(path: str) -> set[str]:
    return registry().file_classes(path)


def folder_holds(folder: str, tables: Sequence[str] = ("startup", "privileged")) -> set[str]:
    """The tables of startup and trust files (or others asked for) with a file inside
    ``folder`` (~, ~/.ssh, /etc, /var/www): files of names not visible here written into it
    may replace one."""
    inside = home_form(lexical_path(folder).rstrip("/") + "/")
    files = registry().files
    return {
        table for table in tables if any(glob.startswith(inside) for glob in files.get(table, ()))
    }


def names_credential_file(pattern: str) -> bool:
    """A file name pattern (``find -name``) that is the name of a credentials file (.env,
    *.pem, credentials, id_*): the last part of a pattern of the secrets file table."""
    core = pattern.strip("*")
    if not core:
        return False
    names = {glob.rsplit("/", 1)[-1] for glob in registry().files.get("secrets", ())}
    return pattern in names or any(fnmatch.fnmatchcase(core, name) for name in names - {"*"})


def in_own_network(host: str) -> bool:
    return registry().in_own_network(host)


def environment(table: str) -> frozenset[str]:
    return registry().environment.get(table, frozenset())


def names_test_database(name: str) -> bool:
    """``app_test``, ``test-app``, ``ci-postgres``: a database (or the container holding one)
    named for a test suite or CI run, which the suite creates and drops as it likes."""
    words = name.lower().replace("-", "_")
    return any(fnmatch.fnmatchcase(words, glob) for glob in environment("test_databases"))


def names_credential(variable: str) -> bool:
    """``DB_PASSWORD``, ``GITHUB_TOKEN``: a variable whose name says it holds a credential."""
    return _credential_names().fullmatch(variable.upper()) is not None


def names_setting(variable: str) -> bool:
    """``HOME``, ``TZ``, ``LC_ALL``: a variable that holds one of the process's own settings."""
    globs = environment("settings")
    return any(fnmatch.fnmatchcase(variable.upper(), glob.upper()) for glob in globs)


@cache
def _credential_names() -> re.Pattern[str]:
    globs = sorted(environment("credentials"))
    return re.compile("|".join(fnmatch.translate(glob.upper()) for glob in globs) or "(?!)")


def client_dialect(name: str | None) -> tuple[str, tuple[tuple[re.Pattern[str], str], ...]] | None:
    """A client language the SQL analyzer reads as another dialect, and the rewrites it needs."""
    return registry().client_dialects.get(name or "")


# Languages of a scheduler's stdin: what it reads runs later, unseen, even once analysed.
_DEFERRED_LANGUAGES = frozenset({"shell", "cron"})
# A crontab line: five time fields or an @nickname, then the command (comments and
# `NAME=value` lines have no command).
_CRON_LINE = re.compile(r"^\s*(?:@\w+|(?:\S+\s+){4}\S+)\s+(?![^\s=]+=)(\S.*)$")


def reads_credential(program: str, args: Sequence[str]) -> bool:
    """``docker login --password-stdin``: reads a credential from stdin and does not print it."""
    return registry().reads_credential(program, args)


def sets_up_shell(program: str, args: Sequence[str]) -> bool:
    return registry().sets_up_shell(program, args)


def masks_credential(line: str) -> bool:
    """``echo "::add-mask::$PW"``: a CI runner's command that masks the value, not a print."""
    return registry().masks_credential(line)


def runs_image(call: Call, image: Any, where: str = "", *, service: bool = False) -> None:
    """An image run with no command runs its own entrypoint, code not visible here, unless an
    official image whose entrypoint is a known server (`postgres:16`, `docker.io/library/
    redis@sha256:...`). A compose ``service`` is named for its image only in the compose file."""
    call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, image.display)
    name = image.value.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    name = name.removeprefix("docker.io/").removeprefix("library/")
    if image.dynamic or service or name not in registry().official_images:
        call.add(
            Intent.UNKNOWN,
            f"{call.prog} runs the image {image.display}{where}: its own entrypoint is code "
            "not visible here",
        )


def prints_info_only(program: str, args: Sequence[str]) -> bool:
    return registry().prints_info_only(program, args)


def changes_nothing(program: str, args: Sequence[str]) -> str | None:
    """What a known program does instead of its work: a dry run (reported as a read), or only
    its usage or version printed (``pg_restore --help``: "", nothing worth a finding, as a
    row's own --help); None when it does its work."""
    table = registry()
    if table.prints_info_only(program, args):
        return ""
    if table.is_dry_run(args, table.lookup(program)):
        return "runs as a dry run: it reports and changes nothing"
    return None


def lookup(program: str) -> Program | None:
    return registry().lookup(program)


def _generated_migrations(call: Call, program: Program, verdict: Verdict) -> None:
    """`alembic revision --autogenerate && alembic upgrade head`: the migration applied was
    written from the models a moment ago, and nobody read it (an autogenerated migration drops
    the columns and tables the models no longer name). One command may do both (`prisma migrate
    dev`, `drizzle-kit push`: the statements are worked out from the models and run at once)."""
    key = f"migration generated by {program.names[0]}"
    tool = call.prog if call.prog in program.names else program.names[0]  # python manage.py
    if verdict.generates:
        call.note_fact(key, tool)
    if verdict.applies and call.fact(key) is not None:
        call.add(Intent.SCHEMA_CHANGE, f"{tool} applies migrations")
        call.add(
            Intent.DYNAMIC,
            f"{tool} applies a migration generated above from the models: its statements are "
            "written at run time, so nobody reviewed what it drops or changes",
        )


#: The fact a statement that writes a dbt project's model files leaves for a build after it.
MODELS_EDITED = "project models edited"
#: ... that took `incremental` out of their materialization (a sed substitution)
INCREMENTAL_DROPPED = "incremental materialization taken out"


def _edited_models(call: Call, verdict: Verdict) -> None:
    """`sed -i ... models/*.sql && dbt run`: the models built were written by this script a
    moment ago (a materialization switched, a filter dropped), and nobody reviewed them."""
    edited = call.fact(MODELS_EDITED)
    if verdict.builds and edited is not None:
        call.add(
            Intent.DYNAMIC,
            f"{call.prog} builds models edited above ({edited}): what they now run was written "
            "at run time, so nobody reviewed what it drops or rebuilds",
        )
        switched = call.fact(INCREMENTAL_DROPPED)
        if switched is not None:
            call.add(
                Intent.DELETE,
                f"{call.prog} builds {switched} no longer incremental: the tables they kept "
                "adding to are dropped and rebuilt from their sources (as --full-refresh)",
            )


_FILE_VALUE = "file://"


def _argument_values(call: Call, program: Program) -> list[str]:
    """The words as the program reads them: with `file_values`, a `file://PATH` the script
    wrote above (a heredoc's JSON) is that text, as the AWS CLI reads it."""
    values = []
    for word in call.args:
        value = word.value
        if program.file_values and value.startswith(_FILE_VALUE) and not word.dynamic:
            written = call.analyzer.produced_by(word.tail(len(_FILE_VALUE)))
            if written is not None and written.literal is not None:
                value = written.literal.value
        values.append(value)
    return values


def judge(call: Call, program: Program, bridge: Bridge) -> None:
    args = _argument_values(call, program)
    if program.saved_plan is not None:  # `terraform apply tf.plan`: as it was planned
        subcommand = command_words(program, args)[0]
        args = saved_plans.arguments(call, program.saved_plan, subcommand)
    verdict = registry().judge(
        program, [*env_args(program.env_options, call.analyzer.option_environment), *args]
    )
    fed = call.feed.literal if call.feed is not None else None
    for carrier in verdict.stdin[:1]:
        if carrier.language == "manifest":  # `kubectl apply -f - <<EOF`: the objects applied
            if fed is not None:
                _manifest(call, fed.value)
        elif fed is None:
            if call.feed is not None:
                call.add(Intent.DYNAMIC, f"{call.prog} runs commands from {call.stdin()}")
        elif carrier.language == "ed":  # `ed f <<< '!cmd'`: editor commands, shell escapes
            ed_script(call, fed, bridge)
        elif carrier.language == "ex":  # `ex -s f <<< $'%d\nx'`: ex commands, as -c gives
            ex_script(call, fed, bridge)
        elif carrier.language == "args":  # `echo FLUSHALL | redis-cli`: each line is a command
            for line in fed.value.splitlines():
                words = [type(fed).literal(part) for part in line.split()]
                if words:
                    bridge.line(call, [call.name, *call.args, *words])
        elif carrier.language == "shell":  # `echo 'rm -rf /x' | at now`: a script run later
            bridge.script(call, fed, f"{call.prog} (from {call.stdin()})")
        elif carrier.language == "make":  # `make -f - <<< $'all:\n\trm -rf x'`: its recipes
            makefiles.run_recipes(call, fed, makefiles.targets(call.args), bridge.script)
        elif carrier.language == "cron":  # `echo '* * * * * cmd' | crontab -`: each line's command
            for line in fed.value.splitlines():
                command = _CRON_LINE.match(line)
                if command is not None:
                    bridge.script(call, type(fed).literal(command.group(1)), f"{call.prog} entry")
        else:  # `manage.py dbshell <<< "DROP ..."`: the console runs what it reads
            bridge.sql(call, carrier.dialect, fed)
    # A console that reads stdin runs what it is fed (analysed above); a scheduler runs it later.
    reads_stdin = bool(verdict.stdin) and call.feed is not None
    deferred = any(carrier.language in _DEFERRED_LANGUAGES for carrier in verdict.stdin)
    # what a target named for deleting does is judged from its recipe when the makefile is seen
    seen = verdict.effect == "unseen-destroy" and not _hidden_code(call, program, verdict, bridge)
    # a script that only reads (`EVAL "return redis.call('GET', KEYS[1])"`): its commands are
    # judged one by one below, the script adds nothing to them
    seen = seen or (verdict.effect == "dynamic" and _scripts_only_read(call, program, verdict))
    if not (reads_stdin and not deferred and verdict.effect in ("dynamic", "unknown")) and not seen:
        record_effect(call, program, verdict)
    _generated_migrations(call, program, verdict)
    _edited_models(call, verdict)
    if verdict.effect in ("dynamic", "unknown") and not verdict.sql:
        bridge.statements(call)  # `db2 "DROP TABLE x"`: the SQL is known if the client is not
    leaked = [word for word in call.args if bridge.leaks(word)] if program.remote else []
    if leaked:  # `gh api ... -f content="$(base64 -w0 customers.csv)"`
        sources = ", ".join(word.source or word.display for word in leaked)
        call.add(Intent.EXPORT, f"{call.prog} sends {sources} to a remote service")
        if any(bridge.credential(word) for word in leaked):  # `--body "$(cat .env.prod)"`
            call.add(Intent.PRIVILEGE, f"{call.prog} sends the credential {sources} reads")
        call.obj(ObjectKind.URL, ObjectAction.EXPORT_TARGET, call.prog)
    if verdict.effect == "export":  # `gh gist create ~/.aws/credentials`: a credential published
        for word in call.args:
            if not word.dynamic and file_classes(word.value) & {"secrets", "secret_variants"}:
                call.add(Intent.PRIVILEGE, f"{call.prog} sends {word.display}, a credentials file")
    if program.archives:  # tar, zip: what it archives is read whole
        for word in call.args:
            call.reads_whole(word)
            if file_classes(word.value) & {"secrets", "secret_folders"}:
                call.add(
                    Intent.PRIVILEGE, f"{call.prog} reads {word.display}, which holds credentials"
                )
    carried: set[str] = set()
    for carrier in verdict.sql:  # an option is read by the first row that names it
        if carried.issuperset(carrier.options):
            continue
        carried.update(carrier.options)
        for value in _values(call.args, carrier):
            if carrier.template and not value.dynamic:  # a predicate: the statement it limits
                value = type(value).literal(carrier.template.replace("{}", value.value))
            bridge.sql(call, carrier.dialect, value)
    for carrier in verdict.code:
        for value in _values(call.args, carrier):
            _code(call, carrier, value, bridge)
    if any(carrier.language == "vim" for carrier in verdict.code):
        vim_emptied(call, bridge.emptied)
    switched_run(call, call.args, program)  # `-c '{"full_refresh": true}'`, `--param x=1`
    for carrier in _default_files(program, call):  # `make`: ./Makefile, if this script wrote it
        makefiles.read_default(call, carrier.defaults, bridge)
    for carrier in verdict.writes:  # `oci os object get --file ~/.bashrc`, `gpg -o FILE`
        for value in _values(call.args, carrier):
            how = f"{call.prog} {' '.join(verdict.subcommand)}".strip()
            bridge.write(call, value, how, carrier)
    for carrier in verdict.images:  # `kubectl run x --image=IMAGE`: as `docker run IMAGE`
        for value in _values(call.args, carrier):
            if verdict.command:  # `-- CMD`: the command it runs is analysed instead
                call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, value.display)
            else:
                runs_image(call, value, f" ({' '.join(verdict.subcommand)})")
    if verdict.command:
        inner = _command_words(call.args, program, verdict.command_at + program.positionals)
        if program.runs and call.args:  # `access-guardrails dbt -- run-operation x`: dbt's words
            inner = [type(call.args[0]).literal(program.runs), *inner]
        if inner and " " in inner[0].value.strip():  # tmux new 'cmd args': a shell string
            bridge.script(call, inner[0], f"{call.prog} {inner[0].display[:40]}")
        elif inner:
            bridge.inner(call, inner)


def _manifest(call: Call, text: str) -> None:
    """Kubernetes objects fed to kubectl: bindings and roles grant, a Secret stores a
    credential, a pod with host fields (privileged, hostPath, hostPID) gets the node."""
    table = registry().manifests
    try:
        documents = [d for d in yaml.load_all(text, Loader=SAFE_LOADER) if isinstance(d, dict)]
    except yaml.YAMLError:
        call.add(Intent.DYNAMIC, f"{call.prog} applies a manifest that does not parse")
        return
    for document in documents:
        kind = str(document.get("kind", ""))
        name = str((document.get("metadata") or {}).get("name", kind))
        effect = (table.get("kinds") or {}).get(kind)
        if effect == "privilege":
            role = str((document.get("roleRef") or {}).get("name", ""))
            call.add(Intent.PRIVILEGE, f"{call.prog} applies the {kind} {name} {role}".strip())
            call.obj(ObjectKind.ROLE, ObjectAction.GRANT, name)
        elif effect == "secret-store":
            call.add(Intent.UNKNOWN, f"{call.prog} applies the {kind} {name}: a stored credential")
        host = _host_fields(document, frozenset(table.get("host_fields") or ()))
        if host:
            call.add(Intent.HOST_ACCESS, f"{call.prog} applies the {kind} {name} with {host}")


def _hidden_code(call: Call, program: Program, verdict: Verdict, bridge: Bridge) -> bool:
    """Whether the code it runs from files (make's makefile) is out of view: a makefile this
    script wrote is seen."""
    for carrier in verdict.code:
        if carrier.language == "makefile":
            return not makefiles.written(call, _values(call.args, carrier), bridge)
    for carrier in _default_files(program, call):
        paths = [type(call.name).literal(name) for name in carrier.defaults]
        return not makefiles.written(call, paths, bridge)
    return True


def _scripts_only_read(call: Call, program: Program, verdict: Verdict) -> bool:
    """Every script it runs is a Redis Lua script made of literal commands alone, each one of
    the program's safe commands (GET, HGETALL)."""
    scripts = [
        value
        for carrier in verdict.code
        if carrier.language == "redis-lua"
        for value in _values(call.args, carrier)
    ]
    commands = [None if v.dynamic else lua_commands(v.value) for v in scripts]
    return bool(scripts) and all(
        names is not None and all((name.lower(),) in program.safe for name in names)
        for names in commands
    )


def _default_files(program: Program, call: Call) -> list[Carrier]:
    """Carriers of files of code read when no option names one (make's Makefile)."""
    args = [word.value for word in call.args]
    parts = frozenset(arg.lower() for arg in args)
    return [
        carrier
        for carrier in program.code
        if carrier.defaults
        and carrier.when.holds(parts, args)
        and not any(given(option, args) for option in carrier.options)
    ]


def _host_fields(node: Any, fields: frozenset[str]) -> str | None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in fields and (value is True or (key == "hostPath" and value)):
                return str(key)
            found = _host_fields(value, fields)
            if found:
                return found
    elif isinstance(node, list):
        return next((found for item in node if (found := _host_fields(item, fields))), None)
    return None


def credential_option(program: str, args: Sequence[str]) -> str | None:
    """``mysql -pS3cr3t``, ``docker login -p "$TOKEN"``: the option that puts a credential in
    the arguments (every local user sees it in ps; it lands in history and the task log)."""
    return registry().credential_option(program, args)


def traces_credential(program: str, args: Sequence[str]) -> bool:
    """``curl -v -u "user:$PW"``: its trace prints the credential it sends."""
    return registry().traces_credential(program, args)


def kept_options(program: str, args: Sequence[str]) -> dict[str, str]:
    """``docker build --build-arg`` (image), ``dbt --vars`` (log): options whose value is kept
    where others read it, and where."""
    return registry().kept_options(program, args)


def prints_credentials(program: str, args: Sequence[str]) -> bool:
    """``aws configure export-credentials``: a known program whose output is a credential."""
    known = registry().lookup(program)
    return known is not None and registry().judge(known, args).effect in _PRINTS_CREDENTIAL


_PRINTS_CREDENTIAL = frozenset(("secret", "harvest", "privilege"))


def searches_credentials(program: str, args: Sequence[str]) -> str | None:
    """``grep -rhoE 'AKIA[0-9A-Z]{16}' logs/``: a search for credentials, printing what it finds
    (the pattern it searches with)."""
    return registry().searches_credentials(program, args)


def issues_credential(url: str) -> bool:
    """``curl http://169.254.169.254/.../security-credentials/ROLE``: answers with a live one."""
    return registry().issues_credential(url)


def _values(args: Sequence[Any], carrier: Carrier) -> list[Any]:
    values = []
    for index, word in enumerate(args):
        for option in carrier.options:
            clustered = (  # -qc VALUE: a cluster of one-letter flags ending in the option
                len(option) == 2
                and option[0] == "-"
                and word.value.startswith("-")
                and not word.value.startswith("--")
                and word.value.endswith(option[1])
                and len(word.value) > 2
            )
            if carrier.before:
                if word.value == option and index > 0:
                    values.append(args[index - 1])
            elif (word.value == option or clustered) and index + 1 < len(args):
                values.append(args[index + 1])
            elif option.startswith("-") and word.value.startswith(option + "="):
                values.append(word.after("="))
            elif carrier.attached and word.value.startswith(option) and word.value != option:
                values.append(word.after(option))
    return values


def _code(call: Call, carrier: Carrier, value: Any, bridge: Bridge) -> None:
    language = carrier.language or "other"
    label = f"{call.prog} {value.display[:40]}"
    if language == "shell":
        if value.value.startswith("exec="):  # tar --checkpoint-action=exec=CMD
            value = value.after("=")
        bridge.script(call, value, label)
    elif language == "ssm":
        for match in _QUOTED.finditer(value.value):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            bridge.script(call, type(value).literal(text.replace('\\"', '"')), label)
    elif language == "ssh-option":
        key, _, command = value.value.partition("=")
        if key.lower() in ("proxycommand", "localcommand", "knownhostscommand", "remotecommand"):
            bridge.script(call, type(value).literal(command), f"ssh -o {key}")
    elif language == "program":
        bridge.script(call, value, label)
    elif language == "commas":
        bridge.script(call, type(value).literal(" ".join(value.value.split(","))), label)
    elif language == "request":
        bridge.body(call, value, carrier.dialect)
    elif language == "query-request":  # a query API's body: its statement is what runs
        before = len(call.effect.embedded)
        if not value.dynamic:
            bridge.body(call, value, carrier.dialect)
        if len(call.effect.embedded) == before:
            call.add(Intent.DYNAMIC, f"{call.prog} sends a query whose SQL is not visible here")
    elif language == "parameters":  # a run's conf: SQL in it is run by code not visible here
        before = len(call.effect.embedded)
        bridge.body(call, value, carrier.dialect)
        if len(call.effect.embedded) > before:
            call.add(Intent.DYNAMIC, f"{call.prog} hands SQL to a run as a parameter ({label})")
    elif language == "jinja":  # a dbt template: what runs while it is rendered
        jinja_calls.record(call, value, carrier.dialect, bridge.sql)
    elif language == "vim":
        vim_commands(call, value, label, bridge)
    elif language == "debugger":
        text = value.value.strip()
        for prefix in ("shell ", "!", "call system(", "python import os"):
            if text.startswith(prefix):
                bridge.script(call, type(value).literal(text[len(prefix) :].strip("()'\"")), label)
                return
        call.add(Intent.DYNAMIC, f"{call.prog} runs debugger commands ({value.display[:60]})")
    elif language == "expect":
        for match in re.finditer(r"spawn\s+([^;\n]+)", value.value):
            bridge.script(call, type(value).literal(match.group(1)), label)
        call.add(Intent.DYNAMIC, f"{call.prog} runs an expect script")
    elif language == "ftp":
        if re.search(r"(?i)(?:^|;)\s*(?:m?put|send|append|reput)\b", value.value):
            call.add(Intent.EXPORT, f"{call.prog} uploads files ({value.display[:60]})")
    elif language in ("orm-python", "orm-ruby"):
        from guardrails_core.intent.shell.orm_code import record_code

        record_code(call, value, language, label)
    elif language == "mongo":
        mongo.record(call, value)
    elif language == "redis-lua":
        redis_lua(call, value, bridge)
    elif language == "file":  # make -f FILE: the code is in the file, judged by where it came from
        if value.value not in ("-", "/dev/stdin") and not bridge.run_file(call, value):
            call.add(Intent.UNKNOWN, f"{call.prog} runs the code in {value.display}, not seen here")
    elif language == "make":  # make --eval='t:\n\tcmd': a makefile given as text
        makefiles.run_recipes(call, value, None, bridge.script)
    elif language == "makefile":  # make -f FILE
        if value.value not in ("-", "/dev/stdin") and not makefiles.read_makefile(
            call, value, bridge
        ):
            call.add(Intent.UNKNOWN, f"{call.prog} runs the code in {value.display}, not seen here")
    elif not value.dynamic and prints_facts_only(language, value.value):
        call.add(Intent.READ, f"{call.prog} runs inline code that only prints facts")
    else:
        call.add(Intent.DYNAMIC, f"{call.prog} runs {language} code that is not analysed")


def _command_words(args: Sequence[Any], program: Program, subcommand: int) -> list[Any]:
    """The words of the command a runner runs: after ``--``, else after its subcommand."""
    for index, word in enumerate(args):
        if word.value == "--":
            return list(args[index + 1 :])
    skip = False
    seen = 0
    for index, word in enumerate(args):
        if skip:
            skip = False
            continue
        if word.value.startswith("-"):
            skip = word.value in program.value_options
            continue
        if seen == subcommand:
            return list(args[index:])
        seen += 1
    return []
