"""Access handlers: COPY and EXPORT, GRANT, SET and PRAGMA (ATTACH: attach.py, EXEC: procedures)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

from guardrails_core.intent.node_index import NodeIndex, bfs_nodes
from guardrails_core.intent.sql.attach import _handle_attach, _handle_detach
from guardrails_core.intent.sql.current_schema import handle_use
from guardrails_core.intent.sql.ddl import _handle_alter, _handle_create, _handle_drop
from guardrails_core.intent.sql.dialects import MAX_DEPTH, A, I, K
from guardrails_core.intent.sql.dml import (
    _DROP_KINDS,
    _handle_delete,
    _handle_insert,
    _handle_into,
    _handle_truncate,
    _handle_update,
)
from guardrails_core.intent.sql.functions import (
    PARSED_REGISTRY_FUNCTIONS,
    _check_function,
)
from guardrails_core.intent.sql.merge import _handle_merge
from guardrails_core.intent.sql.pragmas import _handle_pragma
from guardrails_core.intent.sql.procedures import _handle_execute
from guardrails_core.intent.sql.reads import (
    _record_reads,
    working_folder_file,
)
from guardrails_core.intent.sql.settings import _handle_query_settings, is_variable, judge_setting
from guardrails_core.intent.sql.statement import (
    Handler,
    _Chunk,
    _kind,
    _location_kind,
    _normalise,
    _stage_or_location,
    _Statement,
)
from guardrails_core.model import (
    ObjectAction,
    Operation,
)


def _walk(statement: _Statement, tree: exp.Expr, chunk: _Chunk | None) -> None:
    # Every node of every statement passes here: the types are locals, not module lookups.
    handlers, table, cte, anonymous = _HANDLERS, exp.Table, exp.CTE, exp.Anonymous
    tables = statement.tables
    nodes = bfs_nodes(tree)  # kept: the checks of its statements look up tables and joins here
    statement.indexes[id(tree)] = NodeIndex(tree, nodes)
    for node in nodes:
        node_type = type(node)
        if node_type is table:
            tables.append(node)  # type: ignore[arg-type]
            continue
        if node_type is cte:
            alias = node.alias_or_name
            if alias:
                statement.cte_names.add(_normalise(statement.names.dialect, alias, quoted=False))
            continue
        handler = handlers.get(node_type)
        if handler is not None:
            handler(statement, node, chunk)
        elif node_type is anonymous:
            _check_function(statement, node)
    _record_reads(statement)


# --------------------------------------------------------------------------- handlers


def _operation_name(tree: exp.Expr) -> str:
    base = _STATEMENT_OPERATIONS.get(type(tree))
    if isinstance(tree, exp.Query):
        return "SELECT INTO" if tree.args.get("into") else "SELECT"
    if isinstance(tree, exp.Create):
        kind = _kind(tree)
        return f"CREATE {'OR REPLACE ' if tree.args.get('replace') else ''}{kind}".strip()
    if isinstance(tree, exp.Drop):
        kind = _kind(tree)
        if kind == "TABLE" and not tree.args.get("materialized"):
            return Operation.DROP_TABLE
        materialized = "MATERIALIZED " if tree.args.get("materialized") else ""
        return f"DROP {materialized}{kind}".strip()
    if isinstance(tree, exp.Alter):
        actions = tree.args.get("actions") or []
        if any(isinstance(action, exp.AlterRename) for action in actions):
            return f"ALTER {_kind(tree)} RENAME"
        return f"ALTER {_kind(tree)}".strip()
    if isinstance(tree, exp.Insert):
        if isinstance(tree.this, exp.Directory):
            return "INSERT OVERWRITE DIRECTORY"
        return "INSERT OVERWRITE" if tree.args.get("overwrite") else "INSERT"
    if isinstance(tree, exp.Copy):
        return "COPY FROM" if tree.args.get("kind") else "COPY TO"
    return base or type(tree).__name__.upper()


def _handle_copy(statement: _Statement, node: exp.Copy, chunk: _Chunk | None) -> None:
    loading = bool(node.args.get("kind"))
    target = node.this
    files = node.args.get("files") or []
    program = _copy_program(chunk)
    if loading and _copy_direction(chunk) == "TO":
        # The tokens say TO where sqlglot read FROM (PostgreSQL's old `COPY BINARY t TO ...`):
        # the database will export, so judge it as an export.
        _copy_to_from_tokens(statement, chunk, program)
        return
    if loading:
        # COPY t FROM ... loads; Snowflake's COPY INTO @stage / 's3://' FROM ... unloads.
        destination = _stage_or_location(target) if isinstance(target, exp.Table) else None
        if destination is not None:
            kind, location = destination
            statement.claimed_tables.add(id(target))
            statement.obj(kind, A.EXPORT_TARGET, location)
            statement.add(I.EXPORT, f"COPY INTO {location} unloads data out of the database")
            statement.operation = "COPY INTO LOCATION"
            statement.add(I.READ, "COPY INTO a location reads the source")
            return
        statement.table(target, A.WRITE)
        statement.add(I.WRITE, "COPY ... FROM loads rows")
        if program is not None:
            statement.obj(K.PROGRAM, A.EXECUTE, program)
            statement.add(I.HOST_ACCESS, f"COPY ... FROM PROGRAM runs {program!r} on the server")
            _embed_shell(statement, program)
            return
        for source in files:
            _copy_endpoint(statement, source, A.READ)
        return
    statement.add(I.READ, "COPY ... TO reads the source")
    if program is not None:
        statement.obj(K.PROGRAM, A.EXPORT_TARGET, program)
        statement.add(I.EXPORT, f"COPY ... TO PROGRAM pipes data into {program!r}")
        statement.add(I.HOST_ACCESS, f"COPY ... TO PROGRAM runs {program!r} on the server")
        _embed_shell(statement, program)
        return
    for written_to in files:
        if isinstance(written_to, exp.Identifier) and written_to.name.upper() == "STDOUT":
            statement.add(I.READ, "COPY ... TO STDOUT streams rows to this client session")
            continue
        if isinstance(written_to, exp.Literal) and working_folder_file(statement, written_to.this):
            statement.obj(K.FILE, A.WRITE, written_to.this)
            statement.add(I.WRITE, "COPY ... TO writes a file in the working folder of its process")
            continue
        statement.add(I.EXPORT, "COPY ... TO writes table data to a file outside the database")
        _copy_endpoint(statement, written_to, A.EXPORT_TARGET)


def _copy_endpoint(statement: _Statement, node: exp.Expr, action: ObjectAction) -> None:
    if isinstance(node, exp.Literal):
        statement.obj(_location_kind(node.this), action, node.this)
    elif isinstance(node, exp.Table):
        location = _stage_or_location(node)
        if location is not None:
            statement.claimed_tables.add(id(node))
            statement.obj(location[0], action, location[1])


def _copy_direction(chunk: _Chunk | None) -> str | None:
    """TO or FROM, as the top-level keyword of the COPY statement's tokens."""
    if chunk is None:
        return None
    depth = 0
    for token in chunk.tokens[1:]:
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and token.text.upper() in ("TO", "FROM"):
            return token.text.upper()
    return None


