"""The values a procedural block's own variables hold: PL/SQL and PL/pgSQL declarations
(`v_cutoff [CONSTANT] DATE := DATE '2999-12-31'` or `DEFAULT ...`), Snowflake Scripting
`DECLARE v DATE DEFAULT ...` and `LET v := ...`, and the assignments `v := ...` after them.
Each step of a block is read in order: a variable holds the constant its last declaration or
assignment gave it, and any step that may change it otherwise (`SELECT ... INTO v`, `FETCH c
INTO v`, a call it is passed to) leaves it unknown, so no statement is judged against a stale
value. The values are kept apart from session variables (`local:` keys): a statement of the
block reads them by their bare name (or Snowflake's `:v`), see script_constants._reference."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.sql.script_constants import (
    constant_value,
    local_key,
    local_name,
    remember_constants,
)

# `[DECLARE | LET] name [CONSTANT] [type [NOT NULL]] {:= | DEFAULT | =} value` (a type may take
# arguments, `NUMBER(10, 2)`, or be `t.c%TYPE`); `name := value` alone is an assignment.
_VALUED = re.compile(
    r"(?is)\A\s*(?:DECLARE\s+|LET\s+)?(?P<name>[A-Za-z_]\w*)\s*(?:CONSTANT\s+)?"
    r"(?:(?!DEFAULT\b)[A-Za-z_][\w.%]*(?:\s+(?:PRECISION|VARYING|WITH(?:OUT)?\s+(?:LOCAL\s+)?"
    r"TIME\s+ZONE))*(?:\s*\([\d\s,]*\))?(?:\s+NOT\s+NULL)?\s*)?"
    r"(?:DEFAULT\b|:=)\s*(?P<value>.+?)\s*;?\s*\Z"
)
# `name := value`, `LET name ...`, `SET name = value`: an assignment, not a declaration.
_ASSIGNED = re.compile(r"(?is)\A\s*(?:LET\s+|SET\s+)?(?P<name>[A-Za-z_]\w*)\s*(?::=|=(?!=))")
# Words that open a block, a branch or a loop before the step they hold.
_OPENERS = re.compile(
    r"(?is)\A(?:\s*(?:BEGIN|DECLARE|LOOP|THEN|ELSE|DO|EXCEPTION\s+WHEN\s+[\w\s]+?THEN)\b)*\s*"
)
# Steps that only read their variables: SQL statements with no INTO, and conditions.
_READING_STEP = re.compile(
    r"(?is)\A(?:SELECT|WITH|DELETE|UPDATE|INSERT|MERGE|TRUNCATE|COMMIT|ROLLBACK|END|IF|ELSIF|"
    r"ELSEIF|WHILE|RETURN|EXIT|CONTINUE|NULL)\b"
)
# Steps that call code, which may set the variables passed to it (OUT parameters).
_CALL = re.compile(r"(?is)\A(?:CALL|EXEC|EXECUTE|FETCH|OPEN|GET)\b|\A[A-Za-z_][\w.$]*\s*\(")


def remember_step_values(
    tree: exp.Expr | None, step: str, constants: dict[str, exp.Expr], dialect: str | None
) -> None:
    """What one statement of a script leaves its variables: the assignments sqlglot reads
    (remember_constants), and a block's own, which it leaves unread."""
    remember_constants(tree, constants, dialect)
    if not isinstance(tree, exp.Set | exp.Declare):
        remember_block_values(step, constants, dialect)


def changed_in_block(steps: list[str]) -> set[str]:
    """The variables some step of a block assigns after their declaration (an assignment, an
    INTO): inside a loop a later step's value reaches an earlier step on the next pass."""
    changed: set[str] = set()
    for step in steps:
        body = step[_OPENERS.match(step).end() :]  # type: ignore[union-attr]
        valued = None if _READING_STEP.match(body) else _ASSIGNED.match(body)
        if valued is not None:
            changed.add(valued["name"].lower())
        into = re.search(r"(?i)\bINTO\b", body)
        if into is not None:
            changed.update(word.lower() for word in re.findall(r"\w+", body[into.end() :]))
    return changed


def remember_block_values(step: str, constants: dict[str, exp.Expr], dialect: str | None) -> None:
    """Record what one step of a block gives its variables: a constant its declaration or
    assignment writes, or unknown when the step may change a known variable any other way."""
    body = step[_OPENERS.match(step).end() :]  # type: ignore[union-attr]
    valued = None if _READING_STEP.match(body) else _VALUED.match(body)
    if valued is not None:
        key = local_key(valued["name"], dialect)
        value = _value(valued["value"], constants, dialect)
        if value is None:
            constants.pop(key, None)
        else:
            constants[key] = value
        return
    assigned = None if _READING_STEP.match(body) else _ASSIGNED.match(body)
    if assigned is not None:  # an assignment whose value is not read here: unknown
        constants.pop(local_key(assigned["name"], dialect), None)
    names = {key: local_name(key, dialect) for key in constants}
    if not any(names.values()):
        return
    words = {word.lower() for word in re.findall(r"\w+", body)}
    into = re.search(r"(?i)\bINTO\b", body)
    passed = _CALL.match(body) is not None  # a call may set the variables it is passed
    for key, name in names.items():
        if name is None or name not in words:
            continue
        target = into is not None and re.search(rf"(?i)\b{re.escape(name)}\b", body[into.end() :])
        if target or passed:
            constants.pop(key)


def declared_value(step: str) -> str | None:
    """The value a declaration or assignment step writes (`LET v DATE := expr`: `expr`)."""
    valued = _VALUED.match(step)
    return valued["value"] if valued is not None else None


def calls_user_code(value: str, dialect: str | None) -> bool:
    """Whether `value` calls a function the dialect does not define (a routine of the database's
    own, whose body is not visible), or cannot be read."""
    try:
        tree = sqlglot.parse_one("SELECT " + value, read=dialect)
    except SqlglotError:
        return True
    return tree is None or tree.find(exp.Anonymous, exp.Dot) is not None


def _value(text: str, constants: dict[str, exp.Expr], dialect: str | None) -> exp.Expr | None:
    """The constant `text` writes, reading the block's known variables in it."""
    try:
        tree = sqlglot.parse_one("SELECT " + text, read=dialect)
    except SqlglotError:
        return None
    clauses = [key for key, part in tree.args.items() if part and key != "expressions"]
    if not isinstance(tree, exp.Select) or len(tree.expressions) != 1 or clauses:
        return None
    return constant_value(tree.expressions[0], constants, dialect)
