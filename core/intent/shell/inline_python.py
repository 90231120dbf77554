"""``python -c CODE`` that only computes and prints: understood, so not sent to review.

Closed world: the code must parse, import only modules in the registry's list, call no builtin
that runs, opens or reaches into other code, and touch no private or special attribute. Anything
else stays `dynamic` (not analysed).
"""

from __future__ import annotations

import ast
import shlex
from functools import cache

from guardrails_core.intent.programs import registry


@cache
def _allowed() -> tuple[frozenset[str], frozenset[str], dict[str, frozenset[str]]]:
    table = registry().inline_python
    modules = frozenset(table.get("modules", ()))
    builtins = frozenset(table.get("denied_builtins", ()))
    attributes = {
        name: frozenset(values) for name, values in (table.get("module_attributes") or {}).items()
    }
    return modules, builtins, attributes


def is_harmless(code: str) -> bool:
    """Whether the code only computes: imports listed modules, runs nothing, opens nothing."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return False
    modules, denied, attributes = _allowed()
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            imported.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            if node.level or any(alias.name == "*" for alias in node.names):
                return False
            imported.update(alias.asname or alias.name for alias in node.names)
        else:
            names = []
        if any(name not in modules for name in names):
            return False
        if isinstance(node, ast.Name) and node.id in denied:
            return False
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                return False
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner in attributes and node.attr not in attributes[owner]:
                return False
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await)):
            return False
    return True


def shell_equivalents(code: str) -> list[str]:
    """Shell commands doing what the code's literal-argument calls do (`shutil.rmtree('/x')` is
    `rm -rf /x`, `os.system('cmd')` is `cmd`), for the table's calls; other code is not read."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    table: dict[str, str] = registry().inline_python.get("shell_equivalents") or {}
    commands: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        equivalent = table.get(_dotted(node.func))
        first = node.args[0]
        if equivalent is None:
            continue
        if equivalent == "argv" and isinstance(first, ast.List | ast.Tuple):
            words = [
                e.value
                for e in first.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
            if len(words) == len(first.elts):
                commands.append(shlex.join(words))
        elif isinstance(first, ast.Constant) and isinstance(first.value, str):
            if equivalent in ("sh", "argv"):  # argv given a string runs it (shell=True)
                commands.append(first.value)
            else:
                commands.append(f"{equivalent} {shlex.quote(first.value)}")
    return commands


def bulk_deletes(code: str) -> list[str]:
    """The code's SDK calls that delete a whole store (`s3.Bucket(b).objects.all().delete()`,
    `client.delete_dataset(d)`), as written; other code is not read."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    methods = frozenset(registry().inline_python.get("bulk_deletes") or ())
    calls: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = node.func.value
        every = (  # X.all().delete()
            node.func.attr == "delete"
            and isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Attribute)
            and receiver.func.attr == "all"
        )
        if every or node.func.attr in methods:
            calls.append(ast.unparse(node)[:80])
    return calls


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


# Methods of database APIs (DB-API cursors, SQLAlchemy connections, Spark sessions, pandas)
# whose first argument is SQL that runs.
_SQL_METHODS = frozenset(
    {"execute", "executemany", "executescript", "exec_driver_sql", "sql", "query", "read_sql"}
)
# What stands for the run-time parts of an f-string (the same name SQL's dynamic parts take).
_RUN_TIME_PART = "dynamic_part"


def sql_equivalents(code: str) -> list[str]:
    """The SQL that the code's database calls run, where their text is visible: a literal,
    `text('...')`, or an f-string whose run-time parts read as a placeholder name."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    statements: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SQL_METHODS
            and node.args
        ):
            text = _visible_text(node.args[0])
            if text is not None and text.strip():
                statements.append(text)
    return statements


def _visible_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call) and _dotted(node.func).rsplit(".", 1)[-1] == "text":
        return _visible_text(node.args[0]) if node.args else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = node.values
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else _RUN_TIME_PART for part in parts
        )
    return None
