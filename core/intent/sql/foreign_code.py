"""Stored code in another language (JavaScript, Python, Java, Scala procedures and UDFs): still
`unknown` as a whole, but the SQL its visible calls run and the host calls it makes are named
(`snowflake.execute({sqlText: "DROP TABLE t"})`, `subprocess.check_output(...)`)."""

from __future__ import annotations

import re

from guardrails_core.intent.sql.dialects import MAX_DEPTH, I
from guardrails_core.intent.sql.statement import _Statement, analyze_nested

FOREIGN_LANGUAGES = frozenset({"javascript", "js", "plv8", "python", "java", "scala", "r"})
# Literal SQL handed to the language's database API: Snowflake's sqlText, execute/sql/query.
_JS_SQL = re.compile(
    r"""(?:\bsqlText\s*:\s*|\.(?:execute|sql|query|createStatement)\(\s*)(["'`])(.*?)(?<!\\)\1""",
    re.DOTALL,
)
_TEMPLATE_PART = re.compile(r"\$\{[^}]*\}")
# Calls that start host processes or open network connections from inside the routine.
_REACHES = (
    (
        I.HOST_ACCESS,
        "starts processes on the host",
        r"\b(?:subprocess|os\.system|os\.popen|os\.exec\w*|pty\.spawn|Runtime\.getRuntime|"
        r"ProcessBuilder|child_process|sys\.process)\b",
    ),
    (
        I.EXPORT,
        "opens network connections",
        r"\b(?:urllib|requests\.(?:get|post|put)|http\.client|socket\.socket|"
        r"HttpURLConnection|fetch\()",
    ),
)


def foreign_body(statement: _Statement, body: str, language: str) -> None:
    """What a routine in `language` will do when called, as far as its text shows."""
    for intent, what, pattern in _REACHES:
        if re.search(pattern, body):
            statement.add(intent, f"the {language} routine {what}")
    if statement.depth >= MAX_DEPTH:
        return
    for text in _visible_sql(body, language):
        effects = analyze_nested(text, statement.dialect_name, depth=statement.depth + 1)
        readable = [effect for effect in effects if I.UNPARSEABLE not in effect.intents]
        statement.embed(readable)
        if any(set(effect.intents) - {I.READ} for effect in readable):
            statement.add(
                I.SCHEMA_CHANGE, f"the {language} routine stores statements that run later"
            )


def _visible_sql(body: str, language: str) -> list[str]:
    if language == "python":
        from guardrails_core.intent.shell.inline_python import sql_equivalents

        return sql_equivalents(_dedented(body))
    return [_TEMPLATE_PART.sub("dynamic_part", match.group(2)) for match in _JS_SQL.finditer(body)]


def _dedented(body: str) -> str:
    lines = [line for line in body.splitlines() if line.strip()]
    indent = min((len(line) - len(line.lstrip()) for line in lines), default=0)
    return "\n".join(line[indent:] for line in body.splitlines())
