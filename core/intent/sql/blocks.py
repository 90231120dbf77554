"""Procedural blocks: what a BEGIN ... END block's first statement does when it is a call."""

from __future__ import annotations

import re

from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType

from guardrails_core.intent.sql.block_variables import calls_user_code, declared_value
from guardrails_core.intent.sql.compound_assignment import read_compound_assignments
from guardrails_core.intent.sql.dialects import MAX_DEPTH, A, I, K
from guardrails_core.intent.sql.folding import remember_assignments
from guardrails_core.intent.sql.function_rules import function_registry
from guardrails_core.intent.sql.functions import _dynamic_text, written_arguments
from guardrails_core.intent.sql.scheduler_jobs import scheduler_job
from guardrails_core.intent.sql.statement import (
    _Statement,
    _Words,
    analyze_nested,
)

# Keywords that open a procedural block (or its declarations) before the statements in it.
_BLOCK_STARTS = frozenset({"BEGIN", "DECLARE", "WHILE", "IF", "ELSE", "EXCEPTION", "FOR"})
# Control flow inside a block: not procedure calls (their statements are analysed on their own).
_BLOCK_CONTROL = frozenset(
    [
        "FOR",
        "WHILE",
        "LOOP",
        "IF",
        "ELSIF",
        "ELSE",
        "CASE",
        "NULL",
        "RETURN",
        "EXIT",
        "CONTINUE",
        "RAISE",
        "OPEN",
        "FETCH",
        "CLOSE",
        "GOTO",
        "PRINT",
        "RAISERROR",
        "WAITFOR",
        "TRY",
        "CATCH",
        "THROW",
        "SET",
    ]
)
# Words that declare a variable of the block (Snowflake Scripting LET, SQL/PSM DECLARE).
_DECLARING = frozenset({"LET", "DECLARE"})
# Words that may follow BEGIN when it starts a transaction rather than a procedural block.
_TRANSACTION_WORDS = frozenset(
    [
        "BEGIN",
        "TRANSACTION",
        "WORK",
        "TRAN",
        "DEFERRED",
        "IMMEDIATE",
        "EXCLUSIVE",
        "ISOLATION",
        "LEVEL",
        "READ",
        "WRITE",
        "ONLY",
        "COMMITTED",
        "UNCOMMITTED",
        "REPEATABLE",
        "SERIALIZABLE",
        "SNAPSHOT",
        "NOT",
        "DEFERRABLE",
        "DISTRIBUTED",
        "NAME",
        ",",
        ";",
    ]
)
# Packages whose procedures only print, wait or label the session.
_HARMLESS_PACKAGES = frozenset(
    {"dbms_output", "dbms_application_info", "dbms_session.sleep", "dbms_stats", "dbms_lock.sleep"}
)


def _block_body(statement: _Statement, found: _Words) -> bool:
    """`BEGIN pkg.proc(...); END;`: a procedural block's first statement hides behind BEGIN.

    A procedure call there runs code whose body is not visible (dynamic, like CALL); anything
    else that is not a transaction option is not understood (closed world)."""
    if _named_transaction(statement, found.words):
        return False
    rest = [word for word in found.words[1:] if word not in _TRANSACTION_WORDS]
    if not rest:
        return False
    first = found.tokens[1].start if len(found.tokens) > 1 else -1
    value = declared_value(found.text[first : found.end]) if rest[0] in _DECLARING else None
    if value is not None and first >= 0:  # `BEGIN LET v := expr`: the step evaluates expr
        _dynamic_text(statement, "SELECT " + value, "the declaration", in_scope=True)
        called = _value_words(rest)
        # `LET v := pkg.f(x)` runs code of the database's users, as `v := pkg.f(x)` does
        if _is_call(called) and calls_user_code(value, statement.dialect_name):
            _called_procedure(statement, called, "the block", found)
        return True
    if rest[0] in _BLOCK_CONTROL:
        step = _step_after_control(rest)
        if _is_call(step):
            _called_procedure(statement, step, "the block", found)
        return True
    return _called_procedure(statement, rest, "BEGIN", found)


# Words after which the first step of a loop, branch or handler starts.
_STEP_OPENERS = frozenset({"LOOP", "DO", "THEN", "ELSE", "BEGIN"})


def _is_call(step: list[str]) -> bool:
    """`pkg.proc(x)`, `v := pkg.f(x)` or `proc`: a step that calls (not `n := n + 1`)."""
    if len(step) > 2 and step[1] == ":=":
        step = step[2:]
    elif len(step) > 3 and step[1:3] == [":", "="]:
        step = step[3:]
    position = 0
    while position + 2 < len(step) and step[position + 1] == ".":
        position += 2
    if not step or step[0] in _BLOCK_CONTROL or not _NAME.fullmatch(step[0]):
        return False
    return position + 1 >= len(step) or step[position + 1] in ("(", ";")


def _value_words(words: list[str]) -> list[str]:
    """The words of the value a declaration writes, after its `:=` or DEFAULT."""
    for index, word in enumerate(words):
        if word in (":=", "DEFAULT"):
            return words[index + 1 :]
        if word == ":" and words[index + 1 : index + 2] == ["="]:
            return words[index + 2 :]
    return []


