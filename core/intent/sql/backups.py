"""BACKUP (and SQLite's VACUUM INTO) to the host's own backup folder or disk: a copy of the
database written on its own host, not data leaving it; DuckDB's EXPORT DATABASE into the
working folder: a file write. Any other destination (a URL, a share, an object store, a folder
that is not a backup folder) keeps the keyword rule's `export` (rules/sql_commands.yaml)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.reads import working_folder_file
from guardrails_core.intent.sql.statement import _Statement

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command

# WITH options that change how the copy is written, not what else happens. Not INIT or FORMAT
# (they overwrite the backups the file already holds), nor NORECOVERY (it leaves the database
# restoring, offline) or NO_TRUNCATE.
_OPTION = (
    r"(?:COPY_ONLY|COMPRESSION|NO_COMPRESSION|CHECKSUM|NO_CHECKSUM|NOINIT|NOFORMAT|SKIP|NOSKIP"
    r"|DIFFERENTIAL|CONTINUE_AFTER_ERROR|STOP_ON_ERROR|STATS(?:\s*=\s*\d+)?"
    r"|(?:MAXTRANSFERSIZE|BLOCKSIZE|BUFFERCOUNT|RETAINDAYS)\s*=\s*\d+"
    r"|(?:NAME|DESCRIPTION|MEDIANAME)\s*=\s*N?'[^'\n]*')"
)
_DISK = r"DISK\s*=\s*N?'(?P<path>[^'\n]+)'"
_TSQL_BACKUP = re.compile(
    rf"\s*BACKUP\s+(?:DATABASE|LOG)\s+[\w\[\]\"]+\s+TO\s+{_DISK}(?P<more>(?:\s*,\s*DISK\s*=\s*N?'[^'\n]+')*)"
    rf"(?:\s+WITH\s+{_OPTION}(?:\s*,\s*{_OPTION})*)?\s*;?\s*",
    re.IGNORECASE,
)
# ClickHouse writes to a disk the server's configuration allows for backups (backups.allowed_disk).
_CLICKHOUSE_BACKUP = re.compile(
    r"\s*BACKUP\s+(?:TABLE|DATABASE)\s+[\w.`\"]+(?:\s+ON\s+CLUSTER\s+[\w'`\"]+)?"
    r"\s+TO\s+Disk\s*\(\s*'(?P<disk>[\w-]+)'\s*,\s*'(?P<path>[\w./-]+)'\s*\)\s*;?\s*",
    re.IGNORECASE,
)
# A folder of the host's own disk whose name says it holds backups (D:\SQLBackups,
# /var/opt/mssql/backup, /var/backups/app); web roots and shared folders are not, whatever they
# are named, nor a Linux path under a mount point (a share of another host may be mounted there),
# nor one through `..` or a hidden folder.
_LOCAL_PATH = re.compile(r"[A-Za-z]:\\(?!.*\.\.)[^\\/].*", re.DOTALL)
_LINUX_PATH = re.compile(
    r"/(?!(?:mnt|media|net|nfs|smb|cifs|run|proc|sys|dev|Volumes)(?:/|$))(?!.*(?:^|/)\.)[^/\n].*",
    re.DOTALL,
)
_SERVED = re.compile(
    r"(?i)[\\/](?:inetpub|wwwroot|htdocs|www|html|public|users|home|temp|tmp|share|shared|shares"
    r"|uploads?|exports?|incoming|outgoing|dropbox|pub)[\\/]"
)


def backup_folder(path: str) -> bool:
    """Whether `path` is a file in a backup folder of the host's own disk."""
    folders = re.split(r"[\\/]", path)[:-1]
    return (
        (_LOCAL_PATH.fullmatch(path) is not None or _LINUX_PATH.fullmatch(path) is not None)
        and _SERVED.search(path) is None
        and any("backup" in folder.lower() for folder in folders)
    )


def special_backup(statement: _Statement, command: _Command) -> bool:
    """`BACKUP DATABASE s TO DISK = N'D:\\SQLBackups\\s.bak' WITH COPY_ONLY`: a write of a file
    on the server. False (the keyword rule's export) for anything else."""
    text = command.source[command.chunk.start : command.chunk.end]
    if statement.dialect_name == "clickhouse":
        match = _CLICKHOUSE_BACKUP.fullmatch(text)
        paths = [f"{match['disk']}:{match['path']}"] if match else []
    else:
        match = _TSQL_BACKUP.fullmatch(text)
        more = re.findall(r"N?'([^'\n]+)'", match["more"]) if match else []
        paths = [match["path"], *more] if match else []
        if not all(backup_folder(path) for path in paths):
            return False
    if not paths:
        return False
    statement.operation = "BACKUP"
    # The whole statement is the shape above: what sqlglot could not parse is understood.
    statement.intents.discard(I.UNPARSEABLE)
    statement.findings[:] = [f for f in statement.findings if f.intent is not I.UNPARSEABLE]
    for path in paths:
        statement.obj(K.FILE, A.WRITE, path)
        statement.add(I.WRITE, f"BACKUP writes a copy of the database to {path}, on its own host")
    return True


# DuckDB's EXPORT DATABASE [db TO] 'folder' [(FORMAT PARQUET, ...)], with nothing after it
_DUCKDB_EXPORT = re.compile(
    r"(?is)\s*EXPORT\s+DATABASE\s+(?:[a-z_][\w$]*\s+TO\s+)?'(?P<path>[^'\n]+)'"
    r"\s*(?:\((?:[^()'\";]|'[^'\n]*')*\))?\s*;?\s*"
)


def special_export(statement: _Statement, command: _Command) -> bool:
    """DuckDB `EXPORT DATABASE 'out/db'`: every table written to files in a relative folder of
    the process, as `COPY ... TO 'out.csv'` is. False (the keyword rule's export) for anything
    else: an absolute path, `..`, a URL, a server database's host."""
    text = command.source[command.chunk.start : command.chunk.end]
    match = _DUCKDB_EXPORT.fullmatch(text)
    if match is None or not working_folder_file(statement, match["path"]):
        return False
    statement.operation = "EXPORT DATABASE"
    # The whole statement is the shape above: what sqlglot could not parse is understood.
    statement.intents.discard(I.UNPARSEABLE)
    statement.findings[:] = [f for f in statement.findings if f.intent is not I.UNPARSEABLE]
    statement.obj(K.FILE, A.WRITE, match["path"])
    statement.add(I.READ, "EXPORT DATABASE reads every table")
    statement.add(I.WRITE, f"EXPORT DATABASE writes every table to files in {match['path']}")
    return True
