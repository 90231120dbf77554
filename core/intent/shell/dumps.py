"""Database dumps and restores: what a dump reads and carries (credentials, DROPs), what a
restore loads or prints."""

from __future__ import annotations

import re

from guardrails_core.intent.shell.clients import _local_host
from guardrails_core.intent.shell.files import _record_write, _special_file
from guardrails_core.intent.shell.options import _Call, _parse, _Parsed, _words
from guardrails_core.intent.shell.words import _Feed, _names, _Origin, _Word
from guardrails_core.model import Intent, ObjectAction, ObjectKind


def _dump(call: _Call) -> None:
    mysql = call.prog.rsplit("/", 1)[-1] in _MYSQL_DUMPERS
    if mysql:  # -pSECRET only (a bare -p prompts), -d is --no-data, -P the port
        parsed = _parse(call.args, _MYSQL_DUMP_VALUES, attached_only=_words("-p"))
    else:
        parsed = _parse(call.args, _DUMP_VALUES)
    databases = parsed.values("-d", "--dbname") or parsed.operands[:1]
    name = databases[0].display if databases else "the default database"
    call.obj(ObjectKind.DATABASE, ObjectAction.READ, name)
    call.add(Intent.READ, f"{call.prog} reads the whole of {name}")
    origin = _Origin.DUMP
    if _dumps_password_hashes(call.prog, {option for option, _ in parsed.options}):
        origin |= _Origin.SECRET
        call.add(Intent.PRIVILEGE, f"{call.prog} copies every role with its password hash")
    structure_only = _MYSQL_STRUCTURE_ONLY if mysql else _STRUCTURE_ONLY
    tables = [] if parsed.has(*structure_only) else _dumped_tables(call.prog, parsed)
    for table in tables[:8]:
        if not table.dynamic and _rows_are_credentials(table.value):
            origin |= _Origin.SECRET
            call.add(Intent.PRIVILEGE, f"{call.prog} copies {table.display}: stored credentials")
    if parsed.has(*_DROPS_FIRST.get(call.prog.rsplit("/", 1)[-1], ())):
        origin |= _Origin.DROPS  # whoever loads it drops the databases or tables it holds
    outputs = parsed.values("-f", "--file", "-r", "--result-file")
    for output in outputs:
        _record_write(call.effect, output, call.prog)
    call.stdout = None if outputs else _Feed(origin, f"a database dump from {call.prog}")


def _dumped_tables(program: str, parsed: _Parsed) -> list[_Word]:
    """The tables a dump names: pg_dump's -t; mysqldump's operands after the database (none
    with --databases or --all-databases, where every operand is a database, unless --tables)."""
    if program.endswith("pg_dump"):
        return parsed.values("-t", "--table")
    if program.rsplit("/", 1)[-1] not in _MYSQL_DUMPERS:
        return []
    if parsed.has("-B", "--databases", "-A", "--all-databases") and not parsed.has("--tables"):
        return []
    return parsed.operands[1:]


def _rows_are_credentials(table: str) -> bool:
    """`pg_dump -t public.api_keys`: a table's whole rows, judged as `SELECT *` of it is."""
    from guardrails_core.intent.sql import analyze_sql

    whole_rows = analyze_sql(f"SELECT * FROM {table}", "postgres", depth=1)
    return any(Intent.PRIVILEGE in statement.intents for statement in whole_rows)


def _dumps_password_hashes(program: str, options: set[str]) -> bool:
    """`pg_dumpall --globals-only` (or --roles-only): the roles alone, with their password
    hashes, are the whole point of it; a full dumpall is a backup, judged as any dump."""
    return (
        program == "pg_dumpall"
        and bool(options & _ROLES_ONLY)
        and "--no-role-passwords" not in options
    )


def _restore(call: _Call) -> None:
    program = call.prog.rsplit("/", 1)[-1]
    emptying = _EMPTIES_FIRST.get(program, ())
    parsed = _parse(call.args, _DUMP_VALUES - set(emptying))
    if program == "pg_restore" and parsed.has("-l", "--list") and not parsed.has("-d", "--dbname"):
        _list_archive(call, parsed)
        return
    source = _names(parsed.operands) if parsed.operands else call.stdin()
    if program == "pg_restore" and not parsed.has("-d", "--dbname"):
        _restore_script(call, parsed, source, dropping=parsed.has(*emptying))
        return
    created = _created_here(call, parsed.values("-d", "--dbname"), parsed)
    if created:  # what the dump holds, drops among it, lands in the new database alone
        call.add(Intent.WRITE, f"{call.prog} loads {source} into {created}, created just before")
        return
    call.add(Intent.WRITE, f"{call.prog} loads {source} into the database")
    call.add(Intent.DYNAMIC, f"the contents {call.prog} loads are not visible here")
    if parsed.has(*emptying) and not _local_development(parsed):
        # every table the dump holds is dropped (or emptied), rows newer than the dump with it
        dropped = f"{call.prog} drops or empties the tables it restores before loading them"
        call.add(Intent.DELETE, dropped)
        call.add(Intent.MASS_MUTATION, dropped)
        if program in _RECREATES:
            call.add(Intent.SCHEMA_CHANGE, f"{call.prog} drops and recreates what it restores")


