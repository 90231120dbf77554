"""What the block words of a procedural body hide, and PL/pgSQL steps that are not SQL.

The procedural reader strips control flow (`IF ... THEN`, `FOR r IN ... LOOP`) to reach the SQL
of each step; the conditions and loop queries it strips run too (`FOR r IN DELETE ... RETURNING`
deletes, `IF f() THEN` calls f), so they are handed back here as SQL to analyse. PL/pgSQL's own
steps are rewritten to the SQL they run: a declaration runs its default, `RAISE NOTICE 'fmt', a`
evaluates its arguments, `SELECT ... INTO v` assigns variables (it creates no table there)."""

from __future__ import annotations

import re

PLPGSQL_DIALECTS = frozenset({"postgres", "redshift"})

# Exception handlers name conditions, not expressions.
_HANDLER = re.compile(r"(?is)\bEXCEPTION\s+WHEN\s+[\w\s]+?THEN\b")
_CONDITIONS = re.compile(
    r"(?is)\b(?:ELS(?:E\s*)?IF|IF|WHEN|WHILE)\s+(?P<expr>.+?)\s+(?:THEN|LOOP|DO)\b|"
    r"\bUNTIL\s+(?P<until>.+?)\s+END\s+REPEAT\b|\bCASE\s+(?!WHEN\b)(?P<operand>.+?)\s+(?=WHEN\b)"
)
_FOR_LOOP = re.compile(
    r"(?is)\bFOR\s+\w+(?:\s*,\s*\w+)*\s+IN\s+(?:REVERSE\s+)?(?P<source>.+?)\s+(?:LOOP|DO)\b"
)
_RANGE = re.compile(r"(?s)\A(?P<low>.+?)\s*\.\.\s*(?P<high>.+?)(?:\s+BY\s+(?P<step>.+))?\Z")
_QUERY_START = re.compile(r"(?i)\A\(*\s*(?:SELECT|WITH|VALUES|INSERT|UPDATE|DELETE|EXECUTE)\b")


def control_sql(prefix: str) -> list[str]:
    """The SQL that the stripped block words `prefix` run: conditions as SELECTs, a FOR loop's
    query as itself (a cursor or anything else as written, which does not parse: dynamic)."""
    prefix = _HANDLER.sub(" ", prefix)
    pieces: list[str] = []
    loops = list(_FOR_LOOP.finditer(prefix))
    for loop in loops:
        source = loop["source"].strip()
        bounds = _RANGE.match(source)
        if bounds and not _QUERY_START.match(source):
            parts = [bounds["low"], bounds["high"], bounds["step"]]
            pieces.append("SELECT " + ", ".join(part for part in parts if part))
        elif _QUERY_START.match(source) and source.startswith("(") and source.endswith(")"):
            pieces.append(source[1:-1])
        else:
            pieces.append(source)
    rest = _FOR_LOOP.sub(" ", prefix)
    for found in _CONDITIONS.finditer(rest):
        pieces.append("SELECT " + (found["expr"] or found["until"] or found["operand"]))
    return pieces


_LOOP_WORDS = re.compile(r"(?is)\bEND\s+LOOP\b|\bLOOP\b")


def loop_changes(prefix: str, fragment: str, loops: list[bool]) -> None:
    """Follow the loops a fragment opens and closes: `loops` holds, per open loop, whether it
    runs over a query's rows (FOR r IN SELECT ... LOOP)."""
    over_rows = {
        found.end(): not (
            _RANGE.match(found["source"].strip()) and not _QUERY_START.match(found["source"])
        )
        for found in _FOR_LOOP.finditer(prefix)
    }
    for word in _LOOP_WORDS.finditer(fragment):
        if word.group(0).upper().startswith("END"):
            if loops:
                loops.pop()
        elif word.start() < len(prefix):
            loops.append(over_rows.get(word.end(), False))


