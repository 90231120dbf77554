"""``python -c CODE`` that only computes, prints and reads a data file: understood, so not sent
to review.

Closed world: the code must parse; import only the registry's modules; reach through a module
only attributes that are not modules themselves (`uuid.os`, `locale.sys` lead to `os.system`),
only the listed attributes of a module that has a list (`sys.modules` leads to every module),
and nothing private; use a module name only to reach its attributes (never rebind or pass it);
call no builtin that runs, opens or reaches into other code. With a data-frame module (pandas)
imported, its readers take a literal relative path (or one inside /tmp/) only, and every method
called is in the registry's pure list. With an embedded SQL engine imported (duckdb, sqlite3),
the same holds, a database is opened in memory or by a literal relative path, and SQL is run
only as a literal (the caller analyses it in the engine's dialect). A fetcher (urlopen) may GET
one literal http(s) URL whose response is read at once (fetched_urls). Anything else stays
`dynamic`.
"""

from __future__ import annotations

import ast
import importlib
import types
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.shell.secret_files import names_secret_file
from guardrails_core.locations import in_temp_folder, in_working_folder, lexical_path


@dataclass(frozen=True, slots=True)
class _Rules:
    modules: frozenset[str]
    denied_builtins: frozenset[str]
    attributes: dict[str, frozenset[str]]
    frame_modules: frozenset[str]
    readers: frozenset[str]
    pure_methods: frozenset[str]
    unbuffered_methods: frozenset[str]
    properties: frozenset[str]
    sql_engines: dict[str, str]  # module -> SQL dialect
    opens: frozenset[str]
    runs_sql: frozenset[str]
    results: frozenset[str]
    fetchers: dict[str, frozenset[str]]  # module -> functions that fetch a URL
    fetch_keywords: frozenset[str]
    fetch_readers: dict[str, frozenset[str]]  # module -> functions that take a response whole
    fetch_methods: frozenset[str]  # methods of a response that return its body
    fetch_properties: frozenset[str]  # properties of a response: its body or status
    project_loaders: dict[str, frozenset[str]]  # module -> loaders of the project's own code
    environment_names: frozenset[str]  # what takes only the names of os.environ given whole


@cache
def _rules() -> _Rules:
    table: dict[str, Any] = registry().inline_python
    frames: dict[str, Any] = table.get("data_frames") or {}
    engines: dict[str, Any] = table.get("sql_engines") or {}
    fetchers: dict[str, Any] = table.get("fetchers") or {}
    loaders: dict[str, Any] = table.get("project_loaders") or {}
    return _Rules(
        frozenset(table.get("modules", ())),
        frozenset(table.get("denied_builtins", ())),
        {
            name: frozenset(values)
            for name, values in (table.get("module_attributes") or {}).items()
        },
        frozenset(frames.get("modules", ())),
        frozenset(frames.get("readers", ())),
        frozenset(frames.get("pure_methods", ())),
        frozenset(frames.get("unbuffered_methods", ())),
        frozenset(frames.get("properties", ())) | frozenset(loaders.get("properties", ())),
        dict(engines.get("modules") or {}),
        frozenset(engines.get("opens", ())),
        frozenset(engines.get("runs_sql", ())),
        frozenset(engines.get("results", ())),
        {module: frozenset(names) for module, names in (fetchers.get("functions") or {}).items()},
        frozenset(fetchers.get("keywords", ())),
        {module: frozenset(names) for module, names in (fetchers.get("readers") or {}).items()},
        frozenset(fetchers.get("methods", ())),
        frozenset(fetchers.get("properties", ())),
        {m: frozenset(names) for m, names in (loaders.get("loaders") or {}).items()},
        frozenset(table.get("environment_names", ())),
    )


def is_harmless(code: str) -> bool:
    """Whether the code only computes, prints and reads data files by literal relative paths."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return False
    rules = _rules()
    modules = _module_names(tree, rules)
    if modules is None:
        return False
    code_uses = _Uses(
        modules,
        frames=any(
            module in rules.frame_modules or module in rules.sql_engines
            for module in modules.values()
        )
        or _imports_loader(tree, rules),
        called={id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)},
    )
    if not all(_understood(node, code_uses, rules) for node in ast.walk(tree)):
        return False
    if _fetches(tree, modules, rules) is None or not _loads_project_only(tree, modules, rules):
        return False
    if not _environment_names_only(tree, modules, rules):
        return False
    reads = {
        id(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _opens_for_reading(node)
    }
    return not any(
        isinstance(node, ast.Name)
        and (
            (node.id in rules.denied_builtins and id(node) not in reads)
            or (node.id in modules and id(node) not in code_uses.reaching)
        )
        for node in ast.walk(tree)
    )


def fetched_urls(code: str) -> list[str]:
    """The literal URLs harmless code fetches (``json.load(urlopen('https://pypi.org/...'))``)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    rules = _rules()
    modules = _module_names(tree, rules)
    return (_fetches(tree, modules, rules) or []) if modules is not None else []


