"""DDL handlers: DROP, CREATE and ALTER, named by what they do to data."""

from __future__ import annotations

import re

from sqlglot import exp

from guardrails_core.intent.constant_folding import Unknown, constant
from guardrails_core.intent.sql.access_policies import judge_policy_function
from guardrails_core.intent.sql.dialects import _QUOTED_TOKENS, MAX_DEPTH, MYSQL_FAMILY, A, I, K
from guardrails_core.intent.sql.dictionary_sources import judge_dictionary_source
from guardrails_core.intent.sql.dml import _DROP_KINDS, _empty_source
from guardrails_core.intent.sql.statement import (
    _Chunk,
    _kind,
    _location_kind,
    _normalise,
    _Statement,
)
from guardrails_core.intent.sql.temporaries import scratch_table, session_table
from guardrails_core.intent.sql.type_changes import judge_type_change
from guardrails_core.model import (
    ObjectKind,
    StatementEffect,
)

# Dropping these destroys stored data, not just a definition.
_DATA_HOLDING_KINDS = frozenset({K.TABLE, K.SCHEMA, K.DATABASE, K.COLUMN})


def _handle_drop(statement: _Statement, node: exp.Drop, chunk: _Chunk | None) -> None:
    if isinstance(node.parent, exp.Alter):
        _alter_drop(statement, node.parent, node)
        return
    kind_name = _kind(node)
    kind = _object_kind(kind_name)
    if node.args.get("cascade"):
        statement.operation = f"{statement.operation} CASCADE"
    targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
    if node.args.get("temporary") or (
        targets and all(session_table(t, statement.dialect_name) for t in targets)
    ):
        # DROP TEMPORARY TABLE, T-SQL #temp tables: session scratch that holds no kept data.
        statement.add(I.SCHEMA_CHANGE, "drops a temporary table (session scratch)")
        statement.claimed_tables.update(id(t) for t in targets)
        return
    for target in targets:
        if isinstance(target, exp.Table):
            statement.table(target, A.DROP, kind)
        else:
            statement.obj(kind, A.DROP, statement.names.identifier(target))
    if kind_name in ("TRIGGER", "RULE", "POLICY"):
        for table in node.find_all(exp.Table):
            if id(table) not in statement.claimed_tables:
                statement.table(table, A.ALTER)  # `DROP TRIGGER t ON orders` changes orders
    label = f"{'materialized ' if node.args.get('materialized') else ''}{kind_name.lower()}"
    statement.add(I.SCHEMA_CHANGE, f"DROP {label.upper()} removes the {label}")
    if kind in _DATA_HOLDING_KINDS:
        statement.add(I.DELETE, f"dropping a {label} destroys its data")


def _alter_drop(statement: _Statement, alter: exp.Alter, node: exp.Drop) -> None:
    kind_name = _kind(node)
    table = alter.this if isinstance(alter.this, exp.Table) else None
    catalog, schema, name = statement.qualify(table) if table is not None else (None, None, None)
    if kind_name in ("COLUMN", "COLUMNS"):  # Spark and Databricks: DROP COLUMNS (a, b)
        for column in _dropped_columns(node):
            statement.obj(
                K.COLUMN,
                A.DROP,
                name,
                schema=schema,
                catalog=catalog,
                column=statement.names.identifier(
                    column.this if isinstance(column, exp.Column) else column
                ),
            )
        statement.add(I.SCHEMA_CHANGE, "ALTER TABLE ... DROP COLUMN removes a column")
        statement.add(I.DELETE, "dropping a column destroys its data")
    elif kind_name == "PARTITION" or "PARTITION" in node.sql().upper()[:30]:
        statement.add(I.DELETE, "dropping a partition destroys its rows")
    else:
        statement.add(I.SCHEMA_CHANGE, f"ALTER ... DROP {kind_name}")


def _dropped_columns(node: exp.Drop) -> list[exp.Expr]:
    """`DROP COLUMN a`, `DROP COLUMN a, b` and `DROP COLUMNS (a, b)`: each column named."""
    return [
        column
        for item in node.args.get("tables") or []
        for column in (item.expressions if isinstance(item, exp.Schema) else [item])
    ]