# PL/pgSQL declarations: `name [CONSTANT] type [COLLATE c] [NOT NULL] [{DEFAULT | := | =} expr]`,
# or `name ALIAS FOR $1`; each is a step of the DECLARE section.
_DECLARATION = re.compile(
    r"(?is)\A\s*(?:DECLARE\s+)?(?P<name>[A-Za-z_]\w*)\s+(?:CONSTANT\s+)?(?!CURSOR\b)"
    r"(?P<type>[A-Za-z_][\w.]*(?:\s+(?:PRECISION|VARYING|WITH(?:OUT)?\s+TIME\s+ZONE))*"
    r"(?:\s*\([\d\s,]*\))?(?:\s*\[\])?|[A-Za-z_][\w.]*%(?:ROW)?TYPE)"
    r"(?:\s+NOT\s+NULL)?(?:\s*(?:DEFAULT|:=|=)\s*(?P<default>.+))?\s*\Z"
)
_RAISE = re.compile(
    r"(?is)\A\s*RAISE\s+(?:DEBUG|LOG|INFO|NOTICE|WARNING|EXCEPTION)?\s*(?P<format>'(?:[^']|'')*')"
    r"(?P<arguments>(?:\s*,\s*[^,]+?)*)(?:\s+USING\s+.*)?\s*\Z"
)
_EXIT = re.compile(
    r"(?is)\A\s*(?:EXIT|CONTINUE)(?:\s+(?!WHEN\b)\w+)?(?:\s+WHEN\s+(?P<condition>.+))?\s*\Z"
)
_SELECT_INTO_FIRST = re.compile(
    r"(?is)\A\s*SELECT\s+INTO\s+(?:STRICT\s+)?[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s+(?P<rest>.+)"
)
_SELECT_INTO = re.compile(
    r"(?is)\A(?P<head>\s*SELECT\s+(?:(?!\bINTO\b).)+?)\s+INTO\s+(?:STRICT\s+)?"
    r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s+(?P<tail>FROM\b.+)"
)


def plpgsql_step(sql: str, *, declaring: bool) -> str | None:
    """The SQL a PL/pgSQL step runs, when it is a declaration (`declaring`: in a DECLARE
    section, where nothing else may stand), a RAISE or a SELECT INTO variables ("" when it runs
    none); None for any other step."""
    declared = _DECLARATION.match(sql) if declaring else None
    if declared:
        return "SELECT " + declared["default"] if declared["default"] else ""
    leaving = _EXIT.match(sql)
    if leaving:
        return "SELECT " + leaving["condition"] if leaving["condition"] else ""
    raised = _RAISE.match(sql)
    if raised:
        arguments = raised["arguments"].strip().lstrip(",").strip()
        return "SELECT " + arguments if arguments else ""
    first = _SELECT_INTO_FIRST.match(sql)
    if first:
        return "SELECT " + first["rest"]
    into = _SELECT_INTO.match(sql)
    if into:
        return f"{into['head']} {into['tail']}"
    return None


_ASSIGNMENT = re.compile(r"(?is)\A\s*(?P<name>[A-Za-z_]\w*)\s*:?=")
_STRING = re.compile(r"\A\s*'(?:[^']|'')*'\s*\Z")


def text_constants(steps: list[tuple[str, bool]]) -> dict[str, str]:
    """PL/pgSQL variables declared with a string literal and never assigned again (`where_clause
    text := ''`): lower-case name -> the literal as written. `steps`: each step's SQL and
    whether it stands in a DECLARE section."""
    constants: dict[str, str] = {}
    assigned: set[str] = set()
    for sql, declaring in steps:
        declared = _DECLARATION.match(sql) if declaring else None
        if declared and declared["default"] and _STRING.match(declared["default"]):
            constants[declared["name"].lower()] = declared["default"].strip()
        elif not declaring and (assignment := _ASSIGNMENT.match(sql)):
            assigned.add(assignment["name"].lower())
        elif not declaring and re.search(r"(?i)\bINTO\b", sql):
            assigned.update(word.lower() for word in re.findall(r"\w+", sql))
    return {name: text for name, text in constants.items() if name not in assigned}


def with_text_constants(sql: str, constants: dict[str, str]) -> str:
    """An EXECUTE step with each constant variable written as its literal, so the statement it
    runs is folded from what is visible (outside quoted text only)."""
    if not constants or not re.match(r"(?i)\s*EXECUTE\b", sql):
        return sql

    def literal(word: re.Match[str]) -> str:
        return constants.get(word.group(0).lower()) or word.group(0)

    pieces = re.split(r"('(?:[^']|'')*')", sql)
    for index in range(0, len(pieces), 2):  # the text between string literals
        pieces[index] = re.sub(r"(?<![\w.$])[A-Za-z_]\w*(?![\w.(])", literal, pieces[index])
    return "".join(pieces)
