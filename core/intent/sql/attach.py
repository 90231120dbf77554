"""ATTACH and DETACH (SQLite, DuckDB): which database file or server a statement opens, and
whether what it opens can be written into (an export) or only read."""

from __future__ import annotations

import re

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.sql.ddl import _DATA_HOLDING_KINDS, _object_kind
from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.reads import (
    _local_data_path,
    _outside_workspace,
    working_folder_file,
)
from guardrails_core.intent.sql.statement import _Chunk, _location_kind, _Statement


def _handle_attach(statement: _Statement, node: exp.Attach, chunk: _Chunk | None) -> None:
    this = node.this
    target = unparen(this.this if isinstance(this, exp.Alias) else this)
    if not isinstance(target, exp.Literal | exp.Identifier | exp.Column):
        # ATTACH ('/tmp/' || name): the file is chosen at run time.
        statement.obj(K.FILE, A.EXPORT_TARGET, target.sql() if target is not None else "file")
        statement.add(I.EXPORT, "ATTACH of a database file whose path is computed at run time")
        return
    location = target.name
    if location in (":memory:", ""):
        statement.add(I.SCHEMA_CHANGE, "ATTACH of an in-memory database")
        return
    engine = _attached_engine(node)
    if _read_only(node) or (engine in _FILE_ENGINES and _READ_ONLY_URI.search(location)):
        # Nothing can be written into it: a read of the file, judged as a table function
        # reading that location would be. A server attached read-only (TYPE postgres, mysql)
        # is read as a federated catalog's tables are (set S: s-sql-088); its connection
        # string is no path on this host.
        statement.obj(_location_kind(location), A.READ, location)
        statement.add(I.READ, f"ATTACH {location} (read-only) reads that database")
        path = _uri_path(location)  # a data path is read as read_parquet('/data/...') is
        outside = _outside_workspace(path) and not _local_data_path(statement, path)
        if engine in _FILE_ENGINES and outside:
            statement.add(I.HOST_ACCESS, f"ATTACH reads {location}, outside the working data")
        return
    if engine in _FILE_ENGINES and working_folder_file(statement, location):
        # What is copied into it lands in the working folder, as COPY ... TO 'out.csv' does.
        statement.obj(K.FILE, A.WRITE, location)
        statement.add(I.WRITE, f"ATTACH {location} opens a database file in the working folder")
        return
    statement.obj(_location_kind(location), A.EXPORT_TARGET, location)
    statement.add(
        I.EXPORT,
        f"ATTACH {location} opens (or creates) a database file that data can be copied into",
    )
    if engine not in _FILE_ENGINES:
        statement.add(I.HOST_ACCESS, f"ATTACH (TYPE {engine}) connects to another database server")
    elif _outside_workspace(location):
        statement.add(I.HOST_ACCESS, f"ATTACH opens {location}, outside the working data")


# SQLite's URI filenames open a file read-only with `?mode=ro` (or `immutable=1`).
_READ_ONLY_URI = re.compile(r"^file:[^?#]*\?(?:[^#]*&)?(?:mode=ro|immutable=1)(?:&|#|$)", re.I)


def _uri_path(location: str) -> str:
    """The file of a SQLite URI filename (`file:backups/x.db?mode=ro` -> `backups/x.db`)."""
    if not location.lower().startswith("file:"):
        return location
    return re.sub(r"^file:(?://(?=/))?", "", location, flags=re.I).split("?", 1)[0].split("#", 1)[0]


# ATTACH types whose target is a database file (no TYPE: the engine's own format).
_FILE_ENGINES = frozenset({"", "duckdb", "sqlite"})


def _attached_engine(node: exp.Attach) -> str:
    """DuckDB's `ATTACH '...' (TYPE postgres)`: the lower-case type, '' when none is given."""
    for option in node.expressions:
        if isinstance(option, exp.AttachOption) and option.name.upper() == "TYPE":
            value = option.args.get("expression")
            return value.name.lower() if isinstance(value, exp.Expr) else "unknown"
    return ""


def _read_only(node: exp.Attach) -> bool:
    """ATTACH ... (READ_ONLY) or (READ_ONLY true); any other value, or none, may write."""
    for option in node.expressions:
        if not isinstance(option, exp.AttachOption) or option.name.upper() != "READ_ONLY":
            continue
        value = option.args.get("expression")
        return value is None or (isinstance(value, exp.Boolean) and value.this is True)
    return False


def _handle_detach(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    if statement.dialect_name == "clickhouse":
        _server_detach(statement, node)
        return
    statement.add(I.SCHEMA_CHANGE, "DETACH closes an attached database")


def _server_detach(statement: _Statement, node: exp.Expr) -> None:
    """ClickHouse's DETACH (TABLE, VIEW, DICTIONARY, DATABASE) takes the object out of the
    server for every session until an ATTACH puts it back: to its readers it is dropped, as
    SQLite's and DuckDB's DETACH, which closes this session's own link to a file, is not."""
    label = str(node.args.get("kind") or "TABLE").upper()
    kind = _object_kind(label)
    if isinstance(node.this, exp.Table):
        statement.table(node.this, A.DROP, kind)
    statement.add(I.SCHEMA_CHANGE, f"DETACH {label} takes the {label.lower()} out of the server")
    if kind in _DATA_HOLDING_KINDS:
        statement.add(I.DELETE, f"every reader of the detached {label.lower()} finds no rows")