def _fetches(tree: ast.AST, modules: dict[str, str], rules: _Rules) -> list[str] | None:
    """The URLs of the code's fetcher calls, or None when a fetcher is used any other way: taken
    as a value, given a body or a request, or its response kept (it could be written to)."""
    imported = {  # `from urllib.request import urlopen as get`
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name in rules.fetchers.get(node.module or "", ())
    }
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    urls: list[str] = []
    for node in ast.walk(tree):
        named = isinstance(node, ast.Name) and node.id in imported
        reached = isinstance(node, ast.Attribute) and node.attr in rules.fetchers.get(
            _module_path(node.value, modules, rules) or "", ()
        )
        if not (named or reached):
            continue
        call = parents.get(id(node))
        if not (isinstance(call, ast.Call) and call.func is node):
            return None
        url = _get_url(call, rules)
        if url is None or not _read_at_once(call, parents, modules, rules):
            return None
        urls.append(url)
    return urls


def _get_url(call: ast.Call, rules: _Rules) -> str | None:
    """``urlopen('https://x/y', timeout=5)``: the literal URL of a GET, else None."""
    if len(call.args) != 1 or any(k.arg not in rules.fetch_keywords for k in call.keywords):
        return None
    url = call.args[0]
    if not isinstance(url, ast.Constant) or not isinstance(url.value, str):
        return None
    return url.value if url.value.startswith(("https://", "http://")) else None


def _read_at_once(
    call: ast.Call, parents: dict[int, ast.AST], modules: dict[str, str], rules: _Rules
) -> bool:
    """The response is read where it is made: ``json.load(CALL)``, ``CALL.read()``, or
    ``CALL.text``."""
    parent = parents.get(id(call))
    if isinstance(parent, ast.Attribute) and parent.attr in rules.fetch_properties:
        return True
    if isinstance(parent, ast.Call) and parent.args == [call] and not parent.keywords:
        function = parent.func
        return isinstance(function, ast.Attribute) and function.attr in rules.fetch_readers.get(
            _module_path(function.value, modules, rules) or "", ()
        )
    above = parents.get(id(parent))
    return (
        isinstance(parent, ast.Attribute)
        and parent.attr in rules.fetch_methods
        and isinstance(above, ast.Call)
        and above.func is parent
        and not above.args
        and not above.keywords
    )