def _handle_create(statement: _Statement, node: exp.Create, chunk: _Chunk | None) -> None:
    kind_name = _kind(node)
    kind = _object_kind(kind_name)
    replace = bool(node.args.get("replace"))
    target = node.this
    statement.add(I.SCHEMA_CHANGE, f"CREATE {kind_name} defines a new {kind_name.lower()}")
    if isinstance(target, exp.Index):
        statement.obj(K.INDEX, A.CREATE, statement.names.identifier(target.this))
        table = target.args.get("table")
        if isinstance(table, exp.Table):
            statement.table(table, A.ALTER)
        return
    named = isinstance(target, exp.UserDefinedFunction | exp.StoredProcedure)  # name (params)
    if kind_name == "FUNCTION":
        judge_policy_function(statement, node.expression)  # a row filter or a column mask
    if kind_name in ("FUNCTION", "PROCEDURE") and not named:
        statement.table(target, A.REPLACE if replace else A.CREATE, K.FUNCTION)
        _routine_body(statement, node, chunk)
        return
    if kind_name in ("FUNCTION", "PROCEDURE"):
        table = target.this if isinstance(target.this, exp.Table) else None
        if table is not None:
            statement.table(table, A.REPLACE if replace else A.CREATE, K.FUNCTION)
        else:
            statement.obj(
                K.FUNCTION,
                A.REPLACE if replace else A.CREATE,
                statement.names.identifier(target.this),
            )
        _routine_body(statement, node, chunk)
        return
    if kind_name == "TRIGGER":
        for table in node.find_all(exp.Table):
            statement.table(table, A.ALTER)  # a trigger changes how its table behaves
        return
    if replace and kind in (K.SCHEMA, K.DATABASE):
        # Replacing a schema or database drops everything in it first.
        statement.table(target, A.DROP, kind)
        statement.add(I.DELETE, f"CREATE OR REPLACE {kind_name} drops every object it holds")
        return
    scratch = scratch_table(target) and node.find(exp.LocationProperty) is None
    if replace and kind is K.TABLE and (_temporary(node) or scratch):
        replace = False  # a session's temporary or a scratch table (at no location of its own)
    action = A.REPLACE if replace else A.CREATE
    statement.table(target, action, kind)
    # a clone or a copy (Snowflake CLONE, BigQuery CLONE / COPY) holds the source's rows
    copied = node.args.get("clone") is not None
    if kind is K.TABLE and (node.expression is not None or replace or copied):
        statement.add(I.WRITE, "CREATE TABLE ... AS (or CLONE, COPY) fills the new table")
    if replace and kind is K.SEQUENCE:
        statement.add(I.DELETE, "CREATE OR REPLACE SEQUENCE discards the sequence's position")
    if replace and kind is K.TABLE:
        statement.add(I.DELETE, "CREATE OR REPLACE TABLE discards the existing table and its data")
        if _empty_source(node.expression):
            statement.add(
                I.MASS_MUTATION, "CREATE OR REPLACE TABLE from a query with no rows empties it"
            )
    if kind is K.STAGE:
        _stage_location(statement, node)
    _external_storage(statement, node)


def _object_kind(kind_name: str) -> ObjectKind:
    """The kind of object a DDL statement names; objects that hold no data are OTHER."""
    return _DROP_KINDS.get(kind_name, K.OTHER)


# Table engines and sources that connect to another server (ClickHouse, MySQL FEDERATED).
_REMOTE_ENGINES = frozenset(
    {
        "federated",
        "mysql",
        "postgresql",
        "mongodb",
        "jdbc",
        "odbc",
        "redis",
        "sqlite",
        "executable",
        "executablepool",
        "http",
        "clickhouse",
        "remote",
    }
)
# Table engines whose data lives in files or object storage outside the database.
_LOCATION_ENGINES = frozenset(
    {
        "url",
        "s3",
        "s3queue",
        "hdfs",
        "file",
        "azureblobstorage",
        "gcs",
        "deltalake",
        "iceberg",
        "hudi",
    }
)


