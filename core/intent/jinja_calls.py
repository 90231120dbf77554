"""The SQL a dbt Jinja template runs while it is rendered: `run_query('...')`,
`adapter.execute('...')` and `{% call statement(...) %} ... {% endcall %}` blocks execute when
the template is compiled, before any model is built (`dbt compile --inline`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from guardrails_core.model import Intent

_EXECUTING_CALL = re.compile(r"\b(run_query|adapter\.execute)\s*\(", re.IGNORECASE)
_STRING_ARGUMENT = re.compile(r"\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")\s*[,)]")
_STATEMENT_BLOCK = re.compile(
    r"\{%-?\s*call\s+statement\s*\(.*?\)\s*-?%\}(.*?)\{%-?\s*endcall\s*-?%\}",
    re.IGNORECASE | re.DOTALL,
)
_JINJA = re.compile(r"\{\{|\{%")
_JINJA_REGION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_CALLED = re.compile(r"(?<![\w.'\"])([A-Za-z_][\w.]*)\s*\(")
# dbt's context functions that name or configure things, or only format values: they run no SQL
# (a project's macro, or a package's, may: its SQL is not visible here)
_RUN_NOTHING = frozenset(
    (
        "ref",
        "source",
        "config",
        "var",
        "env_var",
        "is_incremental",
        "log",
        "print",
        "return",
        "this",
        "range",
        "zip",
        "tojson",
        "fromjson",
        "toyaml",
        "fromyaml",
        "set_strict",
        "exceptions.raise_compiler_error",
        "adapter.quote",
        "dispatch_name",
        "caller",
        "loop.cycle",
        "statement",
        "load_result",
        "run_query",
        "adapter.execute",
        "modules.datetime.datetime.now",
        "modules.datetime.date.today",
    )
)


def executed_sql(template: str) -> tuple[list[str], list[str]]:
    """(the SQL written out in full that rendering runs, the calls whose SQL is built while
    rendering: a variable, a concatenation, Jinja inside the string)."""
    constant: list[str] = []
    built: list[str] = []
    for call in _EXECUTING_CALL.finditer(template):
        argument = _STRING_ARGUMENT.match(template, call.end())
        sql = None if argument is None else argument.group(1) or argument.group(2) or ""
        if sql is None or _JINJA.search(sql):
            built.append(call.group(1))
        else:
            constant.append(sql)
    for block in _STATEMENT_BLOCK.finditer(template):
        if _JINJA.search(block.group(1)):
            built.append("statement block")
        else:
            constant.append(block.group(1))
    for region in _JINJA_REGION.finditer(template):
        text = _STRINGS.sub("''", region.group(0))
        built.extend(
            f"the macro {name}"
            for name in _CALLED.findall(text)
            if name not in _RUN_NOTHING and not _value_method(name)
        )
    return constant, built


# methods of values (strings, lists, dicts, dates): `col.upper()`, `cols.join(', ')`
_VALUE_METHODS = frozenset(
    (
        "upper",
        "lower",
        "strip",
        "lstrip",
        "rstrip",
        "join",
        "replace",
        "split",
        "format",
        "strftime",
        "items",
        "keys",
        "values",
        "get",
        "append",
        "startswith",
        "endswith",
        "isoformat",
    )
)


def _value_method(name: str) -> bool:
    return "." in name and name.rsplit(".", 1)[-1] in _VALUE_METHODS


_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def record(
    call: Any, template: Any, dialect: str | None, sql: Callable[[Any, Any, Any], None]
) -> None:
    """A template handed to the shell analyzer's CALL: the SQL it runs is analysed (SQL is the
    bridge's embedder), what is built while rendering is dynamic."""
    constant, built = executed_sql(template.value)
    for text in constant:
        sql(call, dialect, type(template).literal(text))
    if built or template.dynamic:
        what = ", ".join(built) or "a template built at run time"
        call.add(
            Intent.DYNAMIC,
            f"{call.prog} renders a template that runs SQL not visible here ({what})",
        )
