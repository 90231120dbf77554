"""SQL clients: how each passes SQL, and the dialect the SQL analyzer reads it in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from guardrails_core.intent import guard_switches, shell_registry
from guardrails_core.intent.program_args import option_in_force
from guardrails_core.intent.shell.client_commands import blank_client_commands, record_output
from guardrails_core.intent.shell.counts import prints_counts_only
from guardrails_core.intent.shell.execution import _payload
from guardrails_core.intent.shell.files import _delete
from guardrails_core.intent.shell.generated_sql import Generated, generated_statement
from guardrails_core.intent.shell.network import _export
from guardrails_core.intent.shell.options import (
    _Call,
    _is_scratch,
    _options,
    _parse,
    _Parsed,
    _words,
)
from guardrails_core.intent.shell.startup_files import startup_sql
from guardrails_core.intent.shell.test_databases import reset_test_database
from guardrails_core.intent.shell.words import (
    _PAYLOAD,
    EXPANSION_PLACEHOLDER,
    _Feed,
    _names,
    _Origin,
    _Word,
)
from guardrails_core.intent.sql.new_tables import drops_own_scratch
from guardrails_core.intent.sql.temporaries import without_data_loss
from guardrails_core.intent.this_machine import is_this_machine
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
)

# ----- SQL clients


@dataclass(frozen=True, slots=True)
class _SqlClient:
    dialect: str | None
    sql_options: frozenset[str] = frozenset()  # options whose value is SQL
    file_options: frozenset[str] = frozenset()  # options whose value is a SQL script file
    # options whose value is a file it writes to (psql -o), or "OPTION NAME=" a setting that is
    output_options: frozenset[str] = frozenset()
    value_options: frozenset[str] = frozenset()
    attached_only: frozenset[str] = frozenset()
    sql_operands_from: int | None = None  # operands from this index on are SQL (sqlite3 DB SQL)
    script_prefix: str | None = None  # an operand starting with it is a script (sqlplus @f)
    clusters: bool = True
    meta: str | None = None  # the family of its own commands (rules: client_commands)
    info_options: frozenset[str] = _words("--help --version -V -l --list -?")
    # options whose NAME=VALUE is a session property set before the SQL runs (trino --session)
    session_options: frozenset[str] = frozenset()
    # options whose NAME=VALUE defines a variable the client substitutes into the SQL text
    # before sending it, and how the SQL writes a use of it ({} is the name: sqlcmd `$(Var)`)
    variable_options: frozenset[str] = frozenset()
    variable_use: str = ""


def _sql_client(call: _Call) -> None:
    client = _SQL_CLIENTS[call.prog]
    parsed = _parse(
        call.args,
        client.sql_options | client.file_options | client.value_options | client.output_options,
        attached_only=client.attached_only,
        clusters=client.clusters,
    )
    before = len(call.effect.embedded)
    _run_sql_client(call, client, parsed)
    databases = parsed.operands[: client.sql_operands_from or 0]  # sqlite3 DB SQL
    _audit_store_changed(call, databases, call.effect.embedded[before:])
    host = _host_option(call)
    if host is None or _local_host(host):  # a test database of this machine is the suite's
        embedded = call.effect.embedded
        local = host is not None or bool(call.effect.local_test_database)
        test = call.effect.local_test_database or _test_database_option(call)
        embedded[before:] = reset_test_database(embedded[before:], test, local)
    if databases and all(_is_scratch(call.analyzer.resolve_link(db)) for db in databases):
        embedded = call.effect.embedded
        embedded[before:] = _in_temporary_file(embedded[before:], databases[0].display)
    if client.meta == "mysql" and option_in_force(_SAFE_UPDATES, [w.value for w in call.args]):
        embedded = call.effect.embedded
        embedded[before:] = _refused_by_safe_updates(embedded[before:])


# mysql --safe-updates (its alias --i-am-a-dummy, -U): the server refuses an UPDATE or DELETE
# with neither a WHERE nor a LIMIT (with one, a key decides: judged as it is)
_SAFE_UPDATES = ("--safe-updates", "--i-am-a-dummy", "-U")
_SAFE_UPDATES_OFF = re.compile(r"(?i)\bsql_safe_updates\b")
_SCOPED = re.compile(r"(?i)\b(?:where|limit)\b")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`")


def _refused_by_safe_updates(statements: Sequence[StatementEffect]) -> list[StatementEffect]:
    """Each UPDATE or DELETE without a WHERE or LIMIT is refused, so it changes nothing; not
    when any statement sets sql_safe_updates (the session's switch of the same check)."""
    if any(_SAFE_UPDATES_OFF.search(s.text) for s in statements):
        return list(statements)
    refused = "the server refuses it (--safe-updates: no WHERE or LIMIT)"
    return [
        without_data_loss(s, Intent.READ, refused)
        if s.operation.upper() in ("DELETE", "UPDATE")
        and not _SCOPED.search(_QUOTED.sub("''", s.text))
        else s
        for s in statements
    ]


_OWN_SCHEMAS = frozenset((None, "main", "temp"))


def _in_temporary_file(
    statements: Sequence[StatementEffect], database: str
) -> list[StatementEffect]:
    """`sqlite3 /tmp/scratch.db "DELETE FROM stage"`: a database file in a temporary folder
    (/tmp, /var/tmp) is a temporary file; what its statements delete or drop in its own tables
    is a write of that file, as `rm` of a file there is. Not when a statement opens another
    database (ATTACH) or names a table outside the file's own schemas."""
    inner = [each for statement in statements for each in statement.walk()]
    if any(
        statement.operation.upper() == "ATTACH"
        or any(ref.schema_name not in _OWN_SCHEMAS for ref in statement.objects)
        or set(statement.intents) & _BEYOND_THE_FILE
        for statement in inner
    ):
        return list(statements)
    message = f"only changes {database}, a database file in a temporary folder"
    return [without_data_loss(statement, Intent.WRITE, message) for statement in statements]


# what reaches past the file itself: other files and hosts, code run, privileges
_BEYOND_THE_FILE = frozenset(
    (Intent.EXPORT, Intent.HOST_ACCESS, Intent.PRIVILEGE, Intent.DYNAMIC, Intent.UNKNOWN)
)


def _audit_store_changed(
    call: _Call, databases: Sequence[_Word], statements: Sequence[StatementEffect]
) -> None:
    """SQL that changes access-guardrails' audit trail in its SQLite file (GUARDRAILS_HOME):
    what was recorded is rewritten or gone (a read is fine). Its tables in any store are the
    SQL analyzer's (sql/audit_trail.py)."""
    inner = [each for statement in statements for each in statement.walk()]
    changes = [s for s in inner if set(s.intents) - {Intent.READ}]
    files = [
        db.display
        for db in databases
        if guard_switches.GUARD_FILES in shell_registry.file_classes(db.display)
    ]
    if files and changes:
        call.add(
            Intent.PRIVILEGE, f"{call.prog} changes {files[0]}, access-guardrails' audit trail"
        )


def _run_sql_client(call: _Call, client: _SqlClient, parsed: _Parsed) -> None:
    # What a client prints is the database's contents: in a URL, a DNS name or on another
    # server it is an export, like a dump.
    call.stdout = _Feed(_Origin.DUMP, f"query results from {call.prog}")
    _output_files(call, client, parsed)
    startup = list(startup_sql(call))
    for name, text in startup:  # runs first, whatever SQL it is given
        _embed_sql(call, client, text, f" from its start-up file {name} (written above)")
    sql = parsed.values(*client.sql_options)
    if client.sql_operands_from is not None:
        sql.extend(parsed.operands[client.sql_operands_from :])
    sql = [_substituted(text, _variables(client, parsed)) for text in sql]
    for setting in parsed.values(*client.session_options):
        name, equals, value = setting.value.partition("=")
        if equals and not setting.dynamic:  # judged as the statement that sets it would be
            escaped = value.replace("'", "''")
            _embed_sql(call, client, _Word.literal(f"SET SESSION {name} = '{escaped}'"))
    files = [f for f in parsed.values(*client.file_options) if f.value not in ("-", "/dev/stdin")]
    if client.script_prefix:
        prefix = client.script_prefix
        files.extend(w.tail(len(prefix)) for w in parsed.operands if w.value.startswith(prefix))
    for text in sql:
        _embed_sql(call, client, text)
    generated = (
        generated_statement(sql[0].value, client.dialect)
        if len(sql) == 1 and not sql[0].dynamic
        else None
    )
    if generated is not None:
        call.stdout = replace(call.stdout, generated=generated)
    elif _one_count(sql, client) and not startup:
        call.stdout = _Feed(_Origin.NONE, f"a row count from {call.prog}")
    known = []
    for file in files:
        content = call.analyzer.produced_by(file)
        if content is not None and content.literal is not None:  # written above in this script
            known.append(file)
            call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
            _embed_sql(call, client, content.literal, f" from {file.display} (written above)")
        elif content is not None and content.generated is not None:  # a query's SQL, saved
            known.append(file)
            call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
            _run_generated(call, client, content.generated, f"{file.display} (written above)")
    files = [f for f in files if f not in known]
    if files:
        for file in files:
            call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        call.add(
            Intent.DYNAMIC,
            f"{call.prog} runs SQL from {_names(files)}, whose contents are not visible here",
        )
    reads_stdin = any(f.value in ("-", "/dev/stdin") for f in parsed.values(*client.file_options))
    if (sql or files or known or parsed.has(*client.info_options)) and not reads_stdin:
        return
    feed = call.feed
    if feed is None:
        call.add(Intent.DYNAMIC, f"{call.prog} reads SQL from stdin, which is not visible here")
    elif feed.literal is not None:
        _embed_sql(call, client, feed.literal, f" from {feed.description}")
        if feed.origin & _PAYLOAD:  # `echo ... | base64 -d | psql`: hidden from a reader
            _payload(call, feed.origin, feed.description, "SQL")
    elif feed.generated is not None:
        _run_generated(call, client, feed.generated, feed.description)
    else:
        call.add(Intent.DYNAMIC, f"{call.prog} runs SQL from {feed.description}, not visible here")
        if feed.origin & (_Origin.FILE | _Origin.DUMP):
            call.add(Intent.WRITE, f"{call.prog} loads {feed.description} into the database")
        if feed.origin & _Origin.DROPS:  # as pg_restore --clean: what the dump holds is dropped
            dropped = f"{call.prog} runs the DROPs of {feed.description} before loading it"
            call.add(Intent.DELETE, dropped)
            call.add(Intent.MASS_MUTATION, dropped)
        host = _remote_host(call)
        if feed.origin & _Origin.DUMP and host is not None:
            call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
            call.add(Intent.EXPORT, f"{call.prog} copies {feed.description} to the server {host}")


# What a maintenance template (ANALYZE, VACUUM, REFRESH) does to any object it is given.
_ANY_OBJECT = frozenset((Intent.READ, Intent.WRITE))


def _one_count(sql: Sequence[_Word], client: _SqlClient) -> bool:
    """The client runs one query that prints row counts only (shell/counts.py)."""
    return len(sql) == 1 and not sql[0].dynamic and prints_counts_only(sql[0].value, client.dialect)


def _run_generated(call: _Call, client: _SqlClient, generated: Generated, source: str) -> None:
    """``... | psql``: the statement the query prints per row, judged by its template; beyond
    maintenance, which objects it changes is only known when the query runs."""
    before = len(call.effect.embedded)
    _embed_sql(call, client, _Word.literal(generated.template), f" from {source}")
    intents = {intent for s in call.effect.embedded[before:] for intent in s.intents}
    if intents <= _ANY_OBJECT:
        return
    chosen = f"{call.prog} runs {generated.template!r} for each row of {source}"
    call.add(Intent.DYNAMIC, f"{chosen}: the objects are chosen at run time")
    if Intent.DELETE in intents and not generated.scoped:
        call.add(Intent.MASS_MUTATION, f"{chosen}: every object the query lists, not named ones")


def _output_files(call: _Call, client: _SqlClient, parsed: _Parsed) -> None:
    """psql -o FILE, mysql --tee=FILE, snowsql -o output_file=FILE: the output goes there."""
    for option, target in parsed.options:
        if target is None:
            continue
        named = f"{option} {target.value.partition('=')[0]}="
        if option in client.output_options:
            record_output(call, f"{call.prog} {option}", target, results=True)
        elif named in client.output_options:
            record_output(call, f"{call.prog} {named}", target.after("="), results=True)


def _local_host(host: str) -> bool:
    """A `--host` that stays on this machine: none (the default socket), a socket folder, or a
    name or address of this machine."""
    return not host or host.startswith("/") or is_this_machine(host)


def _remote_host(call: _Call) -> str | None:
    """The server a client connects to, when it is named and not this machine."""
    host = _host_option(call)
    return None if host is None or _local_host(host) else host


def _host_option(call: _Call) -> str | None:
    """The server a client's `-h`/`--host` names, None when it names none."""
    for index, word in enumerate(call.args):
        value = word.value
        if value in ("-h", "--host") and index + 1 < len(call.args):
            host = call.args[index + 1].value
        elif value.startswith("--host="):
            host = value.partition("=")[2]
        elif value.startswith("-h") and len(value) > 2:
            host = value[2:]
        else:
            continue
        return host
    return None


# a client's option that names the database it works in (psql -d, mysql -D, sqlcmd -d, ...)
_DATABASE_OPTIONS = ("-d", "--dbname", "-D", "--database")


def _test_database_option(call: _Call) -> str:
    """The database a client's `-d`/`--dbname` (`-D`/`--database`) names, when it is named for
    tests (`app_test`); "" otherwise. On this machine it is the suite's own."""
    for index, word in enumerate(call.args):
        value = word.value
        name = ""
        if value in _DATABASE_OPTIONS and index + 1 < len(call.args):
            name = call.args[index + 1].value
        elif value.startswith(("--dbname=", "--database=")):
            name = value.partition("=")[2]
        if name and shell_registry.names_test_database(name):
            return name
    return ""


def _variables(client: _SqlClient, parsed: _Parsed) -> dict[str, str]:
    """``sqlcmd -v Cutoff=2024-01-01 Days=30``: each NAME=VALUE after the option."""
    if not client.variable_options:
        return {}
    found: dict[str, str] = {}
    words = parsed.values(*client.variable_options) + [
        word for word in parsed.operands if re.fullmatch(r"[A-Za-z_]\w*=.*", word.value)
    ]
    for word in words:
        name, equals, value = word.value.partition("=")
        if equals and not word.dynamic:
            found[client.variable_use.format(name).lower()] = value.strip('"')
    return found


def _substituted(text: _Word, variables: dict[str, str]) -> _Word:
    """The SQL as the server receives it: the client's variables replaced by their values."""
    if not variables or text.dynamic:
        return text
    sql = text.value
    uses = re.compile("|".join(re.escape(use) for use in variables), re.IGNORECASE)
    sql = uses.sub(lambda match: variables[match.group(0).lower()], sql)
    return text if sql == text.value else _Word.literal(sql)


def _embed_sql(call: _Call, client: _SqlClient, text: _Word, where: str = "") -> None:
    """Hand SQL to analyze_sql in the client's dialect; expansions become a placeholder."""
    sql = text.value
    if client.meta is not None:
        sql = blank_client_commands(call, client.meta, sql, client.dialect)
    statements = call.analyzer.nested_sql(sql, client.dialect) if sql.strip() else []
    statements = drops_own_scratch(statements, call.analyzer.scratch_created)
    built = ", ".join(text.expansions)
    if text.dynamic and _values_only(sql, text, statements):
        # Not proven either: a value holding a quote would change the statement (unknown is
        # reviewed for AI agents, which may have set the variable, and recorded for others).
        call.add(Intent.UNKNOWN, f"the SQL {call.prog} runs{where} takes {built} as values")
    elif text.dynamic:
        call.add(
            Intent.DYNAMIC, f"the SQL {call.prog} runs{where} is built at run time from {built}"
        )
    if (text.dynamic or text.origin & _Origin.DECODED) and text.origin & _PAYLOAD:
        _payload(call, text.origin, text.source, "SQL")
    call.effect.embedded.extend(statements)


# A variable expanded inside a quoted SQL string of a query or DML statement (`WHERE d =
# '${RUN_DATE}'`) is a value: the statement is what the text shows, unless the value holds a
# quote. Elsewhere a value decides (SET x = '$V', CALL p('$V')). Comments, double quotes, dollar
# quotes and backslashes could hide where a string starts or ends: with any of them the SQL
# stays built at run time.
_VARIABLE = re.compile(r"^\$\{?[A-Za-z_]\w*\}?$")
_OBSCURED_QUOTES = re.compile(r"--|/\*|#|\$\$|\$\w*\$|\\|\"")
_VALUE_STATEMENTS = frozenset(("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"))
# Words before a parenthesis that groups values or a subquery; any other word calls a function,
# whose arguments may decide what it does (set_config('x', '$V')).
_GROUPING = _words(
    "values in and or not where on exists using when then else select from join by set as "
    "having any all some"
)
_WORD_BEFORE = re.compile(r"(\w*)\s*$")
_COMPARED = re.compile(r"(?:[=<>]|\b(?:i?like))\s*$", re.IGNORECASE)


def _values_only(sql: str, text: _Word, statements: Sequence[StatementEffect]) -> bool:
    """Every expansion of the SQL is a plain variable inside a single-quoted string of a query
    or DML statement, in a place that holds a value."""
    if not text.expansions or not all(_VARIABLE.match(name) for name in text.expansions):
        return False
    built = [s for s in statements if EXPANSION_PLACEHOLDER in s.text]
    if not built or any(s.operation not in _VALUE_STATEMENTS for s in built):
        return False
    outside = "".join(sql.split("'")[::2])  # the text outside single-quoted strings
    stripped = sql.replace(EXPANSION_PLACEHOLDER, "")
    return (
        sql.count("'") % 2 == 0
        and EXPANSION_PLACEHOLDER in sql
        and EXPANSION_PLACEHOLDER not in outside
        and not _OBSCURED_QUOTES.search(stripped)
        and _placed_as_values(sql)
    )


def _placed_as_values(sql: str) -> bool:
    """Each string holding an expansion is compared or assigned (`= '$V'`, `IN ('$V')`,
    `VALUES ('$V', ...)`), never a predicate of its own (`WHERE '$V'`) nor a function's
    argument (quotes already balanced)."""
    openers: list[str] = []
    quoted = False
    for index, char in enumerate(sql):
        if char == "'":
            quoted = not quoted
            holds = EXPANSION_PLACEHOLDER in sql[index : sql.find("'", index + 1)]
            if quoted and holds and not _value_position(sql[:index], openers):
                return False
        elif quoted:
            continue
        elif char == "(":
            before = _WORD_BEFORE.search(sql[:index])
            openers.append(before.group(1).lower() if before else "")
        elif char == ")" and openers:
            openers.pop()
    return True


def _value_position(before: str, openers: Sequence[str]) -> bool:
    if any(word and word not in _GROUPING for word in openers):
        return False  # inside a function call
    if _COMPARED.search(before):
        return True
    listed = bool(openers) and openers[-1] in ("values", "in")
    return listed and before.rstrip().endswith(("(", ","))


def _bq(call: _Call) -> None:
    values = _words(
        "--project_id --location --dataset_id --format --destination_table --parameter "
        "--max_rows -n --api --flagfile --job_id"
    )
    parsed = _parse(call.args, values, first_operand_ends=True)
    if not parsed.operands:
        return
    verb, rest = parsed.operands[0].value, parsed.operands[1:]
    inner = _parse(rest, values)
    if verb == "query":
        client = _SQL_CLIENTS["bq"]
        _run_sql_client(call, client, inner)
    elif verb == "rm" and _table_drops(inner):
        for table in inner.operands:  # `bq rm -t p:d.t` is `DROP TABLE p.d.t`, judged as that is
            project, _, path = table.value.rpartition(":")
            dropped = ".".join(part for part in (project, path) if part)
            _embed_sql(call, _SQL_CLIENTS["bq"], _Word.literal(f"DROP TABLE `{dropped}`"))
    elif verb == "rm":
        bulk = inner.has("-r", "--recursive")
        _delete(
            call,
            inner.operands,
            f"bq rm deletes {_names(inner.operands)}",
            bulk=bulk,
            kind=ObjectKind.TABLE,
        )
    elif verb == "extract" and len(inner.operands) >= 2:
        call.obj(ObjectKind.TABLE, ObjectAction.READ, inner.operands[0].display)
        call.add(Intent.READ, f"bq extract reads the whole of {inner.operands[0].display}")
        destinations = [(ObjectKind.URL, w.display) for w in inner.operands[1:]]
        _export(call, destinations, [inner.operands[0]], "bq extract")
    elif verb in ("load", "insert", "cp"):
        call.add(Intent.WRITE, f"bq {verb} writes {_names(inner.operands[:1])}")


# `bq rm` of a dataset (-d), with its tables (-r), of a model, routine or connection is no
# table drop; a table is `[project:]dataset.table`, its name written out
_NOT_TABLES = ("-d", "--dataset", "-r", "--recursive", "-m", "--model", "--routine", "--connection")
_TABLE_NAME = re.compile(r"^(?:[\w.-]+:)?\w+\.\w+$")


def _table_drops(parsed: _Parsed) -> bool:
    return (
        not parsed.unknown
        and not parsed.has(*_NOT_TABLES)
        and bool(parsed.operands)
        and all(not w.dynamic and _TABLE_NAME.match(w.value) for w in parsed.operands)
    )


def _clickhouse(call: _Call) -> None:
    if call.args and call.args[0].value == "client":
        call.args = call.args[1:]
        call.effect.operation = "clickhouse-client"
        _sql_client(call)


# --------------------------------------------------------------------------- program tables

_MYSQL = _SqlClient(
    "mysql",
    sql_options=_options("-e", "--execute", "--init-command"),
    value_options=_words(
        "-h --host -u --user -P --port -D --database -S --socket --default-character-set "
        "--defaults-file"
    ),
    output_options=_options("--tee"),
    attached_only=_options("-p"),
    meta="mysql",
)
_SQLITE = _SqlClient(
    "sqlite",
    sql_options=_options("-cmd"),
    file_options=_options("-init"),
    value_options=_words("-separator -nullvalue -newline -vfs"),
    sql_operands_from=1,
    clusters=False,
    meta="sqlite",
    info_options=_words("-help -version --help --version"),
)
_SPARK = _SqlClient(
    "spark",
    sql_options=_options("-e"),
    file_options=_options("-f", "-i"),
    value_options=_words(
        "-u -n -p -d --hivevar --hiveconf --conf --master --name --database --define "
        "--property-file"
    ),
)
#: Database clients: how each passes SQL, and the dialect analyze_sql parses it in.
_SQL_CLIENTS: dict[str, _SqlClient] = {
    "psql": _SqlClient(
        "postgres",
        sql_options=_options("-c", "--command"),
        file_options=_options("-f", "--file"),
        value_options=_words(
            "-h --host -p --port -U --username -d --dbname -v --set --variable "
            "-P --pset -F --field-separator -R --record-separator -T --table-attr"
        ),
        output_options=_words("-o --output -L --log-file"),
        meta="psql",
    ),
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "sqlite3": _SQLITE,
    "sqlite": _SQLITE,
    "snowsql": _SqlClient(
        "snowflake",
        sql_options=_options("-q", "--query"),
        file_options=_options("-f", "--filename"),
        value_options=_words(
            "-a --accountname -u --username -d --dbname -s --schemaname -r --rolename -w "
            "--warehouse -c --connection -o --option -D --variable --config"
        ),
        output_options=_options("-o output_file=", "--option output_file="),
        meta="snowsql",
    ),
    "bq": _SqlClient("bigquery", sql_operands_from=0),
    "sqlcmd": _SqlClient(
        "tsql",
        sql_options=_options("-Q", "-q"),
        file_options=_options("-i"),
        value_options=_words("-S -U -P -d -s -w -h -v -t -l -H -f -a -b -W"),
        output_options=_options("-o"),
        clusters=False,
        info_options=_options("-?"),
        variable_options=_options("-v"),
        variable_use="$({})",
        meta="sqlcmd",
    ),
    "clickhouse-client": _SqlClient(
        "clickhouse",
        sql_options=_options("-q", "--query"),
        file_options=_options("--queries-file"),
        value_options=_words(
            "-h --host --port -u --user --password -d --database -f --format --param --config-file"
        ),
    ),
    "duckdb": _SqlClient(
        "duckdb",
        sql_options=_options("-c", "-s", "-cmd"),
        file_options=_options("-init", "-f"),
        sql_operands_from=1,
        clusters=False,
        meta="sqlite",
    ),
    "trino": _SqlClient(
        "trino",
        sql_options=_options("--execute"),
        file_options=_options("-f", "--file"),
        value_options=_words(
            "--server --catalog --schema --user --output-format --session --source "
            "--client-tags --resource-estimate"
        ),
        session_options=_options("--session"),
    ),
    "presto": _SqlClient(
        "presto",
        sql_options=_options("--execute"),
        file_options=_options("-f", "--file"),
        value_options=_words("--server --catalog --schema --user --output-format --session"),
        session_options=_options("--session"),
    ),
    "sqlplus": _SqlClient(
        "oracle",
        script_prefix="@",
        clusters=False,
        meta="sqlplus",
        info_options=_options("-V", "-H", "-v"),
    ),
    "beeline": replace(_SPARK, meta="sqlline"),
    "spark-sql": _SPARK,
    "hive": replace(_SPARK, dialect="hive", meta="hive"),
}