def _external_storage(statement: _Statement, node: exp.Create) -> None:
    """Tables stored outside the database: writing into them sends data out."""
    properties = node.args.get("properties")
    fills = node.expression is not None  # CREATE TABLE ... AS SELECT writes rows right away
    nested = (
        list(
            properties.find_all(
                exp.Property, exp.LocationProperty, exp.EngineProperty, exp.DictProperty
            )
        )
        if properties is not None
        else []
    )
    for prop in nested:
        location = _property_location(prop)
        if location is not None:
            statement.obj(_location_kind(location), A.EXPORT_TARGET if fills else A.READ, location)
            if fills:
                statement.add(I.EXPORT, f"CREATE TABLE ... AS writes rows to {location}")
            continue
        engine = _property_engine(prop)
        if engine in _REMOTE_ENGINES:
            statement.add(I.HOST_ACCESS, f"the {engine.upper()} engine connects to another server")
            server = _engine_server(prop, engine)
            if server is not None:  # rows written to the table go there (external.py)
                statement.obj(K.URL, A.EXPORT_TARGET if fills else A.READ, server)
            if fills:
                statement.add(
                    I.EXPORT, f"CREATE TABLE ... AS writes rows to another server ({engine})"
                )
        elif engine == "url":
            statement.add(
                I.EXPORT, "the URL engine sends every row written to it to a web endpoint"
            )
        elif engine in _LOCATION_ENGINES and fills:
            statement.add(
                I.EXPORT,
                f"CREATE TABLE ... AS writes rows through the "
                f"{engine.upper()} engine to external storage",
            )
        if isinstance(prop, exp.DictProperty) and str(prop.args.get("kind") or "").lower() in (
            _REMOTE_ENGINES
        ):
            judge_dictionary_source(statement, prop)


def _property_location(prop: exp.Expr) -> str | None:
    if isinstance(prop, exp.LocationProperty) and isinstance(prop.this, exp.Literal):
        return str(prop.this.this)
    if isinstance(prop, exp.Property) and prop.name.lower() in (
        "external_location",
        "location",
        "connection",  # MySQL FEDERATED: CONNECTION='mysql://user:pw@host:port/db/table'
        "path",
        "url",
    ):
        value = prop.args.get("value")
        return str(value.this) if isinstance(value, exp.Literal) else None
    return None


def _engine_server(prop: exp.Expr, engine: str) -> str | None:
    """ClickHouse `ENGINE = MySQL('host:port', ...)`: the server the engine's rows live on."""
    arguments = list(prop.this.iter_expressions()) if isinstance(prop.this, exp.Expr) else []
    first = arguments[0] if arguments else None
    if isinstance(first, exp.Literal) and first.is_string and "://" not in first.this:
        return f"{engine}://{first.this}"
    return None


def _property_engine(prop: exp.Expr) -> str | None:
    if isinstance(prop, exp.EngineProperty):
        engine = prop.this
        name = engine.name if isinstance(engine, exp.Expr) else str(engine)
        return name.lower()
    return None


# Languages whose routines run code on the database host without a sandbox.
_UNTRUSTED_LANGUAGES = frozenset(
    {
        "c",
        "internal",
        "plpythonu",
        "plpython2u",
        "plpython3u",
        "plperlu",
        "pltclu",
        "plsh",
        "plr",
        "pljavau",
    }
)
_SQL_LANGUAGES = frozenset({"sql", "plpgsql", "plsql", "tsql", "sqlscript", ""})


def _routine_body(statement: _Statement, node: exp.Create, chunk: _Chunk | None) -> None:
    """What a stored function or procedure will do when it is called, analysed now."""
    language = ""
    properties = node.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.LanguageProperty):
            language = prop.name.lower()
    for runs_as in properties.find_all(exp.ExecuteAsProperty) if properties is not None else []:
        # T-SQL's default is CALLER; Snowflake's is OWNER, so writing it there changes nothing
        if statement.dialect_name in ("tsql", "fabric") and runs_as.name.upper() != "CALLER":
            statement.add(
                I.PRIVILEGE,
                f"EXECUTE AS {runs_as.name.upper()} runs the routine with its owner's (or that "
                "user's) rights, whoever calls it: as SECURITY DEFINER does",
            )
    from guardrails_core.intent.sql.foreign_code import FOREIGN_LANGUAGES, foreign_body

    words = {token.text.upper() for token in chunk.tokens} if chunk is not None else set()
    body = node.expression
    if isinstance(body, exp.Block) and len(body.expressions) == 1:
        body = body.expressions[0]  # Snowflake's `AS $$ body $$`: one raw string
    text = str(body.this) if isinstance(body, exp.Heredoc | exp.Literal | exp.RawString) else None
    if isinstance(body, exp.Command):  # BEGIN ... (a block sqlglot keeps as a command)
        text = f"{body.this} {body.text('expression')}"
    quoted = [t.text for t in chunk.tokens if t.token_type in _QUOTED_TOKENS] if chunk else []
    if language in _UNTRUSTED_LANGUAGES or "SONAME" in words:
        statement.add(
            I.HOST_ACCESS,
            f"a {language or 'native'} routine runs code on the database host when called",
        )
        if language.startswith("plpython") and (text or quoted):
            foreign_body(statement, text or quoted[-1], "python")  # what else it reaches
    elif text and language in _SQL_LANGUAGES:
        _deferred_body(statement, text, "the routine")
    elif language in FOREIGN_LANGUAGES and (text or quoted):
        foreign_body(statement, text or quoted[-1], language)


