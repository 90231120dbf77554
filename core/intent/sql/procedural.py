"""Procedural code read from its tokens: DO blocks run now, and the bodies that CREATE stores
(routines, triggers, rules, events, tasks, pipes, alerts) judged for what they will run later."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType

from guardrails_core.intent.sql.block_steps import (
    PLPGSQL_DIALECTS,
    control_sql,
    loop_changes,
    plpgsql_step,
    text_constants,
    with_text_constants,
)
from guardrails_core.intent.sql.block_variables import changed_in_block, remember_block_values
from guardrails_core.intent.sql.ddl import _UNTRUSTED_LANGUAGES, _deferred_body
from guardrails_core.intent.sql.dialects import (
    _QUOTED_TOKENS,
    MAX_DEPTH,
    MYSQL_FAMILY,
    A,
    I,
    _tokenizer_and_parser,
)
from guardrails_core.intent.sql.foreign_code import FOREIGN_LANGUAGES, foreign_body
from guardrails_core.intent.sql.script_constants import local_key
from guardrails_core.intent.sql.statement import (
    _NOISE_WORDS,
    _rest_after,
    _split_statements,
    _Statement,
    _statement_words,
    _Words,
    analyze_nested,
)
from guardrails_core.model import Finding, StatementEffect, sorted_intents

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command


def _special_do(statement: _Statement, command: _Command) -> bool:
    """A DO block is procedural code: always `dynamic`, plus whatever its statements show.

    MySQL's DO is something else: it evaluates expressions (`DO GET_LOCK('etl', 10)`).
    """
    if statement.dialect_name in MYSQL_FAMILY:
        found = _statement_words(command.chunk, command.source, statement.names.dialect)
        start = found.tokens[1].start if len(found.tokens) > 1 else -1
        if start >= 0:
            statement.operation = "DO"
            statement.embed(
                analyze_nested(
                    "SELECT " + found.text[start : found.end],
                    statement.dialect_name,
                    depth=statement.depth + 1,
                )
            )
            return True
    statement.operation = "DO"
    language = _word_after(command.words, "LANGUAGE")
    if language and language.lower() in _UNTRUSTED_LANGUAGES:
        statement.add(I.DYNAMIC, "DO runs an anonymous procedural block")
        statement.add(I.HOST_ACCESS, f"a {language.lower()} block runs code on the database host")
        return True
    if (language and language.lower() != "plpgsql") or statement.depth >= MAX_DEPTH:
        # only PL/pgSQL is read step by step; each step not understood is `dynamic` on its own
        statement.add(I.DYNAMIC, "DO runs an anonymous procedural block")
    body = next(
        (token.text for token in command.tokens[1:] if token.token_type in _QUOTED_TOKENS), None
    )
    if body is None:
        body = _rest_after(command.chunk, command.source, "DO")
    body = _strip_dollar_quotes(body)
    if statement.depth < MAX_DEPTH:
        statement.embed(_procedural_statements(body, statement))
    return True


def _strip_dollar_quotes(text: str) -> str:
    match = re.match(r"\s*(\$[A-Za-z_]*\$)(.*)\1", text, flags=re.DOTALL)
    return match.group(2) if match else text


# Control-flow words that start a PL/pgSQL, PL/SQL, T-SQL or SQL/PSM (MySQL, Trino routines)
# block line but are not SQL: labels, CASE ... WHEN ... THEN, WHILE ... DO, REPEAT ... UNTIL,
# END WHILE label, LEAVE / ITERATE label.
_BLOCK_WORDS = re.compile(
    r"^\s*(?:(?:DECLARE\b[^;]*?\bBEGIN|[A-Za-z_]\w*\s*:\s*(?=(?:BEGIN|LOOP|WHILE|REPEAT|FOR)\b)|"
    r"BEGIN(?:\s+(?:TRY|CATCH))?(?!\s+(?:TRAN|TRANSACTION|DISTRIBUTED)\b)|"
    r"END\s+(?:IF|LOOP|CASE|WHILE|REPEAT|FOR)(?:\s+[A-Za-z_]\w*(?=\s*$))?|END\s+(?:TRY|CATCH)|END|LOOP|"
    r"REPEAT|ELSE|EXCEPTION\s+WHEN\s+[\w\s]+?THEN|ELS(?:E\s*)?IF\s+.+?\s+THEN|IF\s+.+?\s+THEN|"
    r"CASE\b.*?(?=\bWHEN\b)|WHEN\s+.+?\s+THEN|UNTIL\s+.+?\s+END\s+REPEAT(?:\s+[A-Za-z_]\w*(?=\s*$))?|"
    r"(?:LEAVE|ITERATE)\s+[A-Za-z_]\w*|(?:FOR|WHILE)\s+.+?\s+(?:LOOP|DO))\b\s*)+",
    flags=re.IGNORECASE | re.DOTALL,
)


# A body that is one BEGIN ... END block (a T-SQL or MySQL routine's), up to its last END.
_OUTER_BLOCK = re.compile(
    r"(?is)\A\s*BEGIN\b(?!\s+(?:TRAN|TRANSACTION|DISTRIBUTED)\b).*(?P<end>\bEND)\s*;?\s*\Z"
)
# `label: BEGIN|LOOP|WHILE|REPEAT|FOR` (SQL/PSM): `END label` closes it.
_LABEL = re.compile(r"(?im)^\s*([A-Za-z_]\w*)\s*:\s*(?:BEGIN|LOOP|WHILE|REPEAT|FOR)\b")
# `DECLARE a, b INT` in a MySQL routine: local variables, which a plain SET assigns (elsewhere in
# MySQL a plain SET changes a server setting).
_DECLARED = re.compile(
    r"(?i)\bDECLARE\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+(?!CURSOR\b|CONDITION\b|"
    r"CONTINUE\b|EXIT\b|UNDO\b)"
)
# `SET name = value` of a declared variable, or of a field of the row a MySQL trigger is
# inserting or updating (`SET NEW.created_at = NOW()`).
_LOCAL_SET = re.compile(
    r"(?is)SET\s+(?P<name>NEW\s*\.\s*(?P<field>\w+)|[A-Za-z_]\w*)\s*=\s*(?P<value>.+)"
)


def _block_fragments(body: str, dialect: Dialect) -> list[str]:
    """The steps of a procedural body, split at semicolons the way the database lexes them
    (a `;` inside a comment or a string is not a boundary). Comments are dropped."""
    try:
        tokens = _tokenizer_and_parser(dialect)[0].tokenize(body)
    except SqlglotError:
        return [body]  # what cannot be tokenised is analysed whole (and fails closed)
    return [body[chunk.start : chunk.end] for chunk in _split_statements(tokens, body)]


def _procedural_statements(body: str, statement: _Statement) -> list[StatementEffect]:
    """Best effort over a procedural body: strip block words, analyse the SQL left in each step.

    What does not parse inside a block counts as `dynamic` (the block already is), not as
    `unparseable`: the verdict is decided by what we can see plus the block's own opacity.
    """
    effects: list[StatementEffect] = []
    outer = _OUTER_BLOCK.match(body)
    if outer:  # `BEGIN ... x END` with no `;` before its END: the END is not part of x
        body = body[: outer.start("end")] + ";" + body[outer.end("end") :]
    labels = {name.upper() for name in _LABEL.findall(body)}
    declared = {n.strip().upper() for names in _DECLARED.findall(body) for n in names.split(",")}
    loops: list[bool] = []  # the open loops: whether each runs over a query's rows
    steps = _steps(_block_fragments(body, statement.names.dialect))
    plpgsql = statement.dialect_name in PLPGSQL_DIALECTS
    constants = text_constants([(sql, declaring) for _, _, sql, declaring in steps])
    values: dict[str, exp.Expr] = {}  # the constants the block's variables hold so far
    changed = {
        local_key(name, statement.dialect_name)
        for name in changed_in_block([sql for _, _, sql, declaring in steps if not declaring])
    }
    for fragment, prefix, sql, declaring in steps:
        conditions = control_sql(prefix)  # the conditions and loop queries the words hold
        loop_changes(prefix, fragment, loops)
        if not sql or sql.upper() in ("END", "END LOOP", "END IF", "$$") or sql.upper() in labels:
            sql = ""  # what is left of `END label` is the label
        assigned = _LOCAL_SET.match(sql) if statement.dialect_name in MYSQL_FAMILY else None
        if assigned and (assigned["field"] or assigned["name"].upper() in declared):
            variable = assigned["field"] or assigned["name"]
            sql = f"SET @{variable} = {assigned['value']}"  # a variable or field, not a setting
        if sql.upper().startswith("PERFORM "):
            sql = "SELECT " + sql[len("PERFORM ") :]
        if sql and plpgsql:
            rewritten = plpgsql_step(sql, declaring=declaring)
            sql = with_text_constants(sql, constants) if rewritten is None else rewritten
        # In a loop a later step's assignment reaches this one on the next pass.
        known = {key: v for key, v in values.items() if key not in changed or not loops}
        for condition in conditions:
            effects.extend(_step_effects(condition, statement, known, condition=True))
        if sql:
            step_effects = _step_effects(sql, statement, known)
            if any(loops):
                step_effects = [_per_row(effect) for effect in step_effects]
            effects.extend(step_effects)
        remember_block_values(fragment[len(prefix) :], values, statement.dialect_name)
    return effects


def _per_row(effect: StatementEffect) -> StatementEffect:
    """A change run once per row of a loop's query: how many rows it reaches is decided by the
    data the query returns (`FOR r IN SELECT * FROM t LOOP UPDATE t ... WHERE id = r.id`
    changes every row), so it is not proven scoped."""
    if not set(effect.intents) & {I.WRITE, I.DELETE}:
        return effect
    message = "changes rows once per row of the loop's query: how many is decided by data"
    return effect.model_copy(
        update={
            "intents": sorted_intents({*effect.intents, I.DYNAMIC}),
            "findings": (*effect.findings, Finding(intent=I.DYNAMIC, message=message)),
        }
    )


def _steps(fragments: list[str]) -> list[tuple[str, str, str, bool]]:
    """Each fragment with its block words, the SQL after them, and whether it stands in a
    PL/pgSQL DECLARE section (where every step is a declaration)."""
    steps = []
    declaring = False
    for fragment in fragments:
        words = _BLOCK_WORDS.match(fragment)
        prefix = words.group(0) if words else ""
        declaring = (declaring or bool(_DECLARE_START.match(fragment))) and not _BEGIN.search(
            prefix
        )
        steps.append((fragment, prefix, fragment[len(prefix) :].strip(), declaring))
    return steps


_DECLARE_START = re.compile(r"(?i)\s*DECLARE\b")
_BEGIN = re.compile(r"(?i)\bBEGIN\b")


def _step_effects(
    sql: str, statement: _Statement, known: dict[str, exp.Expr], *, condition: bool = False
) -> list[StatementEffect]:
    """One step's effects; what does not parse counts as `dynamic` (see above). A `condition`
    that only computes a value from no table is no step of its own."""
    effects: list[StatementEffect] = []
    for effect in analyze_nested(
        sql,
        statement.dialect_name,
        depth=statement.depth + 1,
        default_schema=statement.names.default_schema,
        default_catalog=statement.names.default_catalog,
        variables=known,
    ):
        if I.UNPARSEABLE in effect.intents:
            effect = effect.model_copy(
                update={
                    "intents": sorted_intents(
                        (set(effect.intents) - {I.UNPARSEABLE}) | {I.DYNAMIC}
                    ),
                    "findings": (
                        *effect.findings,
                        Finding(intent=I.DYNAMIC, message="procedural step not fully understood"),
                    ),
                }
            )
        if condition and set(effect.intents) <= {I.READ} and not effect.objects:
            continue
        effects.append(effect)
    return effects


def _special_create(statement: _Statement, command: _Command) -> bool:
    """CREATE statements sqlglot keeps generic: stored code is analysed for what it will do
    when it runs, and objects that reach other servers or the host are flagged. Returns False
    so the keyword rules still name the statement and its object."""
    found = _statement_words(command.chunk, command.source, statement.names.dialect)
    significant = [word for word in command.words[1:6] if word not in _NOISE_WORDS]
    kind = " ".join(significant[:2])
    first = _stored_kind(command)
    if first in _BODY_MARKERS:
        language = _word_after(command.words, "LANGUAGE")
        if (language and language.lower() in _UNTRUSTED_LANGUAGES) or "SONAME" in command.words:
            statement.add(
                I.HOST_ACCESS, f"a {language or 'native'} routine runs code on the database host"
            )
        else:
            body = _stored_body(found, first)
            if body and language and language.lower() in FOREIGN_LANGUAGES:
                foreign_body(statement, _strip_dollar_quotes(body), language.lower())
            elif body:
                rows = (
                    _TRIGGER_ROWS.get(statement.dialect_name or "", _ROWS)
                    if first in _ROWS_OF
                    else frozenset()
                )
                _deferred_body(statement, body, f"the {first.lower()}", rows)
    if first == "TRIGGER":
        _triggering_table(statement, found)
    if first in ("AND", "JAVA") and "JAVA" in significant:  # Oracle CREATE [AND COMPILE] JAVA
        foreign_body(statement, _rest_after(command.chunk, command.source, "AS"), "java")
    if kind in ("FOREIGN TABLE",) and ({"PROGRAM", "FILENAME"} & set(command.words)):
        statement.add(I.HOST_ACCESS, "a foreign table that reads a server file or runs a program")
    if kind in ("DATABASE LINK", "SUBSCRIPTION", "SERVER") or first == "SUBSCRIPTION":
        statement.add(I.HOST_ACCESS, f"CREATE {kind} connects this database to another server")
    return False


def special_alter_code(statement: _Statement, command: _Command) -> None:
    """`ALTER PROCEDURE|FUNCTION|TRIGGER|EVENT|TASK ... AS|DO body` (T-SQL, MySQL, Snowflake)
    replaces the stored body: the new one is judged as CREATE's would be."""
    if _stored_kind(command) in _BODY_MARKERS:
        _special_create(statement, command)


