"""Functions and procedures by registry: what a call reaches (files, hosts, sessions, other
servers)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from guardrails_core.intent.sql.dialects import MAX_DEPTH, A, I, K
from guardrails_core.intent.sql.settings import judge_setting
from guardrails_core.intent.sql.statement import (
    _first_string_argument,
    _function_name,
    _Statement,
    analyze_nested,
)
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)


def _dynamic_text(statement: _Statement, literal: str | None, what: str) -> None:
    """Literal dynamic SQL is analysed and reported for what it contains; anything built at run
    time is opaque and reported as `dynamic`."""
    if literal is None:
        statement.add(I.DYNAMIC, f"{what} runs SQL built at run time; it cannot be checked here")
        return
    if statement.depth >= MAX_DEPTH:
        statement.add(I.DYNAMIC, f"{what} nests dynamic SQL deeper than {MAX_DEPTH} levels")
        statement.add(I.UNPARSEABLE, "dynamic SQL nested too deeply to analyse")
        return
    inner = analyze_nested(
        literal,
        statement.dialect_name,
        depth=statement.depth + 1,
        default_schema=statement.names.default_schema,
        default_catalog=statement.names.default_catalog,
    )
    statement.embed(inner)
    if not inner:
        statement.add(I.DYNAMIC, f"{what} with an empty text")


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class FunctionRule:
    intents: tuple[Intent, ...]
    message: str
    # What the function's first string argument names (a server file, a connection string).
    argument: tuple[ObjectKind, ObjectAction] | None = None
    # The function runs the SQL text of its last string argument (dblink_exec('conn', 'sql')).
    runs_sql_argument: bool = False


_FUNCTION_RULES: dict[str, FunctionRule] = {
    name: rule
    for names, rule in (
        (
            ("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file"),
            FunctionRule(
                (I.HOST_ACCESS,), "reads files on the database server", argument=(K.FILE, A.READ)
            ),
        ),
        (
            ("lo_import",),
            FunctionRule(
                (I.HOST_ACCESS,), "lo_import reads a server file", argument=(K.FILE, A.READ)
            ),
        ),
        (
            ("lo_export",),
            FunctionRule(
                (I.EXPORT, I.HOST_ACCESS),
                "lo_export writes database data to a server file",
                argument=(K.FILE, A.EXPORT_TARGET),
            ),
        ),
        (
            ("pg_file_write", "pg_file_unlink", "pg_file_rename"),
            FunctionRule((I.HOST_ACCESS,), "adminpack writes server files"),
        ),
        (
            (
                "dblink",
                "dblink_exec",
                "dblink_connect",
                "dblink_connect_u",
                "dblink_send_query",
                "dblink_open",
            ),
            FunctionRule(
                (I.HOST_ACCESS,), "dblink runs SQL on another server", runs_sql_argument=True
            ),
        ),
        (
            ("load_file",),
            FunctionRule(
                (I.HOST_ACCESS,), "LOAD_FILE reads a server file", argument=(K.FILE, A.READ)
            ),
        ),
        (("sys_exec", "sys_eval"), FunctionRule((I.HOST_ACCESS,), "runs a shell command")),
        (
            ("java_method", "reflect", "try_reflect"),
            FunctionRule(
                (I.HOST_ACCESS,),
                "calls a Java method on the cluster (environment, files, processes)",
            ),
        ),
        (
            ("xp_cmdshell",),
            FunctionRule((I.HOST_ACCESS,), "xp_cmdshell runs an operating-system command"),
        ),
        (
            (
                "xp_dirtree",
                "xp_fileexist",
                "xp_regwrite",
                "xp_regread",
                "sp_oacreate",
                "sp_oamethod",
            ),
            FunctionRule((I.HOST_ACCESS,), "extended procedure reaches the server host"),
        ),
        (("sp_configure",), FunctionRule((I.PRIVILEGE,), "sp_configure changes server options")),
        (
            ("sp_execute_external_script",),
            FunctionRule((I.HOST_ACCESS,), "runs R or Python code on the server"),
        ),
        (
            ("sp_addlinkedserver", "sp_addlinkedsrvlogin", "sp_serveroption", "sp_addserver"),
            FunctionRule((I.HOST_ACCESS, I.SCHEMA_CHANGE), "links this server to another one"),
        ),
        (("httpuritype",), FunctionRule((I.EXPORT,), "HTTPURITYPE fetches a URL")),
        (("load_extension",), FunctionRule((I.HOST_ACCESS,), "loads native code into the server")),
        (
            ("system$send_email", "system$send_snowflake_notification"),
            FunctionRule((I.EXPORT,), "sends a message out of the warehouse"),
        ),
        (
            ("readfile", "read_text_file"),
            FunctionRule((I.HOST_ACCESS,), "reads a file on the host", argument=(K.FILE, A.READ)),
        ),
        (
            ("writefile",),
            FunctionRule(
                (I.EXPORT, I.HOST_ACCESS),
                "writes query data to a file on the host",
                argument=(K.FILE, A.EXPORT_TARGET),
            ),
        ),
        (
            (
                "pg_terminate_backend",
                "pg_cancel_backend",
                "pg_reload_conf",
                "pg_rotate_logfile",
                "pg_promote",
                "pg_switch_wal",
                "pg_drop_replication_slot",
                "pg_replication_origin_drop",
                "pg_create_logical_replication_slot",
                "pg_create_physical_replication_slot",
            ),
            FunctionRule((I.HOST_ACCESS,), "controls server sessions or replication"),
        ),
        (("set_config",), FunctionRule((), "sets a session setting")),
        (("query", "query_table"), FunctionRule((I.DYNAMIC,), "runs SQL text built at run time")),
        (
            ("pg_execute_server_program",),
            FunctionRule((I.HOST_ACCESS,), "runs a program on the server"),
        ),
        (
            ("sp_addrolemember", "sp_addsrvrolemember", "sp_grantlogin", "sp_addlogin"),
            FunctionRule((I.PRIVILEGE,), "changes role membership or logins"),
        ),
    )
    for name in names
}

# Oracle packages whose calls reach outside the database.
_PACKAGE_RULES: dict[str, FunctionRule] = {
    "utl_file": FunctionRule((I.HOST_ACCESS,), "UTL_FILE reads or writes server files"),
    "utl_http": FunctionRule((I.EXPORT,), "UTL_HTTP sends data to a URL"),
    "utl_tcp": FunctionRule((I.EXPORT,), "UTL_TCP sends data over the network"),
    "utl_smtp": FunctionRule((I.EXPORT,), "UTL_SMTP sends mail"),
    "dbms_scheduler": FunctionRule((I.HOST_ACCESS,), "DBMS_SCHEDULER can run host programs"),
    "dbms_java": FunctionRule((I.HOST_ACCESS,), "DBMS_JAVA can run host code"),
    "dbms_sql": FunctionRule((I.DYNAMIC,), "DBMS_SQL runs SQL built at run time"),
    "utl_inaddr": FunctionRule((I.EXPORT,), "UTL_INADDR resolves names (DNS carries data out)"),
    "dbms_ldap": FunctionRule((I.EXPORT,), "DBMS_LDAP connects to a directory server"),
    "dbms_cloud": FunctionRule((I.EXPORT,), "DBMS_CLOUD sends requests to cloud endpoints"),
    "dbms_xslprocessor": FunctionRule((I.HOST_ACCESS,), "DBMS_XSLPROCESSOR writes server files"),
    "dbms_advisor": FunctionRule((I.HOST_ACCESS,), "DBMS_ADVISOR can write server files"),
    "dbms_backup_restore": FunctionRule((I.HOST_ACCESS,), "reaches server files"),
    "cron": FunctionRule(
        (I.DYNAMIC,), "pg_cron schedules SQL to run later, repeatedly", runs_sql_argument=True
    ),
}

# Built-in namespaces where an unlisted function may reach the server, files or sessions.
_SYSTEM_NAMESPACE = re.compile(
    r"^(?:pg_|lo_|dblink|xp_|sp_|sys_|system\$|dbms_|utl_|ctx_|owa_|apex_|sqlite_|duckdb_|"
    r"fn_|mysql_|sys\.)"
)

# System functions known to only read catalog state, sizes or locks of the caller's session.
_KNOWN_SYSTEM_READS = re.compile(
    r"^(?:pg_(?:get_\w+|stat_get_\w+|size_\w+|\w*relation_size|table_size|indexes_size|"
    r"database_size|tablespace_size|column_size|typeof|backend_pid|is_in_recovery|"
    r"current_wal_\w+|last_wal_\w+|last_xact_replay_timestamp|postmaster_start_time|"
    r"conf_load_time|table_is_visible|type_is_visible|function_is_visible|has_role|"
    r"(?:try_)?advisory_(?:xact_)?(?:un)?lock(?:_shared)?(?:_all)?|blocking_pids|"
    r"encoding_to_char|char_to_encoding|jit_available|client_encoding|my_temp_schema|"
    r"describe_object|identify_object|index_column_has_property|tablespace_location|"
    r"partition_tree|partition_root|partition_ancestors|input_is_valid|sleep\w*|"
    r"xact_commit_timestamp|visible_in_snapshot|current_snapshot|snapshot_\w+|"
    r"column_is_updatable|relation_is_updatable|options_to_table|listening_channels|"
    r"notification_queue_usage|safe_snapshot_blocking_pids|settings_get_flags)|"
    r"duckdb_\w+|sqlite_(?:version|source_id|compileoption_\w+|offset)|"
    r"sp_(?:help\w*|who2?|columns|tables|spaceused|databases|lock)|"
    r"sys_context|fn_\w*(?:info|property|name|id)\w*|"
    r"system\$(?:clustering_information|clustering_depth|typeof|explain_plan_json|get_tag|"
    r"pipe_status|stream_has_data|last_change_commit_time|get_predecessor_return_value|"
    r"current_user_task_name|task_dependents|allowlist|whitelist|estimate_search_optimization_costs))$"
)

# Functions that run the SQL text they are given (the text is analysed when it is a literal).
_SQL_TEXT_FUNCTIONS = frozenset(
    {"query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema"}
)


def _check_function(statement: _Statement, node: exp.Expr) -> None:
    name = _function_name(node)
    rule = _FUNCTION_RULES.get(name)
    parent = node.parent
    if rule is None and isinstance(parent, exp.Dot) and parent.expression is node:
        package = parent.this.name.lower() if isinstance(parent.this, exp.Expr) else ""
        rule = _PACKAGE_RULES.get(package)
    if name == "set_config":
        arguments = list(node.iter_expressions())
        setting = arguments[0] if arguments else None
        value = arguments[1] if len(arguments) > 1 else None
        judge_setting(
            statement,
            str(setting.this) if isinstance(setting, exp.Literal) else "",
            str(value.this) if isinstance(value, exp.Literal) else None,
            verb="set_config()",
        )
        return
    if (
        rule is None
        and isinstance(node, exp.Anonymous)
        and _SYSTEM_NAMESPACE.match(name)
        and not _KNOWN_SYSTEM_READS.match(name)
    ):
        statement.add(
            I.UNKNOWN,
            f"{name}() is a system function the analyzer has no record of: its effect is unknown",
        )
        return
    if rule is not None:
        for intent in rule.intents:
            statement.add(intent, f"{name}(): {rule.message}")
        strings = [
            arg.this
            for arg in node.iter_expressions()
            if isinstance(arg, exp.Literal) and arg.is_string
        ]
        if rule.argument is not None and strings:
            statement.obj(rule.argument[0], rule.argument[1], strings[0])
        if rule.runs_sql_argument and len(strings) >= 2 and statement.depth < MAX_DEPTH:
            # dblink's remote SQL: its dialect is unknown, so analyse it as PostgreSQL (dblink's).
            statement.embed(analyze_nested(strings[-1], "postgres", depth=statement.depth + 1))
        return
    if name in _SQL_TEXT_FUNCTIONS:
        _dynamic_text(statement, _first_string_argument(node), f"{name}()")