def _copy_to_from_tokens(statement: _Statement, chunk: _Chunk | None, program: str | None) -> None:
    statement.operation = "COPY TO"
    statement.add(I.READ, "COPY ... TO reads the source")
    tokens = chunk.tokens if chunk is not None else []
    names = [
        t
        for t in tokens[1:]
        if t.token_type is TokenType.VAR
        and t.text.upper() not in ("BINARY", "TO", "FROM", "PROGRAM", "STDOUT", "WITH")
    ]
    if names:
        statement.obj(
            K.TABLE,
            A.READ,
            _normalise(statement.names.dialect, names[0].text, quoted=False),
            schema=statement.names.default_schema,
        )
    if program is not None:
        statement.obj(K.PROGRAM, A.EXPORT_TARGET, program)
        statement.add(I.HOST_ACCESS, f"COPY ... TO PROGRAM runs {program!r} on the server")
        statement.add(I.EXPORT, f"COPY ... TO PROGRAM pipes data into {program!r}")
        return
    destination = next((t.text for t in tokens if t.token_type is TokenType.STRING), None)
    statement.obj(K.FILE, A.EXPORT_TARGET, destination or "file")
    statement.add(I.EXPORT, "COPY ... TO writes table data to a file outside the database")


def _copy_program(chunk: _Chunk | None) -> str | None:
    """COPY ... PROGRAM 'cmd': sqlglot keeps the command only as a bare Var, so read the token."""
    if chunk is None:
        return None
    tokens = chunk.tokens
    for position, token in enumerate(tokens[:-1]):
        if token.text.upper() == "PROGRAM" and tokens[position + 1].token_type in (
            TokenType.STRING,
            TokenType.HEREDOC_STRING,  # PostgreSQL's $cmd$...$cmd$
        ):
            return tokens[position + 1].text
    return None


