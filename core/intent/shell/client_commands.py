"""A database client's own commands inside its SQL input (psql ``\\i``, sqlite3 ``.output``,
mysql ``system``, SQLLine ``!dropall``): blanked out of the SQL, and judged by what they do
(the client_commands table of rules/programs.yaml)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from guardrails_core.intent import shell_registry
from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.shell.execution import _script
from guardrails_core.intent.shell.files import _record_write, _special_file
from guardrails_core.intent.shell.generated_sql import generated_statement
from guardrails_core.intent.shell.options import _Call, _is_workspace, _words
from guardrails_core.intent.shell.words import _Feed, _Origin, _Word
from guardrails_core.model import Intent, ObjectAction, ObjectKind

# commands that may be glued to a prefix that is itself the command (`@file`, `!ls`)
_GLUED = frozenset(("include", "shell"))


@dataclass(frozen=True, slots=True)
class ClientCommands:
    """One family's commands: what each does (include, shell, output, ...: see the table)."""

    prefix: str
    commands: Mapping[str, str]
    pipes: re.Pattern[str] | None = None  # output piped into a shell command (psql `\o |cmd`)
    ends: str | None = None  # what ends a command, the rest of the line being SQL (psql `\\`)
    results: tuple[str, ...] = ()  # the commands that run query results (psql `\gexec`)
    after_sql: bool = False  # a command may end a line of SQL (psql `SELECT ... \g out.csv`)
    backquotes: bool = False  # `backquoted` text in a command's arguments runs in a shell

    def action(self, command: str) -> str | None:
        """What a line's first word does; None when it is no command of the client's."""
        command = command.rstrip(";")  # mysql `status;`
        command = command.rstrip("+") if len(command) > 2 else command  # psql `\dt+`
        if command in self.commands:
            return self.commands[command]
        if not command.startswith(self.prefix):
            return None
        if command != self.prefix and self.commands.get(self.prefix) in _GLUED:
            return f"{self.commands[self.prefix]}-glued"  # SQL*Plus `@file`, Hive `!ls`
        return "unknown"  # closed world: a command of the client's that is in no list


_ACTIONS = _words(
    "include shell sql results output reads writes load environment dfs drop-all setting "
    "call replace unknown dump"
)


@cache
def client_commands(family: str) -> ClientCommands:
    row = registry().client_commands[family]
    commands = {str(name).lower(): "setting" for name in row.get("setting", ())}
    commands.update((str(name).lower(), str(action)) for name, action in row["commands"].items())
    unknown = sorted(set(commands.values()) - _ACTIONS)
    if unknown:
        raise ValueError(f"programs.yaml client_commands.{family}: unknown action(s) {unknown}")
    pipes = row.get("pipes")
    return ClientCommands(
        str(row["prefix"]),
        commands,
        re.compile(pipes) if pipes else None,
        row.get("ends"),
        tuple(name for name, action in commands.items() if action == "results"),
        bool(row.get("after_sql", False)),
        bool(row.get("backquotes", False)),
    )


_SHELL_SYNTAX = re.compile(r"[|;&<>$`'\"\\(){}]")


