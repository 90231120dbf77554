"""T-SQL EXEC of procedures: EXEC('literal') and sp_executesql, system procedures by registry,
SQL Agent job steps, sp_configure options, sp_MSforeachtable."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.sql.dialects import A, I, K
from guardrails_core.intent.sql.folding import assembled_text, fold_text
from guardrails_core.intent.sql.function_rules import function_registry
from guardrails_core.intent.sql.functions import _dynamic_text
from guardrails_core.intent.sql.host_files import credential_paths, unc_host
from guardrails_core.intent.sql.settings import judge_setting
from guardrails_core.intent.sql.shell_exports import judge_shell_export
from guardrails_core.intent.sql.statement import _Chunk, _Statement


def _handle_execute(statement: _Statement, node: exp.Expr, chunk: _Chunk | None) -> None:
    """T-SQL EXEC: a procedure call, xp_cmdshell, EXEC('literal') or sp_executesql N'literal'."""
    target = node.this
    arguments = list(node.expressions)
    if isinstance(target, exp.Subquery | exp.Paren):
        inner = target.this
        literal = assembled_text(statement, inner, "EXEC (...)")
        if literal is not None and isinstance(inner, exp.Table):
            statement.claimed_tables.add(id(inner))  # the literal is text, not a table
        statement.operation = "EXECUTE"
        _dynamic_text(statement, literal, "EXEC (...)")
        return
    procedure = ""
    if isinstance(target, exp.Table):
        statement.claimed_tables.add(id(target))
        procedure = (target.name or "").lower()
        statement.obj(K.FUNCTION, A.EXECUTE, target.name)
    statement.operation = "EXECUTE"
    if function_registry().system_reads.match(procedure.rsplit(".", 1)[-1]):
        statement.add(I.READ, f"{procedure} reports catalog information")
        return
    if isinstance(node, exp.ExecuteSql) or procedure == "sp_executesql":
        literal = assembled_text(statement, _argument(arguments, "stmt", 0), "sp_executesql")
        _dynamic_text(statement, literal, "sp_executesql")
        return
    if procedure in ("sp_msforeachtable", "sp_msforeachdb"):
        # Each command runs once per table (or database), `?` standing for its name; the
        # pre- and post-commands once around them.
        for parameter, position in _FOREACH_COMMANDS:
            argument = _argument(arguments, parameter, position)
            if argument is None and parameter != "command1":
                continue
            command = fold_text(argument, statement.texts)
            each = command.replace("?", "__each_object__") if command is not None else None
            _dynamic_text(statement, each, f"{procedure} @{parameter}")
        return
    if procedure == "sp_rename":
        _renamed(statement, arguments)
        return
    if procedure in ("sp_add_jobstep", "sp_update_jobstep"):
        # An Agent job step: its command runs later, outside this session.
        statement.add(I.DYNAMIC, f"{procedure} stores a command that a job runs later")
        subsystem = _argument(arguments, "subsystem", None)
        # a literal only: a variable's value at run time may differ from what was tracked
        name = fold_text(subsystem, {}) if subsystem is not None else "TSQL"
        if name is None or name.upper() != "TSQL":
            # CmdExec, PowerShell, SSIS, replication agents: programs on the host, not SQL
            statement.add(
                I.HOST_ACCESS,
                f"a {name or 'computed'} job step runs an operating-system program later",
            )
            return
        _dynamic_text(
            statement,
            fold_text(_argument(arguments, "command", None), statement.texts),
            "the job step",
        )
        return
    rule = function_registry().functions.get(procedure)
    if procedure == "sp_configure" and arguments:
        option, value = fold_text(arguments[0], statement.texts), arguments[1:2]
        if option is not None and value:
            # what the option turns on is judged as any other server setting is
            judge_setting(statement, option, value[0].sql(), scope="", verb="sp_configure")
    if rule is not None:
        for intent in rule.intents:
            statement.add(intent, rule.message)
        # xp_cmdshell hands its text to cmd.exe, not a POSIX shell: only its program (an export
        # by bcp/sqlcmd) and the credentials files it names are read
        command = fold_text(arguments[0], statement.texts) if arguments else None
        if procedure == "xp_cmdshell" and command is not None:
            judge_shell_export(statement, command)
        host = unc_host(command or "") if I.HOST_ACCESS in rule.intents else None
        if host is not None:
            statement.add(I.EXPORT, f"{procedure} makes the server open a share on {host}")
            statement.add(
                I.PRIVILEGE,
                f"the server signs in to {host} with its service account: the account's "
                "credentials (its NTLM hash) go to that host",
            )
        for path in credential_paths(command or "")[:1]:
            statement.add(
                I.PRIVILEGE, f"{procedure}'s command reads {path}, which holds credentials"
            )
        return
    statement.add(
        I.DYNAMIC,
        f"EXEC {target.sql() if target is not None else ''} runs a stored "
        "procedure whose body is not visible here",
    )


# sp_MSforeachtable's commands, by parameter name (and position: @command1 only is positional).
_FOREACH_COMMANDS = (
    ("command1", 0),
    ("command2", None),
    ("command3", None),
    ("precommand", None),
    ("postcommand", None),
)


def _argument(arguments: list[exp.Expr], name: str, position: int | None) -> exp.Expr | None:
    """A procedure argument by `@name = value`, else by position."""
    for argument in arguments:
        if (
            isinstance(argument, exp.EQ)
            and isinstance(argument.this, exp.Parameter)
            and (argument.this.name.lower() == name)
        ):
            value: exp.Expr | None = argument.expression
            return value
    if position is None or position >= len(arguments):
        return None
    found = arguments[position]
    return None if isinstance(found, exp.EQ) and isinstance(found.this, exp.Parameter) else found


def _renamed(statement: _Statement, arguments: list[exp.Expr]) -> None:
    """`sp_rename 'dbo.orders_new', 'orders'`: the table takes the new name in its own schema
    (a column or index rename, `'COLUMN'` third, renames no table)."""
    old = fold_text(_argument(arguments, "objname", 0), statement.texts)
    new = fold_text(_argument(arguments, "newname", 1), statement.texts)
    kind = fold_text(_argument(arguments, "objtype", 2), statement.texts)
    if old is None or new is None:
        statement.add(I.DYNAMIC, "sp_rename renames an object named at run time")
        statement.add(I.SCHEMA_CHANGE, "sp_rename renames an object")
        return
    statement.add(I.SCHEMA_CHANGE, f"sp_rename renames {old} to {new}")
    if kind is not None and kind.upper() != "OBJECT":
        return
    statement.operation = "EXECUTE SP_RENAME"
    schema = old.rsplit(".", 1)[0] + "." if "." in old else ""
    statement.obj(K.TABLE, A.RENAME, old)
    statement.obj(K.TABLE, A.CREATE, schema + new)
