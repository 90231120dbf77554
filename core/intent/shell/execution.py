"""Code that runs code: scripts, interpreters, payloads, and programs in no registry."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from guardrails_core.intent import registry_effects, shell_registry
from guardrails_core.intent.programs import Carrier
from guardrails_core.intent.shell import orm_code
from guardrails_core.intent.shell.files import (
    _delete,
    _emptied,
    _record_folder_write,
    _record_write,
)
from guardrails_core.intent.shell.options import (
    _Call,
    _canonical,
    _is_scratch,
    _is_workspace,
    _options,
    _parse,
    _words,
)
from guardrails_core.intent.shell.secret_files import reads_credential
from guardrails_core.intent.shell.words import (
    _PAYLOAD,
    EXPANSION_PLACEHOLDER,
    _concat,
    _Feed,
    _merge_origins,
    _Origin,
    _Word,
)
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

# ----- code execution


def _run_file(call: _Call, script: _Word) -> bool:
    """Running a file: a payload when it came from a substitution or an earlier download."""
    if script.origin:
        _payload(call, script.origin, script.source or script.display)
        return True
    text = _written_text(call, script)
    if text is not None:
        _script(call, text, f"{script.display} (written above)")
        return True
    written = call.analyzer.produced_by(script)
    if written is not None:
        _payload(call, written.origin, f"{written.description}, saved as {script.display}")
        return True
    return False


def _written_text(call: _Call, path: _Word) -> _Word | None:
    """The text this script wrote to the file, when it is known and no payload."""
    written = call.analyzer.produced_by(path)
    if written is not None and written.literal is not None and not written.origin & _PAYLOAD:
        return written.literal
    return None


def _payload(call: _Call, origin: _Origin, source: str, what: str = "code") -> None:
    """Code whose text is not visible runs: downloaded or decoded payloads also reach the host."""
    if origin & _Origin.DOWNLOAD:
        call.add(Intent.HOST_ACCESS, f"{call.prog} runs {what} downloaded by {source}")
        call.add(Intent.DYNAMIC, f"the {what} {call.prog} runs is fetched at run time by {source}")
        call.add(Intent.UNKNOWN, f"what the {what} fetched by {source} does is not known here")
    elif origin & _Origin.DECODED:
        call.add(Intent.HOST_ACCESS, f"{call.prog} runs an obfuscated payload ({source})")
        call.add(Intent.DYNAMIC, f"the {what} {call.prog} runs is decoded at run time by {source}")
    else:
        call.add(Intent.DYNAMIC, f"{call.prog} runs {what} from {source}, not visible here")


# A date printed with directives that write no space or shell syntax (`$(date +%F)`): put into a
# script, its output adds no code to it (the script reads as written)
_PLAIN_DATE = re.compile(
    r"\$\((?:date|gdate)(?:\s+(?:-u|--utc))?\s+'?\+(?:%[YmdHMSFTsjuVGyCgIbBaAzZ]|[-_:.T/])+'?\)"
)


def _adds_no_code(script: _Word) -> bool:
    """Whether every expansion in the script is a plain date (`cat > b_$(date +%F).dump`)."""
    plain = all(_PLAIN_DATE.fullmatch(built.strip()) for built in script.expansions)
    return script.origin == _Origin.DATA and bool(script.expansions) and plain


def _script(call: _Call, script: _Word, label: str) -> None:
    """A string that a shell will parse as a script (sh -c, eval, ssh host CMD): analyse it."""
    if (script.dynamic and not _adds_no_code(script)) or script.origin & _Origin.DECODED:
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
    elif feed.literal is not None and _computes_only(call, [feed.literal]):
        call.add(Intent.READ, f"{call.prog} runs code from {feed.description} that only computes")
    elif feed.literal is not None:
        call.add(
            Intent.DYNAMIC, f"{call.prog} runs inline code from {feed.description} (not analysed)"
        )
        _python_equivalents(call, [feed.literal])
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
    language: str = ""  # its inline code's row of the inline_scripts table


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
    if inline and _computes_only(call, inline):
        if _inline_sql(call, inline):
            call.add(
                Intent.READ, f"{call.prog} runs inline code that computes, prints and runs SQL"
            )
        else:
            call.add(Intent.READ, f"{call.prog} runs inline code that only computes and prints")
        _fetched(call, inline)
    elif inline:
        origin = _merge_origins(word.origin for word in inline)
        if origin & _PAYLOAD:
            _payload(call, origin, inline[0].source)
        call.add(Intent.DYNAMIC, f"{call.prog} runs inline code, which is not analysed")
        _python_equivalents(call, inline)
    elif modules:
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, modules[0].display)
        if not _run_registered(call, modules[0], _module_arguments(call.args, modules[0])):
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


def _python_equivalents(call: _Call, inline: list[_Word]) -> None:
    """What inline code's literal file, process and SQL calls do: the shell commands and the SQL
    they amount to (the code itself stays `dynamic`)."""
    from guardrails_core.intent.shell.inline_python import (
        bulk_deletes,
        printed_secrets,
        sent_credentials,
        shell_equivalents,
    )

    calls = _SHELL_CALLS.get(_canonical(call.prog))
    if calls is not None:
        for word in inline:
            for command in _shell_calls(word.value, calls):
                _script(call, _Word.literal(command), f"{call.prog} -e")
            dialect = next((d for hint, d in _DRIVER_DIALECTS if hint.search(word.value)), None)
            for sql in _sql_calls(word.value):
                _embed_in(call, dialect, _Word.literal(sql))
            if _canonical(call.prog) == "ruby":
                orm_code.record_mutations(call, orm_code.read_ruby(word.value).mutations, "ruby")
        return
    if _canonical(call.prog) != "python":
        return
    for word in inline:
        for command in shell_equivalents(word.value):
            _script(call, _Word.literal(command), f"{call.prog} -c")
        for secret in printed_secrets(word.value)[:1]:
            registry_effects.prints_secret(call, f"{call.prog} code prints {secret}")
        sent = sent_credentials(word.value)
        if sent is not None:
            files, destination = ", ".join(sent.files), sent.destination
            what = f"{call.prog} code reads {files} and sends data to {destination}"
            call.add(Intent.PRIVILEGE, f"{what}: credentials files")
            call.add(Intent.EXPORT, what)
            call.obj(ObjectKind.URL, ObjectAction.EXPORT_TARGET, sent.destination)
        _inline_sql(call, [word])
        for deleting in bulk_deletes(word.value):
            call.add(Intent.DELETE, f"{call.prog} code calls {deleting}")
            call.add(Intent.MASS_MUTATION, f"{deleting} deletes a whole store or all it holds")
        orm = orm_code.read_python(word.value)
        if orm is not None:
            orm_code.record_mutations(call, orm.mutations, f"{call.prog} -c")


# Calls of inline code that run a literal command: a shell string, or a program and its
# arguments as separate strings (system("dropdb", "x")); in Perl, Ruby and PHP also `cmd`,
# qx{cmd} and %x{cmd}. The rest of the code stays `dynamic`.
_SHELL_CALLS = {
    "node": re.compile(r"\b(?:execSync|exec|spawnSync|execFileSync|spawn|execFile)\(\s*"),
    "perl": re.compile(r"\b(?:system|exec)\b\s*\(?\s*"),
    "ruby": re.compile(r"(?:\b(?:system|exec|spawn)\b|\bIO\.popen|\bOpen3\.\w+)\s*\(?\s*"),
    "php": re.compile(r"\b(?:system|exec|shell_exec|passthru|popen|proc_open)\s*\(\s*"),
}
_CODE_STRING = re.compile(r"(['\"`])((?:\\.|(?!\1).)*)\1\s*(,\s*)?")
_BACKTICKS = re.compile(
    r"`([^`]+)`|(?:\bqx|%x)\s*(?:\{([^}]*)\}|\(([^)]*)\)|\[([^\]]*)\]|/([^/]*)/)"
)


def _shell_calls(code: str, calls: re.Pattern[str]) -> list[str]:
    commands = []
    for call in calls.finditer(code):
        parts = []
        position = call.end()
        while (string := _CODE_STRING.match(code, position)) is not None:
            parts.append(re.sub(r"\\(.)", r"\1", string.group(2)))
            position = string.end()
            if string.group(3) is None:
                break
        if parts:
            commands.append(parts[0] if len(parts) == 1 else shlex.join(parts))
    if calls is not _SHELL_CALLS["node"]:  # in JavaScript `...` is a string, not a command
        for match in _BACKTICKS.finditer(code):
            commands.append(next(group for group in match.groups() if group is not None))
    return commands


# Database calls of inline Ruby, JavaScript, Perl and PHP whose first argument is a literal
# statement (`c.exec("DELETE ...")`, `$dbh->do('...')`, `mysqli_query($c, '...')`): the SQL is
# analysed where it runs (the rest of the code stays `dynamic`). The driver the code loads
# names the dialect.
_SQL_CALLS = re.compile(
    r"(?:\.|->)(?:exec|execute|exec_query|exec_params|query|run|do|prepare|none|any|one|"
    r"many|select_all|select_rows|selectall_arrayref|selectrow_array)\(\s*"
    r"|\b(?:mysqli_query|pg_query|pg_exec)\(\s*(?:\$\w+\s*,\s*)?"
)
_STATEMENT = re.compile(
    r"\s*(?:SELECT|WITH|INSERT|UPDATE|DELETE|MERGE|UPSERT|REPLACE|DROP|CREATE|ALTER|TRUNCATE|"
    r"GRANT|REVOKE|COPY|VACUUM|SET|RENAME|CALL|DO)\b",
    re.IGNORECASE,
)
_DRIVER_DIALECTS = (
    (re.compile(r"\bpg\b|\bPG\b|postgres|\bDBD?::Pg\b|\bpg_(?:query|exec|connect)\b"), "postgres"),
    (re.compile(r"mysql", re.IGNORECASE), "mysql"),
    (re.compile(r"sqlite", re.IGNORECASE), "sqlite"),
)


def _sql_calls(code: str) -> list[str]:
    statements = []
    for found in _SQL_CALLS.finditer(code):
        string = _CODE_STRING.match(code, found.end())
        if string is not None and _STATEMENT.match(string.group(2)):
            statements.append(re.sub(r"\\(.)", r"\1", string.group(2)))
    return statements


def _inline_sql(call: _Call, inline: list[_Word]) -> bool:
    """The SQL of the code's database calls, in the dialect of the engine it imports (if one),
    analysed where it runs; whether there was any."""
    from guardrails_core.intent.shell.inline_python import sql_equivalents
    from guardrails_core.intent.shell.pure_python import engine_dialect

    found = False
    for word in inline:
        dialect = engine_dialect(word.value)
        for sql in sql_equivalents(word.value):
            _embed_in(call, dialect, _Word.literal(sql))
            found = True
    return found


def _fetched(call: _Call, inline: list[_Word]) -> None:
    """Harmless code that GETs literal URLs reads them: what it prints is downloaded data."""
    from guardrails_core.intent.shell.pure_python import fetched_urls

    urls = [url for word in inline for url in fetched_urls(word.value)]
    for url in urls:
        call.obj(ObjectKind.URL, ObjectAction.READ, url)
    if urls:
        call.add(Intent.READ, f"{call.prog} fetches {', '.join(urls)}")
        call.stdout = _Feed(_Origin.DOWNLOAD, f"{call.prog} fetching {urls[0]}")


def _computes_only(call: _Call, inline: list[_Word]) -> bool:
    from guardrails_core.intent.inline_scripts import prints_facts_only
    from guardrails_core.intent.shell.pure_python import is_harmless

    if any(word.dynamic for word in inline):
        return False
    if _canonical(call.prog) == "python":
        return all(is_harmless(word.value) for word in inline)
    language = _INTERPRETERS[_canonical(call.prog)].language
    return all(prints_facts_only(language, word.value) for word in inline)


def _alias(call: _Call) -> None:
    """``alias x='rm -rf /'``: later ``x`` runs the value, so the value is analysed now."""
    for definition in call.args:
        name, equals, _ = definition.value.partition("=")
        if equals:
            _script(call, definition.after("="), f"the alias {name}")
            call.analyzer.define_alias(name, definition.after("=").display)


def _eval(call: _Call) -> None:
    if call.args:
        _script(call, _concat(call.args, " "), "eval")


def _source(call: _Call) -> None:
    if not call.args:
        return
    script = call.args[0]
    if script.value in ("/dev/stdin", "-"):
        _stdin_program(call, shell=True)
    elif _run_file(call, script):
        return
    elif not script.dynamic and "activation" in shell_registry.file_classes(script.value):
        call.obj(ObjectKind.FILE, ObjectAction.READ, script.display)
        call.add(Intent.READ, f"{call.prog} {script.display} sets up a tool's environment")
    else:
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, script.display)
        call.add(
            Intent.DYNAMIC,
            f"{call.prog} runs {script.display} in this shell; its contents are not visible",
        )


def _unknown(call: _Call) -> None:
    call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, call.name.display)
    # ./i.sh, /tmp/i.sh: maybe a file this script just downloaded
    if "/" in call.name.value and _run_file(call, call.name):
        return
    _not_known(call, call.name)
    _sql_arguments(call)


# The shape of a whole SQL statement, stricter than its first word (`delete old files` is prose).
_SQL_SHAPE = re.compile(
    r"(?is)^\s*(?:select\s.+\bfrom\s|select\s+[\w'\"(*]|insert\s+(?:into|overwrite)\s|"
    r"update\s+\S+\s+set\s|delete\s+from\s|drop\s+(?:table|database|schema|view|index|"
    r"keyspace|user|role|function|procedure)\s|truncate\s+(?:table\s+)?\w|"
    r"alter\s+(?:table|database|schema|user|role|system|keyspace)\s|"
    r"create\s+(?:or\s+replace\s+)?(?:table|database|schema|view|user|role|function|"
    r"procedure|index|keyspace)\s|grant\s.+\sto\s|revoke\s.+\sfrom\s|merge\s+into\s|"
    r"copy\s+\S+.*\s(?:to|from)\s|call\s+\w|exec(?:ute)?\s+\w)"
)


def _sql_arguments(call: _Call) -> None:
    """An unknown program given whole SQL statements (pgcli -e, dolt sql -q, a wrapper script):
    what the SQL does is known even if the program is not. Only arguments that the SQL analyzer
    reads completely count, so prose that starts with `delete` is not taken for SQL."""
    for word in call.args:
        if word.dynamic or not _SQL_SHAPE.match(word.value):
            continue
        statements = call.analyzer.nested_sql(word.value, None)
        if statements and not any(Intent.UNPARSEABLE in s.intents for s in statements):
            call.effect.embedded.extend(statements)


def _not_known(call: _Call, program: _Word) -> None:
    """A program or script in no registry: what it does is not known (closed world)."""
    if "/" in program.value or "." in program.value.rsplit("/", 1)[-1]:
        message = f"{call.prog} runs the script {program.display}, whose code is not visible here"
    else:
        message = f"{program.display} is in no registry of known programs: its effect is unknown"
    call.add(Intent.UNKNOWN, message)


def _module_arguments(args: Sequence[_Word], module: _Word) -> list[_Word]:
    """``python -m pytest --basetemp=X``: every word after the module is the module's, options
    included (the interpreter's own options end at ``-m``)."""
    for index, word in enumerate(args):
        if word is module or word.value == f"-m{module.value}":
            return list(args[index + 1 :])
    return []


def _run_registered(call: _Call, script: _Word, args: list[_Word]) -> bool:
    """``python manage.py flush``, ``php artisan migrate:fresh``: a script known by name."""
    known = shell_registry.lookup(script.value)
    if known is None:
        return False
    inner = _Call(call.analyzer, call.effect, script, args, call.feed)
    shell_registry.judge(inner, known, _BRIDGE)
    return True


def _embed_in(call: _Call, dialect: str | None, text: _Word) -> None:
    # The SQL clients' module builds on this one: imported when first needed, not at load.
    from guardrails_core.intent.shell.clients import _embed_sql, _SqlClient

    quirks = shell_registry.client_dialect(dialect)
    if quirks is not None:  # CQL, Impala: rewritten into the dialect that reads them the same
        dialect, rewrites = quirks
        value = text.value
        for pattern, replacement in rewrites:
            value = pattern.sub(replacement, value)
        text = _Word(value, text.display, text.dynamic, text.glob, text.origin, text.source)
    _embed_sql(call, _SqlClient(dialect), text)


def _run_words(call: _Call, words: list[_Word]) -> None:
    call.analyzer.run_inner(call, words, feed=call.feed, transparent=False)


def _request_body(call: _Call, body: _Word, dialect: str | None) -> None:
    from guardrails_core.intent.shell.network import _sql_in_payloads

    _sql_in_payloads(call, [body], dialect)


def _run_line(call: _Call, words: list[_Word]) -> None:
    call.analyzer.run_inner(call, words, feed=None, transparent=False)


def _local_data(word: _Word) -> bool:
    """Query output or a dump; or a file that holds data or secrets (not `--body "$(cat
    PR.md)"`): the file names are read from the substitution that built the word."""
    if word.origin & _Origin.DUMP or reads_credential(word):
        return True
    if not word.origin & _Origin.FILE:
        return False
    sensitive = {"exports", "secrets", "data"}
    tokens = re.split(r"[\s'\"()$`|<>;]+", word.source or word.display)
    return any(shell_registry.file_classes(token) & sensitive for token in tokens if token)


def _write_file(call: _Call, target: _Word, how: str, carrier: Carrier) -> None:
    """A file a download writes (`oci os object get --file x.sh`): running it later runs
    downloaded code. Or a folder it writes files into (`--download-dir ~/.ssh`), emptied
    first by some (`pytest --basetemp`): outside scratch space and the working folder, a
    delete of what it held."""
    if target.value == "-":  # stdout
        return
    if carrier.empties and not (_is_scratch(target) or _is_workspace(target)):
        _delete(call, [target], f"{how} empties {target.display} first", bulk=True)
    if carrier.folder:
        _record_folder_write(call.effect, target, how)
        return
    _record_write(call.effect, target, how)
    call.analyzer.note_produced(target, _Feed(_Origin.DOWNLOAD, how))


def _emptied_file(call: _Call, target: _Word, how: str) -> None:
    _record_write(call.effect, target, how)
    _emptied(call.effect, target, how)


_BRIDGE = shell_registry.Bridge(
    script=_script,
    sql=_embed_in,
    inner=_run_words,
    body=_request_body,
    line=_run_line,
    leaks=_local_data,
    credential=reads_credential,
    statements=_sql_arguments,
    write=_write_file,
    run_file=_run_file,
    written=_written_text,
    emptied=_emptied_file,
)


def _inert(call: _Call) -> None:
    """Builtins and utilities with no effect worth recording (cd, sleep, true, date)."""


_INTERPRETERS: dict[str, _Interpreter] = {
    "python": _Interpreter(_options("-c"), _options("-W", "-X", "-Q"), _options("-m")),
    "perl": _Interpreter(_options("-e", "-E"), _options("-I", "-M", "-m")),
    "ruby": _Interpreter(_options("-e"), _options("-I", "-r"), language="ruby"),
    "node": _Interpreter(
        _words("-e --eval -p --print"), _options("-r", "--require"), language="javascript"
    ),
    "php": _Interpreter(_options("-r"), _options("-d", "-c"), language="php"),
    "Rscript": _Interpreter(_options("-e")),
    "lua": _Interpreter(_options("-e"), _options("-l")),
    "pwsh": _Interpreter(_words("-c -Command -command -EncodedCommand -e"), clusters=False),
    "osascript": _Interpreter(_options("-e")),
    "tclsh": _Interpreter(frozenset()),
    "julia": _Interpreter(_words("-e -E --eval --print")),
}