def blank_client_commands(call: _Call, family: str, sql: str, dialect: str | None) -> str:
    """Blank the client's own commands (keeping offsets) and record what they do."""
    table = client_commands(family)
    lines = sql.split("\n")
    for number, line in enumerate(lines):
        words = line.split(None, 1)
        if not words:
            continue
        command = words[0].lower()
        marker = next((marker for marker in table.results if marker in line), None)
        if marker is not None:  # `SELECT ... \gexec`
            before = "\n".join([*lines[:number], line[: line.index(marker)]])
            if not _runs_generated(call, before, dialect):
                call.add(Intent.DYNAMIC, f"{call.prog} runs query results as SQL ({line.strip()})")
        piped = table.pipes.search(line) if table.pipes is not None else None
        if piped:
            _piped(call, piped.group(1).strip(), piped.group(0))
            end = piped.end()  # what follows the piped command on its line is SQL (mysql `;`)
            lines[number] = line[: piped.start()] + " " * (end - piped.start()) + line[end:]
            continue
        action = table.action(command)
        if action is None and table.after_sql:
            lines[number] = _trailing_command(call, table, line)
            continue
        if action is None:
            continue
        if action == "sql":
            unprefixed = " " * len(table.prefix) + words[0][len(table.prefix) :]
            lines[number] = _client_copy(call, line.replace(words[0], unprefixed, 1))
            continue
        # a shell escape takes the whole line (psql `\!`, mysql `system`)
        own, rest = _split_end(line, None if action.startswith("shell") else table.ends)
        lines[number] = " " * (len(line) - len(rest)) + rest
        argument = own[len(words[0]) :].strip()
        if action.endswith("-glued"):  # the prefix is the command, the rest its argument
            glued = words[0][len(table.prefix) :]
            action, argument = action.removesuffix("-glued"), f"{glued} {argument}".strip()
        if table.backquotes and "`" in argument:
            _backquoted(call, f"{call.prog} {command}", argument)
        if action == "dump":  # `.dump api_keys` prints each table's rows, as SELECT * does
            for dumped in _operands(argument)[:8]:
                whole = f"SELECT * FROM {dumped}"
                call.effect.embedded.extend(call.analyzer.nested_sql(whole, dialect))
            continue
        if action == "call":
            procedure = argument.strip().rstrip(";")
            called = procedure if "(" in procedure else f"{procedure}()"
            call.effect.embedded.extend(call.analyzer.nested_sql(f"CALL {called}", dialect))
            continue
        _run_client_command(call, f"{call.prog} {command}", action, argument)
    return "\n".join(lines)


def _runs_generated(call: _Call, before: str, dialect: str | None) -> bool:
    """``SELECT format('ANALYZE %I.%I', ...) FROM pg_tables \\gexec``: the query before the
    marker writes the SQL that runs; with its template visible, that template is judged."""
    from guardrails_core.intent.shell.clients import _run_generated, _SqlClient

    query = before.rstrip().rstrip(";").rsplit(";", 1)[-1]
    generated = generated_statement(query, dialect)
    if generated is None:
        return False
    _run_generated(call, _SqlClient(dialect), generated, "the query before \\gexec")
    return True


def _backquoted(call: _Call, how: str, argument: str) -> None:
    """psql `\\set x `cmd``: the client runs the backquoted text as a shell command."""
    for command in re.findall(r"`([^`]*)`", argument):
        call.add(Intent.HOST_ACCESS, f"{how} runs `{command}` in a shell on the client's host")
        _script(call, _Word.literal(command), how)


def _trailing_command(call: _Call, table: ClientCommands, line: str) -> str:
    """``SELECT ... \\g out.csv``: the SQL is kept, the command after it blanked and judged."""
    at = _unquoted(line, table.prefix)
    if at is None:
        return line
    words = line[at:].split(None, 1)
    action = table.action(words[0].lower()) or "unknown"
    argument = words[1].strip() if len(words) > 1 else ""
    _run_client_command(call, f"{call.prog} {words[0]}", action, argument)
    return line[:at] + " " * (len(line) - at)


def _unquoted(line: str, prefix: str) -> int | None:
    """Where the first command (the prefix and a letter, `!` or `?`) outside a quoted string
    or identifier is (`'C:\\tmp'` holds none)."""
    quote = ""
    for index, char in enumerate(line):
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        elif not quote and line.startswith(prefix, index) and _COMMAND.match(line, index + 1):
            return index
    return None


_COMMAND = re.compile(r"[A-Za-z!?]")


def _split_end(line: str, ends: str | None) -> tuple[str, str]:
    """The command, and the SQL after what ends it on the same line."""
    before, found, after = line.partition(ends) if ends else (line, "", "")
    return (before, after) if found else (line, "")