def _stored_kind(command: _Command) -> str:
    """The kind of object `CREATE|ALTER [OR REPLACE] [DEFINER = u] KIND` defines, as spelt in
    full (T-SQL `PROC` is `PROCEDURE`)."""
    significant = [word for word in command.words[1:6] if word not in _NOISE_WORDS]
    first = significant[0] if significant else ""
    return "PROCEDURE" if first == "PROC" else first


def _triggering_table(statement: _Statement, found: _Words) -> None:
    """`CREATE TRIGGER t ... ON orders`: the trigger changes how `orders` behaves (not a DDL
    trigger's `ON DATABASE` / `ON ALL SERVER`)."""
    tokens = found.tokens
    upper = [token.text.upper() for token in tokens]
    if "ON" not in upper or min(token.start for token in tokens) < 0:
        return
    first = upper.index("ON") + 1
    last = first
    while last + 2 < len(tokens) and tokens[last + 1].token_type is TokenType.DOT:
        last += 2
    if first >= len(tokens) or upper[first] in ("DATABASE", "ALL"):
        return
    try:
        table = exp.to_table(
            found.text[tokens[first].start : tokens[last].end + 1], dialect=statement.names.dialect
        )
    except SqlglotError:
        return
    statement.table(table, A.ALTER)


# The rows a trigger's (or a Postgres rule's) body reads as if they were tables: T-SQL's
# `FROM inserted` / `deleted`, NEW and OLD elsewhere. Not tables of the database.
_ROWS = frozenset({"new", "old"})
_TRIGGER_ROWS: dict[str, frozenset[str]] = {
    "tsql": frozenset({"inserted", "deleted"}),
    "fabric": frozenset({"inserted", "deleted"}),
}
_ROWS_OF = frozenset({"TRIGGER", "RULE"})
# Where stored code starts, per kind of object that stores it.
_BODY_MARKERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "RULE": (("DO", "ALSO"), ("DO", "INSTEAD"), ("DO",)),
    "TRIGGER": (("FOR", "EACH", "ROW"), ("FOR", "EACH", "STATEMENT"), ("BEGIN",), ("AS",)),
    "EVENT": (("DO",),),
    "TASK": (("AS",),),
    "PIPE": (("AS",),),  # Snowflake: the COPY a pipe runs on every new file
    "ALERT": (("THEN",),),  # Snowflake: the statement an alert runs when its condition holds
    "FUNCTION": (("BEGIN", "ATOMIC"), ("RETURN",), ("AS",)),
    "PROCEDURE": (("BEGIN", "ATOMIC"), ("AS",), ("BEGIN",)),
}