def engine_dialect(code: str) -> str | None:
    """The SQL dialect of the one embedded engine the code imports (duckdb, sqlite3), if any."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    engines = _rules().sql_engines
    imported = {
        engines[name]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
        if name in engines
    }
    return imported.pop() if len(imported) == 1 else None


@dataclass(slots=True)
class _Uses:
    modules: dict[str, str]  # names bound to modules: `import sys as s` is s -> sys
    frames: bool  # a data-frame or SQL engine module is imported: values' members are listed
    called: set[int]  # expressions called (`x.f` in `x.f()`)
    reaching: set[int] = field(default_factory=set)  # Names that only reach a module's attribute


def _understood(node: ast.AST, uses: _Uses, rules: _Rules) -> bool:
    if isinstance(node, ast.Global | ast.Nonlocal | ast.AsyncFunctionDef | ast.Await):
        return False
    if isinstance(node, ast.Call):
        return not uses.frames or _frame_call(node, uses.modules, rules)
    if not isinstance(node, ast.Attribute):
        return True
    if node.attr.startswith("_"):
        return False
    if isinstance(node.value, ast.Name):
        uses.reaching.add(id(node.value))
    owner = _module_path(node.value, uses.modules, rules)
    if owner is None:
        return not uses.frames or _frame_member(node, id(node) in uses.called, rules)
    # a reader taken as a value (not called here) reads a path this check never sees
    reader_value = node.attr in rules.readers and id(node) not in uses.called
    return _public_member(owner, node.attr, rules) and not reader_value


def _environment_names_only(tree: ast.AST, modules: dict[str, str], rules: _Rules) -> bool:
    """Every os.environ of the code yields variable names alone (`sorted(os.environ)`,
    `os.environ.keys()`, `'X' in os.environ`, `for name in os.environ`): a value (`os.environ['X']`,
    `.get`, `.items()`, the mapping printed or bound to a name) may be a credential."""
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            return False  # `from os import environ`: a bare name this check does not follow
        if _bound_name(node) in rules.environment_names:
            return False  # `list = dict`: the name no longer takes the names only
        if not (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and _module_path(node.value, modules, rules) == "os"
        ):
            continue
        parent = parents.get(id(node))
        grand = parents.get(id(parent)) if parent is not None else None
        names_only = (
            (
                isinstance(parent, ast.Call)
                and node in parent.args
                and isinstance(parent.func, ast.Name)
                and parent.func.id in rules.environment_names
            )
            or (
                isinstance(parent, ast.Attribute)
                and parent.attr == "keys"
                and isinstance(grand, ast.Call)
                and grand.func is parent
            )
            or (
                isinstance(parent, ast.Compare)
                and node in parent.comparators
                and all(isinstance(op, ast.In | ast.NotIn) for op in parent.ops)
            )
            or (isinstance(parent, ast.For | ast.comprehension) and parent.iter is node)
        )
        if not names_only:
            return False
    return True


def _bound_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return node.id
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.arg):
        return node.arg
    return node.asname if isinstance(node, ast.alias) else None


def _module_names(tree: ast.AST, rules: _Rules) -> dict[str, str] | None:
    """The names the code binds to modules (`import sys as s`: s -> sys), or None when an import
    is outside the closed world."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in rules.modules:
                    return None
                top = alias.name.split(".")[0]
                bound[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module not in rules.modules:
                return None
            for alias in node.names:
                if alias.name == "*" or not _public_member(module, alias.name, rules):
                    return None
    return bound


def _module_path(node: ast.expr, modules: dict[str, str], rules: _Rules) -> str | None:
    """The module an expression is (`s` bound to sys, `urllib.parse`), or None."""
    if isinstance(node, ast.Name):
        return modules.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _module_path(node.value, modules, rules)
        inner = f"{owner}.{node.attr}"
        return inner if owner is not None and inner in rules.modules else None
    return None


def _public_member(module: str, attribute: str, rules: _Rules) -> bool:
    if attribute.startswith("_"):
        return False
    listed = rules.attributes.get(module)
    if listed is not None:
        return attribute in listed
    if f"{module}.{attribute}" in rules.modules:
        return True
    return module in rules.modules and not _is_module(module, attribute)


@cache
def _is_module(module: str, attribute: str) -> bool:
    """Whether a stdlib module of the closed world holds another module under this name
    (imported to look: the list holds only modules whose import does nothing else)."""
    try:
        value = getattr(importlib.import_module(module), attribute, None)
    except ImportError:
        return True
    return isinstance(value, types.ModuleType)


def _frame_member(node: ast.Attribute, called: bool, rules: _Rules) -> bool:
    """In code that uses a data frame, an attribute of a value (a frame, a string, a result):
    a listed property, a pure method, or a method that returns text when called bare."""
    if node.attr in rules.unbuffered_methods:
        return called
    return (
        node.attr in rules.pure_methods
        or node.attr in rules.properties
        or node.attr in rules.results
        or node.attr in rules.runs_sql
    )


def _frame_call(node: ast.Call, modules: dict[str, str], rules: _Rules) -> bool:
    """A reader of a frame module takes a literal relative path; a method that writes when given
    a buffer is called without one; an engine opens a database in memory or by a literal
    relative path, and runs literal SQL only."""
    function = node.func
    if not isinstance(function, ast.Attribute):
        return True  # builtins and local names: the denied builtins are checked by name
    if function.attr in rules.runs_sql:
        return _literal_sql(node)
    owner = _module_path(function.value, modules, rules)
    if owner is not None and owner in rules.sql_engines and function.attr in rules.opens:
        return _opens_working_database(node)
    if owner is not None:
        return function.attr not in rules.readers or _reads_relative_file(node)
    if function.attr in rules.unbuffered_methods:
        return not node.args and not any(keyword.arg in _BUFFERS for keyword in node.keywords)
    return True


_BUFFERS = frozenset({"buf", "path_or_buf", "excel_writer", None})  # None: **keywords


def _literal_sql(node: ast.Call) -> bool:
    """`con.execute('DELETE FROM t WHERE id = ?', [7])`: the SQL is a literal, read as SQL."""
    first = node.args[0] if node.args else None
    return isinstance(first, ast.Constant) and isinstance(first.value, str)


# Keywords an engine's connect may take besides the path: none that load code or change where.
_OPEN_KEYWORDS = frozenset({"read_only", "timeout"})


def _opens_working_database(node: ast.Call) -> bool:
    """`duckdb.connect()`, `sqlite3.connect(':memory:')`, `duckdb.connect('data/w.duckdb')`."""
    if len(node.args) > 1 or any(keyword.arg not in _OPEN_KEYWORDS for keyword in node.keywords):
        return False
    if not node.args:
        return True
    path = node.args[0]
    return (
        isinstance(path, ast.Constant)
        and isinstance(path.value, str)
        and (path.value in ("", ":memory:") or in_working_folder(path.value))
    )


def _imports_loader(tree: ast.AST, rules: _Rules) -> bool:
    """A project loader's module imported: its values' members are listed, as a frame's."""
    return any(
        (isinstance(node, ast.ImportFrom) and node.module in rules.project_loaders)
        or (
            isinstance(node, ast.Import)
            and any(alias.name in rules.project_loaders for alias in node.names)
        )
        for node in ast.walk(tree)
    )


def _loads_project_only(tree: ast.AST, modules: dict[str, str], rules: _Rules) -> bool:
    """`DagBag('dags/', include_examples=False)`: a project loader called with a literal relative
    folder (or none) and constants, and used for nothing but that call."""
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in rules.project_loaders
        for alias in node.names
        if alias.name in rules.project_loaders[node.module]
    }
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    called = {id(call.func) for call in calls}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in imported and id(node) not in called:
            return False  # `f = DagBag` then `f('/tmp/x')`: the folder is never seen here
        if isinstance(node, ast.Attribute) and id(node) not in called:
            owner = _module_path(node.value, modules, rules)
            if owner in rules.project_loaders and node.attr in rules.project_loaders[owner]:
                return False
    for call in calls:
        function = call.func
        owner = (
            _module_path(function.value, modules, rules)
            if isinstance(function, ast.Attribute)
            else None
        )
        loads = (isinstance(function, ast.Name) and function.id in imported) or (
            owner in rules.project_loaders
            and isinstance(function, ast.Attribute)
            and function.attr in rules.project_loaders[owner]
        )
        if loads and not _in_project(call):
            return False
    return True