def _run_client_command(call: _Call, how: str, action: str, argument: str) -> None:
    operands = _operands(argument)
    path = operands[0] if operands else ""
    if action == "include":
        script = path or argument
        call.obj(ObjectKind.FILE, ObjectAction.READ, script)
        call.add(Intent.DYNAMIC, f"{how} runs SQL from {script}, not visible here")
    elif action == "shell":
        call.add(Intent.HOST_ACCESS, f"{how} runs a shell command on the client's host")
        _script(call, _Word.literal(argument), how)
    elif action in ("output", "writes") and path and path.lower() not in _NO_FILE:
        record_output(call, how, _Word.literal(path), results=action == "output")
    elif action == "reads" and path:
        call.obj(ObjectKind.FILE, ObjectAction.READ, path)
        call.add(Intent.READ, f"{how} reads {path}")
        call.add(Intent.WRITE, f"{how} loads {path} into {' '.join(operands[1:2]) or 'a table'}")
        _special_file(call.effect, _Word.literal(path), how, writes=False)
    elif action == "load":
        call.add(Intent.HOST_ACCESS, f"{how} loads the native library {path}, which runs its code")
    elif action == "environment" and path:  # psql `\setenv PAGER 'sh -c ...'`
        call.analyzer.environment(call.effect, f"{path}={' '.join(operands[1:])}")
    elif action == "dfs":
        words = [_Word.literal(word) for word in ["hdfs", "dfs", *_argument_words(argument)]]
        call.analyzer.run_inner(call, words, feed=None, transparent=False)
    elif action == "replace":
        message = f"{how} replaces the whole database with {path or 'a file'}"
        for intent in (Intent.DELETE, Intent.WRITE, Intent.MASS_MUTATION):
            call.add(intent, message)
        if path:
            call.obj(ObjectKind.FILE, ObjectAction.READ, path)
    elif action == "unknown":
        call.add(Intent.UNKNOWN, f"{how} is a command of {call.prog} whose effect is not known")
    elif action == "drop-all":
        message = f"{how} drops every table of the database"
        for intent in (Intent.DELETE, Intent.SCHEMA_CHANGE, Intent.MASS_MUTATION):
            call.add(intent, message)
        call.obj(ObjectKind.DATABASE, ObjectAction.DROP, "every table")


# arguments of output commands that name no file: back to stdout, off, the printer
_NO_FILE = frozenset(("off", "out", "stdout", "stderr", "-", "on"))


def _argument_words(argument: str) -> list[str]:
    """The words of a command's argument, up to a `;` (mysql `tee out.log; SELECT ...`)."""
    try:
        return shlex.split(argument.split(";", 1)[0])
    except ValueError:
        return argument.split(";", 1)[0].split()


def _operands(argument: str) -> list[str]:
    """Without the options (`.import --csv f.csv t`)."""
    return [word for word in _argument_words(argument) if not word.startswith("-")]


def record_output(call: _Call, how: str, target: _Word, *, results: bool) -> None:
    """What the client prints goes to this file (sqlite3 `.output f`, psql `-o f`), or with a
    leading pipe to this command (`psql -o '|nc host port'`, `.output '|gzip > f'`)."""
    if not target.dynamic and target.value.lstrip().startswith("|"):
        _piped(call, target.value.lstrip()[1:].strip(), target.value)
        return
    _record_write(call.effect, target, how)
    if results and "startup" in shell_registry.file_classes(target.value):
        call.add(
            Intent.DYNAMIC,
            f"{how} writes query results into {target.display}, which runs them as code later",
        )


def _piped(call: _Call, command: str, written: str) -> None:
    call.add(Intent.DYNAMIC, f"{call.prog} pipes query results into {command}")
    if _SHELL_SYNTAX.search(command):
        _script(call, _Word.literal(command), f"{call.prog} {written[:20]}")
    else:  # `\g |nc host port`: the command reads the query results
        results = _Feed(_Origin.DUMP, f"query results from {call.prog}")
        argv = [_Word.literal(part) for part in command.split()]
        call.analyzer.run_inner(call, argv, feed=results, transparent=False)


# `\copy ... TO 'file'` in the working folder or another local folder of the client's: the
# client writes the rows to its own file, as `COPY ... TO STDOUT > file` would (the last TO is
# the target, after any query). In a folder every local user may write (/tmp, /dev/shm) the
# rows are left where others read them: an export.
_CLIENT_COPY_TARGET = re.compile(r"(?is).*\bto\s+('[^']*')")


def _own_file(path: str) -> bool:
    if _is_workspace(_Word.literal(path)):
        return True
    shared = [f"{root.rstrip('/')}/" for root in shell_registry.environment("writable")]
    return (
        path.startswith("/")
        and not path.startswith(tuple(root for root in shared if root.startswith("/")))
        and ".." not in path.split("/")
        and not shell_registry.file_classes(path)
    )


def _client_copy(call: _Call, sql: str) -> str:
    target = _CLIENT_COPY_TARGET.match(sql)
    if target is None or not _own_file(target.group(1).strip("'")):
        return sql
    _record_write(call.effect, _Word.literal(target.group(1).strip("'")), f"{call.prog} \\copy")
    return sql[: target.start(1)] + "STDOUT".ljust(len(target.group(1))) + sql[target.end(1) :]