def _step_after_control(words: list[str]) -> list[str]:
    """The words of the step behind control flow (`FOR r IN (...) LOOP v := pkg.f(x)`: the
    assignment), or [] when the control flow ends the chunk."""
    depth = 0
    start = None
    for index, word in enumerate(words):
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0 and word in _STEP_OPENERS:
            start = index + 1
    return words[start:] if start is not None else []


_NAME = re.compile(r"[A-Z_#][A-Z0-9_#$@]*")


def _named_transaction(statement: _Statement, words: list[str]) -> bool:
    """T-SQL `BEGIN [DISTRIBUTED] TRAN[SACTION] name|@var [WITH MARK ['text']]`: a transaction
    given a name (for ROLLBACK and log marks), not a block that calls `name`."""
    if statement.dialect_name not in ("tsql", "fabric"):
        return False
    rest = words[2:] if words[1:2] == ["DISTRIBUTED"] else words[1:]
    if rest[:1] not in (["TRAN"], ["TRANSACTION"]):
        return False
    rest = rest[2:] if rest[1:2] == ["@"] else rest[1:]
    if not rest or not _NAME.fullmatch(rest[0]):
        return False
    rest = rest[3:] if rest[1:3] == ["WITH", "MARK"] else rest[1:]
    return all(word == ";" for word in rest)


def _loop_body(statement: _Statement, found: _Words) -> bool:
    """`FOR r IN (...) LOOP pkg.proc(...)`: the loop's first step is a call (the query it loops
    over was analysed already); anything else after LOOP/DO is left to the statement analysis."""
    words = found.words
    start = next((i for i, word in enumerate(words) if word in ("LOOP", "DO")), None)
    if start is None or start + 1 >= len(words) or words[start + 1] in _BLOCK_CONTROL:
        return False
    return _called_procedure(statement, words[start + 1 :], "the loop", found)


def _procedure_statement(statement: _Statement, found: _Words) -> bool:
    """A procedural step that is only a call, or an assignment of one (`pkg.proc(x)`,
    `f := UTL_FILE.FOPEN(...)`): judged as the call, like a CALL."""
    statement.operation = "CALL"
    return _called_procedure(statement, found.words, "the step", found)


def _called_procedure(
    statement: _Statement, rest: list[str], where: str, found: _Words | None = None
) -> bool:
    if len(rest) > 2 and rest[1] in (":=", ":") and rest[0] not in ("(", "."):
        rest = rest[3:] if rest[1] == ":" and rest[2] == "=" else rest[2:]  # x := call(...)
    if not rest:
        return False
    name = rest[0].lower()
    if len(rest) >= 3 and rest[1] == ".":
        name = f"{name}.{rest[2].lower()}"
    if name.startswith("sys.") and len(rest) >= 5 and rest[3] == ".":
        name = f"{rest[2]}.{rest[4]}".lower()  # SYS.DBMS_X.PROC: the package in SYS's schema
    if not name.replace(".", "").replace("_", "").replace("$", "").isalnum():
        statement.add(I.UNKNOWN, f"{where} is followed by {' '.join(rest[:4])}, not understood")
        return False
    package = name.split(".")[0]
    if package in _HARMLESS_PACKAGES or name in _HARMLESS_PACKAGES:
        return True
    statement.obj(K.FUNCTION, A.EXECUTE, name)
    registry = function_registry()
    named = registry.functions.get(name) if "." in name else None
    rule = (
        named
        or registry.functions.get(name)
        or registry.packages.get(package)
        or registry.functions.get(name.rsplit(".", 1)[-1])
    )
    if rule is not None and found is not None and not rule.applies(written_arguments(found.tokens)):
        rule = registry.packages.get(package)  # the package's row judges the other calls
    if rule is not None:
        for intent in rule.intents:
            statement.add(intent, f"{name}: {rule.message}")
        strings = (
            [t.text for t in found.tokens if t.token_type is TokenType.STRING] if found else []
        )
        if rule.runs_sql_argument and strings and statement.depth < MAX_DEPTH:
            statement.embed(
                analyze_nested(strings[-1], statement.dialect_name, depth=statement.depth + 1)
            )
    if name.startswith("dbms_scheduler.") and found is not None:
        scheduler_job(statement, name, found.tokens)
    if named is None:  # a package procedure the registry names is known by what its row says
        statement.add(I.DYNAMIC, f"the block calls {name}, whose body is not visible here")
    return True


def remember_block_assignments(statement: _Statement, found: _Words) -> None:
    """`WHILE ... BEGIN SET @s = N'TRUNCATE TABLE ' + @t` (or T-SQL `SELECT @s += ... FROM`):
    the assignment behind the block words still sets the variable that a later
    `EXEC sp_executesql @s` runs."""
    tokens = found.tokens
    for position in range(1, len(tokens)):
        word = tokens[position].text.upper()
        if word in ("SET", "SELECT") and tokens[position - 1].text.upper() == "BEGIN":
            if tokens[position].start < 0:
                return
            text = found.text[tokens[position].start : found.end]
            try:
                words = statement.names.tokenize(text)
                trees = statement.names.parser().parse(
                    read_compound_assignments(words, statement.dialect_name), text
                )
            except SqlglotError:
                return
            tree = trees[0] if trees else None
            remember_assignments(tree, statement.texts, statement.dialect_name)
            return