def _in_project(call: ast.Call) -> bool:
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    return (
        len(call.args) <= 1
        and all(isinstance(value, ast.Constant) for value in values)
        and all(
            in_working_folder(value.value)
            for value in values
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
        )
    )


_READ_MODES = frozenset(("r", "rt", "rb"))


def _opens_for_reading(node: ast.Call) -> bool:
    """`open('dbt_project.yml')`: a literal relative path opened to read, not a credentials
    file by its name (.env)."""
    if not isinstance(node.func, ast.Name):
        return False
    modes = [*node.args[1:], *(k.value for k in node.keywords if k.arg == "mode")]
    path = node.args[0] if node.args else None
    return (
        node.func.id == "open"
        and len(node.args) <= 2
        and all(k.arg in ("mode", "encoding") for k in node.keywords)
        and all(isinstance(k.value, ast.Constant) for k in node.keywords)
        and isinstance(path, ast.Constant)
        and isinstance(path.value, str)
        and in_working_folder(path.value)
        and not names_secret_file(path.value)
        and all(isinstance(m, ast.Constant) and m.value in _READ_MODES for m in modes)
    )


def _reads_relative_file(node: ast.Call) -> bool:
    """`pd.read_parquet('data/orders.parquet')`: a literal path inside the working directory,
    or inside a temporary folder (`/tmp/sample.parquet`) when it does not name credentials."""
    first = node.args[0] if node.args else None
    if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
        return False
    return in_working_folder(first.value) or _temporary_file(first.value)


def _temporary_file(path: str) -> bool:
    return in_temp_folder(path) and not names_secret_file(lexical_path(path))