def _handle_export(statement: _Statement, node: exp.Export, chunk: _Chunk | None) -> None:
    options = node.args.get("options")
    uri = None
    for prop in options.expressions if options is not None else []:
        if isinstance(prop, exp.Property) and prop.name.lower() == "uri":
            value = prop.args.get("value")
            uri = value.this if isinstance(value, exp.Literal) else None
    statement.obj(_location_kind(uri) if uri else K.URL, A.EXPORT_TARGET, uri or "unknown")
    statement.add(I.EXPORT, f"EXPORT DATA writes query results to {uri or 'an external location'}")
    statement.add(I.READ, "EXPORT DATA runs a query")


def _handle_grant(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    verb = "GRANT" if isinstance(node, exp.Grant) else "REVOKE"
    securable = node.args.get("securable")
    kind = _DROP_KINDS.get(str(node.args.get("kind") or "TABLE").upper(), K.TABLE)
    if isinstance(securable, exp.Table):
        statement.table(securable, A.GRANT, kind)
    for principal in node.args.get("principals") or []:
        statement.obj(K.ROLE, A.GRANT, statement.names.identifier(principal.this))
    if isinstance(node, exp.Grant) and _read_grant_to_named_role(node):
        return  # the objects record who may now read it; dbt `grants:` runs this on every build
    statement.add(I.PRIVILEGE, f"{verb} changes who may do what")
    if isinstance(node, exp.Grant) and any(
        _anyone_online(principal) for principal in node.args.get("principals") or []
    ):
        statement.add(
            I.EXPORT, "GRANT to allUsers or allAuthenticatedUsers publishes the object online"
        )


# Principals outside the organisation: anyone on the internet, any Google account (BigQuery,
# GCS). PUBLIC in PostgreSQL or Snowflake is every role of the database, which stays inside it.
_ANYONE_ONLINE = frozenset({"allusers", "allauthenticatedusers"})


def _anyone_online(principal: exp.Expr) -> bool:
    return bool(_ANYONE_ONLINE.intersection(_principal_parts(principal)))


def _principal_parts(principal: exp.Expr) -> set[str]:
    """The grantee's name and, for BigQuery's `type:name` members (specialGroup:allUsers,
    group:x@acme.com), each part of it, lower-cased."""
    name = principal.this.name.lower() if isinstance(principal.this, exp.Expr) else ""
    return {name, *name.split(":")}


# Privileges that only let the grantee read the one object (BigQuery writes its roles).
_READ_PRIVILEGES = frozenset({"SELECT", "ROLES/BIGQUERY.DATAVIEWER"})
# Principals that are everyone, or every account user: a grant to them publishes the object.
_EVERYONE = frozenset(
    {"public", "allusers", "allauthenticatedusers", "users", "account users", "all", "everyone"}
)


# Schemas and names of the databases' own catalogs: reading them can mean reading password
# hashes or every session's queries (pg_authid, mysql.user, sys.sql_logins).
_SYSTEM_SCHEMAS = frozenset(
    {"pg_catalog", "information_schema", "mysql", "sys", "performance_schema", "system"}
)


def _system_catalog(table: exp.Table) -> bool:
    schema = (table.db or "").lower()
    name = table.name.lower()
    return schema in _SYSTEM_SCHEMAS or name.startswith(("pg_", "sys", "dba_", "all_", "v$"))


def _read_grant_to_named_role(node: exp.Grant) -> bool:
    """GRANT SELECT on one named table or view to named roles or users, without GRANT OPTION:
    routine read access. Schemas, catalogs, `*`, other privileges, PUBLIC-like grantees and
    shares stay privilege changes."""
    privileges = node.args.get("privileges") or []
    securable = node.args.get("securable")
    principals = node.args.get("principals") or []
    return (
        bool(privileges)
        and all(
            isinstance(p, exp.GrantPrivilege)
            and not p.expressions
            and p.this.name.upper() in _READ_PRIVILEGES
            for p in privileges
        )
        and str(node.args.get("kind") or "TABLE").upper() in ("TABLE", "VIEW")
        and isinstance(securable, exp.Table)
        and bool(securable.name)
        and "*" not in securable.sql()
        and not _system_catalog(securable)
        and not node.args.get("grant_option")
        and bool(principals)
        and all(
            str(p.args.get("kind") or "ROLE").upper() in ("ROLE", "GROUP", "USER")
            and not _EVERYONE.intersection(_principal_parts(p))
            for p in principals
        )
    )


def _embed_shell(statement: _Statement, command: str) -> None:
    if statement.depth >= MAX_DEPTH:
        return
    from guardrails_core.intent.shell import analyze_shell  # shell imports sql: import late

    statement.embed(analyze_shell(command, depth=statement.depth + 1))


def _handle_put(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    source = node.this
    location = source.name if isinstance(source, exp.Expr) else ""
    statement.obj(K.FILE, A.READ, location or "local file")
    target = node.args.get("target")
    if isinstance(target, exp.Expr):
        statement.obj(K.STAGE, A.WRITE, target.sql())
    statement.add(I.WRITE, "PUT uploads a local file into a stage")


def _handle_load_data(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.WRITE)
    statement.add(I.WRITE, "LOAD DATA loads rows from a file")


def _handle_install(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """INSTALL's effect is named by its words (sql_effects.yaml): host access, except DuckDB's
    core extensions from the default repository."""


def _handle_undrop(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.CREATE)
    statement.add(I.SCHEMA_CHANGE, "UNDROP restores a dropped object")


def _handle_comment(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.table(node.this, A.ALTER)
    statement.add(I.SCHEMA_CHANGE, "COMMENT changes object metadata")


def _handle_set(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """Each SET item is judged by the settings registry (rules/sql_settings.yaml); assignments
    to variables change nothing. Values that are queries are walked like any other node."""
    variables = False  # Databricks `SET VARIABLE a = 1, b = 2`: every item is a variable
    for item in node.expressions:
        kind = str(item.args.get("kind") or "").upper()
        variables = kind == "VARIABLE" or (variables and not kind)
        if variables or kind in ("NAMES", "TRANSACTION", "CHARACTER SET", "CHARSET"):
            continue
        assignment = item.this
        target = assignment.this if isinstance(assignment, exp.EQ) else assignment
        value = assignment.expression if isinstance(assignment, exp.EQ) else None
        scope = kind
        if isinstance(target, exp.SessionParameter):
            scope = str(target.args.get("kind") or scope).upper()
            name = target.name
        elif isinstance(target, exp.Parameter):
            inner = target.this
            if not isinstance(inner, exp.Parameter):
                continue  # @x: a user variable
            name = f"@@{inner.name}"
        elif isinstance(target, exp.Column | exp.Dot):  # a.b.c.d.e is a Dot over a Column
            name = ".".join(part.name for part in target.parts)
        elif isinstance(target, exp.Expr):
            name = target.name
        else:
            name = ""
        if is_variable(name, statement.dialect_name, kind):
            continue
        judge_setting(statement, name, _setting_value(value), scope=scope)


def _setting_value(value: exp.Expr | None) -> str | None:
    """A literal, a bare word (ON, OFF) or a boolean; None for anything computed."""
    if isinstance(value, exp.Literal | exp.Var | exp.Identifier):
        return str(value.this)
    if isinstance(value, exp.Column) and not value.table:
        return value.name
    if isinstance(value, exp.Boolean):
        return "true" if value.this else "false"
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        return f"-{value.this.this}"
    if isinstance(value, exp.Array) and all(
        isinstance(item, exp.Literal) and item.is_string for item in value.expressions
    ):
        listed = ", ".join(exp.Literal.string(item.this).sql() for item in value.expressions)
        return f"[{listed}]"  # DuckDB `SET allowed_directories = ['data/']`
    return None


# SQLite pragmas that let a statement corrupt the file or skip its checks (name -> value that does).
def _handle_read_only(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.add(I.READ, f"{statement.operation} reads metadata")


def _handle_no_effect(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    return None


def _handle_kill(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    statement.add(I.HOST_ACCESS, "KILL ends another session or query")


_HANDLERS: dict[type[exp.Expr], Handler] = {
    exp.Into: _handle_into,
    exp.Insert: _handle_insert,
    exp.Update: _handle_update,
    exp.Delete: _handle_delete,
    exp.Merge: _handle_merge,
    exp.TruncateTable: _handle_truncate,
    exp.Drop: _handle_drop,
    exp.Create: _handle_create,
    exp.Alter: _handle_alter,
    exp.Copy: _handle_copy,
    exp.Export: _handle_export,
    exp.Grant: _handle_grant,
    exp.Revoke: _handle_grant,
    exp.Attach: _handle_attach,
    exp.Detach: _handle_detach,
    exp.Execute: _handle_execute,
    exp.ExecuteSql: _handle_execute,
    exp.Put: _handle_put,
    exp.LoadData: _handle_load_data,
    exp.Install: _handle_install,
    exp.Undrop: _handle_undrop,
    exp.Comment: _handle_comment,
    exp.Describe: _handle_read_only,
    exp.Show: _handle_read_only,
}

# Statements that do nothing to data and so could hide one that follows them without a separator.
_PREFIX_STATEMENTS = frozenset(
    {exp.Set, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.Declare, exp.Pragma}
)

# Root statement types we understand, and how their operation reads.
_STATEMENT_OPERATIONS: dict[type[exp.Expr], str] = {
    exp.Insert: "INSERT",
    exp.Update: Operation.UPDATE,
    exp.Delete: Operation.DELETE,
    exp.Merge: Operation.MERGE,
    exp.TruncateTable: Operation.TRUNCATE,
    exp.Drop: "DROP",
    exp.Create: "CREATE",
    exp.Alter: "ALTER",
    exp.Copy: "COPY",
    exp.Export: "EXPORT DATA",
    exp.Grant: "GRANT",
    exp.Revoke: "REVOKE",
    exp.Attach: "ATTACH",
    exp.Detach: "DETACH",
    exp.Execute: "EXECUTE",
    exp.ExecuteSql: "EXECUTE",
    exp.Put: "PUT",
    exp.LoadData: "LOAD DATA",
    exp.Install: "INSTALL",
    exp.Undrop: "UNDROP",
    exp.Comment: "COMMENT",
    exp.Describe: "DESCRIBE",
    exp.Show: "SHOW",
    exp.Set: "SET",
    exp.Use: "USE",
    exp.Transaction: "BEGIN",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
    exp.Pragma: "PRAGMA",
    exp.Analyze: "ANALYZE",
    exp.Cache: "CACHE",
    exp.Uncache: "UNCACHE",
    exp.Refresh: "REFRESH",
    exp.Kill: "KILL",
    exp.Summarize: "SUMMARIZE",
    exp.Declare: "DECLARE",
}
_STATEMENT_OPERATIONS[exp.Pivot] = "PIVOT"
_STATEMENT_OPERATIONS[exp.ListStage] = "LIST"
_HANDLERS[exp.Set] = _handle_set
_HANDLERS[exp.Use] = handle_use
_HANDLERS[exp.Pragma] = _handle_pragma
_HANDLERS[exp.ListStage] = _handle_read_only
_HANDLERS[exp.Summarize] = _handle_read_only
_HANDLERS[exp.Kill] = _handle_kill
_HANDLERS[exp.Select] = _handle_query_settings
_HANDLERS[exp.SettingsProperty] = _handle_query_settings
# Functions sqlglot parses into classes of their own that the registry still has to judge.
for _registered_function in PARSED_REGISTRY_FUNCTIONS:
    _HANDLERS[_registered_function] = lambda statement, node, chunk: _check_function(
        statement, node
    )
_HANDLERS[exp.SettingsProperty] = _handle_query_settings
# Statements modelled as changing nothing by themselves (what they contain is still walked).
# Every root type the analyzer accepts has a handler of its own or is listed here: a new type
# is a decision, never a silent allow.
_NO_EFFECT_STATEMENTS = (
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Analyze,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.Declare,
    exp.Pivot,
)
for _statement_type in _NO_EFFECT_STATEMENTS:
    _HANDLERS.setdefault(_statement_type, _handle_no_effect)
_UNMODELLED = set(_STATEMENT_OPERATIONS) - set(_HANDLERS)
if _UNMODELLED:  # a programming error caught at import, not a runtime allow
    raise RuntimeError(f"statement types without a handler: {sorted(map(str, _UNMODELLED))}")