def _deferred_body(
    statement: _Statement, body: str, what: str, row_names: frozenset[str] = frozenset()
) -> None:
    """Code stored now and run later (routines, triggers, rules, events, tasks): what it will
    do is judged now, since creating it is what makes it happen. `row_names`: the rows a
    trigger or rule reads as if they were tables (T-SQL `FROM inserted`), which are not
    objects of the database."""
    # The command readers build on the DDL handlers: imported when first needed.
    from guardrails_core.intent.sql.procedural import _procedural_statements

    if statement.depth >= MAX_DEPTH:
        statement.add(I.DYNAMIC, f"{what} nests too deeply to analyse")
        return
    effects = _procedural_statements(body, statement)
    if row_names:
        effects = [_without_rows(effect, row_names, statement) for effect in effects]
    statement.embed(effects)
    if any(set(effect.intents) - {I.READ} for effect in effects):
        statement.add(I.SCHEMA_CHANGE, f"{what} stores statements that run later")


def _without_rows(
    effect: StatementEffect, row_names: frozenset[str], statement: _Statement
) -> StatementEffect:
    """`effect` without the table objects that name a trigger's rows (unqualified, or in the
    default schema the analysis put them in), here and in what it embeds."""
    schemas = (None, statement.names.default_schema)
    catalogs = (None, statement.names.default_catalog)
    kept = tuple(
        ref
        for ref in effect.objects
        if not (
            ref.kind is K.TABLE
            and ref.name.lower() in row_names
            and ref.schema_name in schemas
            and ref.catalog in catalogs
        )
    )
    inner = tuple(_without_rows(each, row_names, statement) for each in effect.embedded)
    return effect.model_copy(update={"objects": kept, "embedded": inner})


def _stage_location(statement: _Statement, node: exp.Create) -> None:
    properties = node.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.Property) and prop.name.upper() == "URL":
            value = prop.args.get("value")
            if isinstance(value, exp.Literal):
                statement.obj(K.URL, A.WRITE, value.this)


# Dialects whose `ALTER ... RENAME TO name` keeps the object in its schema (the new name cannot
# be qualified there): the new name is known as fully as the old one.
_RENAME_IN_PLACE = frozenset({"postgres", "redshift", "duckdb", "sqlite"})


def _renamed_in_place(statement: _Statement, target: exp.Expr, new: exp.Expr) -> exp.Expr:
    if (
        statement.dialect_name in _RENAME_IN_PLACE
        and isinstance(target, exp.Table)
        and isinstance(new, exp.Table)
        and not new.args.get("db")
    ):
        statement.claimed_tables.add(id(new))  # stands for the qualified copy made here
        return exp.Table(
            this=new.args.get("this"),
            db=target.args.get("db"),
            catalog=target.args.get("catalog"),
        )
    return new