def note_created_database(call: _Call) -> None:
    """`createdb NAME`: a database this script made (on that host), empty but for its
    template."""
    parsed = _parse(call.args, _CREATEDB_VALUES)
    after = str(getattr(call.analyzer, "text", ""))[call.effect.span[1] :]
    if _FAILURE_TOLERATED.match(after):  # `createdb x || true`: x may have been there already
        return
    if parsed.operands and not parsed.operands[0].dynamic:
        key = _created_key(parsed.operands[0].value, parsed)
        call.analyzer.note_fact(key, parsed.operands[0].value)


def _created_here(call: _Call, databases: list[_Word], parsed: _Parsed) -> str | None:
    """The database the restore loads into, when this script created it (with --create the
    archive's own database is made and loaded, -d only connects)."""
    if not databases or databases[-1].dynamic or parsed.has("-C", "--create"):
        return None
    return call.analyzer.fact(_created_key(databases[-1].value, parsed))


def _created_key(database: str, parsed: _Parsed) -> str:
    hosts = parsed.values("-h", "--host")
    port = parsed.values("-p", "--port")
    where = f"{hosts[-1].value if hosts else ''}:{port[-1].value if port else ''}"
    return f"database created {database} at {where}"


_FAILURE_TOLERATED = re.compile(r"(?:\s*\d?>>?\s*\S+)*\s*\|\|")
_CREATEDB_VALUES = _words(
    "-D --tablespace -E --encoding -l --locale -O --owner -T --template -h --host -p --port "
    "-U --username --maintenance-db --lc-collate --lc-ctype --icu-locale --strategy -S"
)


def _restore_script(call: _Call, parsed: _Parsed, source: str, *, dropping: bool) -> None:
    """`pg_restore dump` with no database: it prints the SQL script of the restore (to -f FILE
    or stdout) and connects to nothing; whoever loads that script runs it (with --clean, its
    DROPs too), as a dump's."""
    for archive in parsed.operands:
        call.obj(ObjectKind.FILE, ObjectAction.READ, archive.display)
        _special_file(call.effect, archive, call.prog, writes=False)
    call.add(Intent.READ, f"{call.prog} prints the restore script of {source}")
    outputs = [o for o in parsed.values("-f", "--file") if o.value not in ("-", "/dev/stdout")]
    for output in outputs:
        _record_write(call.effect, output, call.prog)
    origin = _Origin.DUMP | (_Origin.DROPS if dropping else _Origin.NONE)
    call.stdout = None if outputs else _Feed(origin, f"the restore script of {source}")


def _list_archive(call: _Call, parsed: _Parsed) -> None:
    """`pg_restore -l dump`: prints the archive's table of contents, restores nothing (with a
    database named, it is judged as the restore it may be)."""
    for archive in parsed.operands:
        call.obj(ObjectKind.FILE, ObjectAction.READ, archive.display)
        _special_file(call.effect, archive, call.prog, writes=False)
    source = _names(parsed.operands) if parsed.operands else call.stdin()
    call.add(Intent.READ, f"{call.prog} lists what {source} holds")
    outputs = parsed.values("-f", "--file")
    for output in outputs:
        _record_write(call.effect, output, call.prog)
    call.stdout = None if outputs else _Feed(_Origin.DATA, f"the contents list of {source}")


def _local_development(parsed: _Parsed) -> bool:
    """`-h localhost -d dev_local_jsmith`: a server on this machine, named as such, and a
    database named for development or tests (as dbt's dev target is)."""
    hosts = parsed.values("-h", "--host")
    databases = parsed.values("-d", "--dbname", "--db")
    return (
        bool(hosts and databases)
        and all(not host.dynamic and _local_host(host.value) for host in hosts)
        and all(
            not name.dynamic and set(re.split(r"[-_.]", name.value.lower())) & _THROWAWAY
            for name in databases
        )
    )


_DUMP_VALUES = _words(
    "-d --dbname -h --host -p --port -U --username -u --user -f --file -r --result-file "
    "-n --schema -t --table -F --format -j --jobs -S --socket"
)
_MYSQL_DUMPERS = _words("mysqldump mariadb-dump")
_MYSQL_DUMP_VALUES = _words(
    "-h --host -P --port -u --user -r --result-file -S --socket -w --where --ignore-table "
    "--default-character-set --login-path"
)
_DUMPERS = _words("pg_dump pg_dumpall mysqldump mariadb-dump mongodump mongoexport")
# a dump of the tables' definitions alone: no row is copied (pg_dump's -d is the database)
_STRUCTURE_ONLY = _words("-s --schema-only")
_MYSQL_STRUCTURE_ONLY = _words("-d --no-data")
_ROLES_ONLY = _words("-g --globals-only -r --roles-only")
_RESTORERS = _words("pg_restore mysqlimport mongorestore")
_THROWAWAY = frozenset(("dev", "development", "local", "test", "ci", "sandbox"))
# options of a restorer that drop or empty what it restores first (mysqlimport -d is --delete)
_EMPTIES_FIRST = {
    "pg_restore": ("-c", "--clean"),
    "mongorestore": ("--drop",),
    "mysqlimport": ("-d", "--delete"),
}

# restorers whose emptying option drops the objects themselves and creates them again from the
# dump (mysqlimport --delete only deletes rows)
_RECREATES = frozenset(("pg_restore", "mongorestore"))

# options of a dumper whose SQL drops each database or table before recreating it: the client
# that reads the dump drops them where it loads it (mysqldump's -c is --complete-insert)
_DROPS_FIRST = {
    "pg_dump": ("-c", "--clean"),
    "pg_dumpall": ("-c", "--clean"),
    "mysqldump": ("--add-drop-database",),
    "mariadb-dump": ("--add-drop-database",),
}
