"""What ``python -c CODE`` amounts to where it is not read-only (shell/pure_python.py decides
that): the shell commands, SQL and bulk deletes of its calls with visible arguments."""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass

from guardrails_core.intent.program_loader import registry


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


_PRINTS = frozenset({"print", "pprint", "pprint.pprint", "sys.stdout.write", "json.dump"})


def printed_secrets(code: str) -> list[str]:
    """The code's calls that read a stored credential (`Secret.load('x').get()`) and whose
    value it prints, directly or through a name it assigns; other code is not read."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    readers = tuple(registry().inline_python.get("secret_reads") or ())
    whole = _whole_environment(tree) | _looked_up_by_every_key(tree)

    def reads(node: ast.AST) -> list[str]:
        return [
            ast.unparse(call)[:80]
            for call in ast.walk(node)
            if isinstance(call, ast.Call) and _dotted(call.func).endswith(readers)
        ] + [  # the whole environment (dict(os.environ)), as `env` prints it
            "os.environ"
            for name in ast.walk(node)
            if id(name) in whole and _dotted(name) in _ENVIRONMENT
        ]

    holding = {  # names assigned a credential, or bound by a loop over credentials
        name.id
        for target, value in _bindings(tree)
        if reads(value)
        for name in ast.walk(target)
        if isinstance(name, ast.Name)
    }
    printed: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in _PRINTS:
            printed.extend(reads(node))
            printed.extend(
                name.id
                for name in ast.walk(node)
                if isinstance(name, ast.Name) and name.id in holding
            )
    return printed


_ENVIRONMENT = frozenset(("os.environ", "os.environb"))
# what hands over the environment's values, not only its names (`sorted(os.environ)` is names)
_WHOLE_VALUES = frozenset(("items", "values", "copy"))
_WHOLE_TAKERS = frozenset(
    ("dict", "str", "repr", "print", "json.dumps", "json.dump", "pprint.pprint")
)


def _whole_environment(tree: ast.AST) -> set[int]:
    """The os.environ nodes whose every value is taken (`dict(os.environ)`,
    `os.environ.items()`), not one variable's (`os.environ['HOME']`) or the names."""
    whole: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _WHOLE_VALUES:
            whole.add(id(node.value))
        elif isinstance(node, ast.Call) and _dotted(node.func) in _WHOLE_TAKERS:
            whole.update(id(arg) for arg in node.args)
    return whole


def _bindings(tree: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    """(target, value) of each assignment and of each loop or comprehension: `for k, v in
    os.environ.items()` binds k and v to every variable's name and value."""
    pairs: list[tuple[ast.expr, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            pairs.extend((target, node.value) for target in node.targets)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            pairs.append((node.target, node.iter))
    return pairs


def _looked_up_by_every_key(tree: ast.AST) -> set[int]:
    """The os.environ nodes indexed by a name that a loop over the environment binds
    (`for k in os.environ: print(os.environ[k])`, `os.environ.get(k)`): every value is taken."""
    keys = {
        name.id
        for target, value in _bindings(tree)
        if any(_dotted(node) in _ENVIRONMENT for node in ast.walk(value))
        for name in ast.walk(target)
        if isinstance(name, ast.Name)
    }
    looked_up: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            environ, key = node.value, node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            environ, key = node.func.value, node.args[0]
            if node.func.attr != "get":
                continue
        else:
            continue
        if isinstance(key, ast.Name) and key.id in keys and _dotted(environ) in _ENVIRONMENT:
            looked_up.add(id(environ))
    return looked_up


def _dotted(node: ast.AST) -> str:
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


@dataclass(frozen=True, slots=True)
class SentCredentials:
    """Credentials files the code names and where it sends data."""

    files: tuple[str, ...]
    destination: str


def sent_credentials(code: str) -> SentCredentials | None:
    """Code that opens a credentials file (`Path(".env")`, `home().joinpath(".dbt/profiles.yml")`)
    and sends data in a request body (`urlopen(url, data=...)`, `requests.post(url, ...)`): what
    it sends is not visible, the files it has at hand are credentials. Other code is not read."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    files = tuple(
        dict.fromkeys(
            path.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _dotted(node.func).rsplit(".", 1)[-1] in _OPENERS
            for path in node.args[:1]
            if isinstance(path, ast.Constant)
            and isinstance(path.value, str)
            and _names_credentials(path.value)
        )
    )
    if not files:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _sends_body(node):
            url = node.args[0] if node.args else None
            if isinstance(url, ast.Constant) and isinstance(url.value, str):
                return SentCredentials(files, url.value)
            return SentCredentials(files, "a URL built at run time")
    return None


# what opens a file by its path: the bytes are at hand (load_dotenv('.env') sets variables)
_OPENERS = frozenset(("open", "Path", "PurePath", "joinpath", "read_text", "read_bytes"))
_BODY_METHODS = frozenset(("post", "put", "patch"))
_BODY_OPENERS = frozenset(("urlopen", "Request"))


def _sends_body(call: ast.Call) -> bool:
    name = _dotted(call.func).rsplit(".", 1)[-1]
    if name in _BODY_METHODS:
        return True
    return name in _BODY_OPENERS and (
        len(call.args) >= 2 or any(k.arg == "data" for k in call.keywords)
    )


def _names_credentials(text: str) -> bool:
    """A credentials file by its name, written from the working folder or the home folder
    (`.dbt/profiles.yml` joined onto Path.home())."""
    from guardrails_core.intent.shell.secret_files import names_secret_file

    if "\n" in text or len(text) > 200:
        return False
    return names_secret_file(text) or names_secret_file(f"~/{text.lstrip('/')}")