def _handle_alter(statement: _Statement, node: exp.Alter, chunk: _Chunk | None) -> None:
    kind = _object_kind(_kind(node))
    target = node.this
    actions = node.args.get("actions") or []
    catalog, schema, name = (
        statement.qualify(target) if isinstance(target, exp.Table) else (None, None, None)
    )
    renamed = False
    mutations_only = bool(actions) and all(isinstance(action, exp.Delete) for action in actions)
    for action in actions:
        if isinstance(action, exp.AlterRename):
            renamed = True
            statement.table(target, A.RENAME, kind)
            statement.table(_renamed_in_place(statement, target, action.this), A.CREATE, kind)
            statement.add(I.SCHEMA_CHANGE, f"RENAME moves {name} to a new name")
        elif isinstance(action, exp.RenameColumn):
            old = statement.names.identifier(_column_identifier(action.this))
            statement.obj(K.COLUMN, A.RENAME, name, schema=schema, catalog=catalog, column=old)
            statement.add(I.SCHEMA_CHANGE, f"RENAME COLUMN {old}")
        elif isinstance(action, exp.ColumnDef):
            column = statement.names.identifier(action.this)
            statement.obj(K.COLUMN, A.CREATE, name, schema=schema, catalog=catalog, column=column)
            statement.add(I.SCHEMA_CHANGE, f"ADD COLUMN {column}")
        elif isinstance(action, exp.AlterColumn):
            column = statement.names.identifier(_column_identifier(action.this))
            using = action.args.get("using")
            if using is not None and constant(using) is not Unknown:
                # `TYPE ... USING NULL` replaces every value of the column: its data is gone.
                statement.obj(K.COLUMN, A.DROP, name, schema=schema, catalog=catalog, column=column)
                statement.add(
                    I.DELETE, f"ALTER COLUMN {column} ... USING a constant overwrites every value"
                )
                statement.add(
                    I.MASS_MUTATION,
                    f"ALTER COLUMN {column} ... USING a constant rewrites every row",
                )
            else:
                statement.obj(
                    K.COLUMN, A.ALTER, name, schema=schema, catalog=catalog, column=column
                )
                judge_type_change(statement, column or "", action.args.get("dtype"), using or None)
            statement.add(I.SCHEMA_CHANGE, f"ALTER COLUMN {column}")
        elif (
            isinstance(action, exp.Command)
            and str(action.this).upper() == "DROP"
            and _dropped_feature(action) is not None
        ):
            feature = _dropped_feature(action) or ""
            statement.add(I.SCHEMA_CHANGE, f"ALTER TABLE ... DROP {feature} keeps every row")
            if "POLIC" in feature:
                statement.add(I.PRIVILEGE, f"DROP {feature} lifts a restriction on who sees rows")
        elif isinstance(action, exp.Command) and str(action.this).upper() == "DROP":
            # `ALTER TABLE t DROP total` (SQLite, DuckDB, Snowflake) and Oracle's `DROP (total)`.
            for column in re.findall(r"\w+", str(action.expression or ""))[:20]:
                if column.upper() in ("COLUMN", "CASCADE", "RESTRICT", "IF", "EXISTS"):
                    continue
                statement.obj(
                    K.COLUMN,
                    A.DROP,
                    name,
                    schema=schema,
                    catalog=catalog,
                    column=_normalise(statement.names.dialect, column, quoted=False),
                )
            statement.add(I.SCHEMA_CHANGE, "ALTER TABLE ... DROP removes a column")
            statement.add(I.DELETE, "dropping a column destroys its data")
        elif isinstance(action, exp.ReplacePartition):
            statement.table(target, A.DELETE, kind)
            statement.add(I.DELETE, "REPLACE PARTITION discards the partition's rows")
            if _all_partitions(action):
                statement.add(I.MASS_MUTATION, "REPLACE PARTITION of the whole table")
            mutations_only = True
        elif isinstance(action, exp.DropPartition):
            statement.table(target, A.DELETE, kind)
            statement.add(I.DELETE, "DROP PARTITION destroys the partition's rows")
            if statement.dialect_name in MYSQL_FAMILY:
                statement.add(
                    I.SCHEMA_CHANGE,
                    "a MySQL partition is part of the table's definition: rows of its range "
                    "have no partition to go to once it is dropped",
                )
            if _all_partitions(action):
                statement.add(I.MASS_MUTATION, "DROP PARTITION of every partition")
            mutations_only = True
        elif _ttl_rules(action) and all(map(_moves_only, _ttl_rules(action))):
            statement.add(I.SCHEMA_CHANGE, "a TTL that moves old rows to another disk keeps them")
        elif _ttl_rules(action):
            statement.table(target, A.DELETE, kind)
            statement.add(I.DELETE, "MODIFY TTL deletes every row older than the new TTL")
            statement.add(I.SCHEMA_CHANGE, "MODIFY TTL changes the table's definition")
            statement.add(I.MASS_MUTATION, "a new TTL can expire the whole table at once")
        elif isinstance(action, exp.ModifyColumn) and _renames_column(action):
            old = statement.names.identifier(action.args.get("rename_from"))
            statement.obj(K.COLUMN, A.RENAME, name, schema=schema, catalog=catalog, column=old)
            statement.add(I.SCHEMA_CHANGE, f"CHANGE renames column {old}")
        elif isinstance(action, exp.ModifyColumn) and isinstance(action.this, exp.ColumnDef):
            column = statement.names.identifier(action.this.this)
            statement.obj(K.COLUMN, A.ALTER, name, schema=schema, catalog=catalog, column=column)
            # Its type is restated whatever changes (NOT NULL, a default): only a type whose loss
            # strict mode lets pass is judged.
            judge_type_change(statement, column or "", action.this.args.get("kind"), restated=True)
            statement.add(I.SCHEMA_CHANGE, f"MODIFY COLUMN {column}")
        elif isinstance(action, exp.SwapTable):
            renamed = True  # both tables end up holding the other's data
            statement.table(target, A.REPLACE, kind)
            statement.table(action.this, A.REPLACE, kind)
            statement.add(I.SCHEMA_CHANGE, "SWAP WITH exchanges the contents of two tables")
        elif isinstance(action, exp.Delete | exp.Drop):
            continue  # handled by their own handlers during the walk
        else:
            statement.add(I.SCHEMA_CHANGE, f"ALTER {_kind(node)} changes its definition")
    if not renamed and not mutations_only:
        statement.table(target, A.ALTER, kind)
    if not actions:
        statement.add(I.SCHEMA_CHANGE, f"ALTER {_kind(node)} changes its definition")