def _stored_body(found: _Words, kind: str) -> str | None:
    """The text of the statements a trigger, rule, event or task will run."""
    tokens = found.tokens
    if kind == "TRIGGER" and (block := _trigger_block(found)) is not None:
        return block
    upper = [token.text.upper() for token in tokens]
    for marker in _BODY_MARKERS.get(kind, ()):
        width = len(marker)
        for index in range(1, len(tokens) - width):
            if tuple(upper[index : index + width]) != marker:
                continue
            start_token = tokens[index + width]
            if start_token.token_type in _QUOTED_TOKENS and start_token.start >= 0:
                return start_token.text  # AS $$ ... $$ / AS 'body'
            if start_token.start >= 0:
                return found.text[start_token.start : found.end]
    return None


def _trigger_block(found: _Words) -> str | None:
    """A SQLite trigger's `[WHEN condition] BEGIN ...; END` body (joined into one stored text by
    routine_bodies), with its condition as the body's first step: the condition runs on every
    row written, before the block."""
    tokens = found.tokens
    upper = [token.text.upper() for token in tokens]
    for index, token in enumerate(tokens):
        if token.token_type is not TokenType.HEREDOC_STRING or token.start < 0:
            continue
        if not re.match(r"(?i)BEGIN\b", token.text):
            continue
        condition = ""
        if "WHEN" in upper[:index]:
            start = tokens[upper.index("WHEN") + 1].start
            condition = f" SELECT {found.text[start : token.start]};"
        return f"BEGIN{condition}{token.text[len('BEGIN') :]}"
    return None


def _word_after(words: list[str], keyword: str) -> str | None:
    if keyword in words:
        position = words.index(keyword) + 1
        return words[position] if position < len(words) else None
    return None