def _ttl_rules(action: exp.Expr) -> list[exp.Expr]:
    """The rules of a ClickHouse `MODIFY TTL rule, rule ...`."""
    return [rule for ttl in action.find_all(exp.MergeTreeTTL) for rule in ttl.expressions]


def _moves_only(rule: exp.Expr) -> bool:
    """`TTL d + INTERVAL 400 DAY TO VOLUME 'cold'`: the rows move to other storage and stay in
    the table. A bare rule, DELETE, WHERE, GROUP BY (rows aggregated away) and RECOMPRESS are not
    moves."""
    return (
        isinstance(rule, exp.MergeTreeTTLAction)
        and bool(rule.args.get("to_disk") or rule.args.get("to_volume"))
        and not any(rule.args.get(key) for key in ("delete", "recompress", "where", "group"))
    )


def _all_partitions(action: exp.Expr) -> bool:
    """ClickHouse `tuple()` (the whole unpartitioned table), `ID 'all'` or MySQL's `ALL`."""
    for inner in action.walk():
        if isinstance(inner, exp.Struct) and not inner.expressions:
            return True
        if isinstance(inner, exp.Literal) and inner.is_string and inner.this.lower() == "all":
            return True
        if isinstance(inner, exp.Var | exp.Column) and inner.name.upper() == "ALL":
            return True
    return False


def _renames_column(action: exp.Expr) -> bool:
    """MySQL `CHANGE old new type` renames when the two names differ."""
    old, new = action.args.get("rename_from"), action.this
    return (
        isinstance(old, exp.Expr)
        and isinstance(new, exp.Expr)
        and old.name.lower() != new.name.lower()
    )


def _column_identifier(node: exp.Expr | None) -> exp.Expr | None:
    return node.this if isinstance(node, exp.Column) else node


# What ALTER TABLE ... DROP may remove besides a column: features and rules, never data.
_DROPPED_FEATURES = (
    "CLUSTERING KEY",
    "SEARCH OPTIMIZATION",
    "ROW ACCESS POLICY",
    "ALL ROW ACCESS POLICIES",
    "MASKING POLICY",
    "AGGREGATION POLICY",
    "PROJECTION POLICY",
    "PRIMARY KEY",
    "FOREIGN KEY",
    "UNIQUE",
    "CONSTRAINT",
    "INDEX",
    "KEY",
    "CHECK",
    "DEFAULT",
    "TAG",
    "STATISTICS",
    "FEATURE",
    "CONTACT",
)


def _dropped_feature(action: exp.Expr) -> str | None:
    words = " ".join(str(action.expression or "").upper().split())
    return next((f for f in _DROPPED_FEATURES if words == f or words.startswith(f + " ")), None)


def _temporary(node: exp.Expr) -> bool:
    properties = node.args.get("properties")
    return isinstance(properties, exp.Properties) and any(
        isinstance(p, exp.TemporaryProperty) for p in properties.expressions
    )
