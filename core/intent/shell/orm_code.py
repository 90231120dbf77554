"""One-line ORM code (`manage.py shell -c`, `rails runner`, `python -c`): what its query chains
do to a model's rows.

Closed world: code is understood only when every statement imports models (or a value module),
prints or assigns a query chain, and every chain starts at a model, calls only the registry's
ORM methods (`inline_python.orm`) and passes only literals, filter expressions or other such
chains. Understood code that mutates nothing only reads. Whether understood or not, each
delete or update chain is named: with no scope before it (or only `all`) it changes every row
of the model (a mass mutation); a scope with arguments, or a one-row pick, names its rows.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from guardrails_core.intent.program_loader import registry
from guardrails_core.model import Intent, ObjectAction, ObjectKind


@dataclass(frozen=True, slots=True)
class Mutation:
    """A delete or update chain: ``mass`` when no scope names its rows."""

    kind: str  # "delete" or "update"
    mass: bool
    model: str
    text: str


@dataclass(slots=True)
class Reading:
    understood: bool = True
    mutations: list[Mutation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Rules:
    managers: frozenset[str]
    read: frozenset[str]
    scopes: frozenset[str]
    picks: frozenset[str]
    unscopes: frozenset[str]
    deletes: frozenset[str]
    updates: frozenset[str]
    values: frozenset[str]
    value_modules: frozenset[str]
    ruby_print: frozenset[str]
    ruby_time: frozenset[str]
    ruby_time_methods: frozenset[str]


@cache
def _rules() -> _Rules:
    table: dict[str, Any] = registry().inline_python.get("orm") or {}

    def names(key: str) -> frozenset[str]:
        return frozenset(str(name) for name in table.get(key) or ())

    return _Rules(*(names(key) for key in _Rules.__dataclass_fields__))


def _mutation(methods: list[tuple[str, bool]], model: str, text: str) -> Mutation | None:
    """The last method of a chain (``(name, has_args)`` from the model on), if it mutates."""
    rules = _rules()
    last = methods[-1][0]
    kind = "delete" if last in rules.deletes else "update" if last in rules.updates else None
    if kind is None:
        return None
    before = methods[:-1]
    start = max((i + 1 for i, (name, _) in enumerate(before) if name in rules.unscopes), default=0)
    scoped = any(
        (name in rules.scopes and has_args) or name in rules.picks
        for name, has_args in before[start:]
    )
    return Mutation(kind, not scoped, model, text[:80])


def record_code(call: Any, value: Any, language: str, label: str) -> None:
    """A code option's value (`manage.py shell -c CODE`: orm-python, `rails runner`: orm-ruby)."""
    read = read_python if language == "orm-python" else read_ruby
    record(call, None if value.dynamic else read(value.value), label)


def record(call: Any, reading: Reading | None, label: str) -> None:
    """Name what the code does on the shell analyzer's call: its chains' mutations, and
    `dynamic` unless it is all understood (then, with no mutation, a read)."""
    if reading is None or not reading.understood:
        call.add(Intent.DYNAMIC, f"{label} runs code that is not analysed")
    elif not reading.mutations:
        call.add(Intent.READ, f"{label} only reads through the ORM")
    if reading is not None:
        record_mutations(call, reading.mutations, label)


def record_mutations(call: Any, mutations: list[Mutation], label: str) -> None:
    for mutation in mutations:
        what = f"{label}: {mutation.text}"
        if mutation.kind == "delete":
            call.add(Intent.DELETE, what)
            call.obj(ObjectKind.TABLE, ObjectAction.DELETE, mutation.model)
        else:
            call.add(Intent.WRITE, what)
            call.obj(ObjectKind.TABLE, ObjectAction.WRITE, mutation.model)
        if mutation.mass:
            call.add(Intent.MASS_MUTATION, f"{what} changes every row of {mutation.model}")


# --------------------------------------------------------------------------- Python


def read_python(code: str) -> Reading | None:
    """The code's ORM chains, and whether it is all understood; None when it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    reading = Reading(mutations=_python_mutations(tree))
    reading.understood = _Python().understood(tree)
    return reading


def _python_mutations(tree: ast.AST) -> list[Mutation]:
    rules = _rules()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        methods, model = _python_chain(node)
        # a chain through a manager (Invoice.objects), query(X) or all(): the model's rows; a
        # delete() on anything else is an instance's or another library's
        if not any(name in rules.managers or name == "all" for name, _ in methods[:-1]):
            continue
        mutation = _mutation(methods, model, ast.unparse(node))
        if mutation is not None:
            found.append(mutation)
    return found


def _python_chain(node: ast.expr) -> tuple[list[tuple[str, bool]], str]:
    """``Invoice.objects.filter(x=1).delete()`` -> [(objects, F), (filter, T), (delete, F)],
    and the model (the chain's root name, or the argument of ``query(X)``)."""
    methods: list[tuple[str, bool]] = []
    model = ""
    while True:
        if isinstance(node, ast.Call):
            has_args = bool(node.args or node.keywords)
            if isinstance(node.func, ast.Attribute):
                methods.append((node.func.attr, has_args))
                if node.func.attr in _rules().managers and node.args:
                    model = ast.unparse(node.args[0])
                node = node.func.value
                continue
            if isinstance(node.func, ast.Name):
                methods.append((node.func.id, has_args))
            break
        if isinstance(node, ast.Attribute):
            methods.append((node.attr, False))
            node = node.value
            continue
        if isinstance(node, ast.Name):
            model = model or node.id
        break
    methods.reverse()
    return methods, model


class _Python:
    """Whether every statement is an import of models, or a print or assignment of chains."""

    def __init__(self) -> None:
        self.rules = _rules()
        self.models: set[str] = set()
        self.modules: set[str] = set()  # value modules and what is imported from them
        self.values: set[str] = set()  # assigned: passed on, never called into

    def understood(self, tree: ast.Module) -> bool:
        return all(self._statement(statement) for statement in tree.body)

    def _statement(self, node: ast.stmt) -> bool:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if any(alias.name == "*" for alias in node.names):
                return False
            bound = {alias.asname or alias.name for alias in node.names}
            if node.module in self.rules.value_modules:
                self.modules |= bound
            elif node.module.rsplit(".", 1)[-1] == "models":
                self.models |= bound
            else:
                return False
            return True
        if isinstance(node, ast.Import):
            if not all(alias.name in self.rules.value_modules for alias in node.names):
                return False
            self.modules |= {alias.asname or alias.name for alias in node.names}
            return True
        if isinstance(node, ast.Expr):
            return self._value(node.value)
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and self._value(node.value)
        ):
            self.values.add(node.targets[0].id)
            return True
        return False

    def _value(self, node: ast.expr | None) -> bool:
        if node is None or isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.models | self.modules | self.values
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Attribute):
            return not node.attr.startswith("_") and self._value(node.value)
        if isinstance(node, ast.FormattedValue):
            return self._value(node.value) and self._value(node.format_spec)
        parts: list[ast.expr | None]
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            parts = list(node.elts)
        elif isinstance(node, ast.Dict):
            parts = [*node.keys, *node.values]
        elif isinstance(node, ast.JoinedStr):
            parts = list(node.values)
        elif isinstance(node, ast.BinOp):
            parts = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp | ast.Starred):
            parts = [node.operand if isinstance(node, ast.UnaryOp) else node.value]
        elif isinstance(node, ast.BoolOp):
            parts = list(node.values)
        elif isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            parts = [node.value, node.slice]
        elif isinstance(node, ast.Slice):
            parts = [node.lower, node.upper, node.step]
        else:
            return False
        return all(self._value(part) for part in parts)

    def _call(self, node: ast.Call) -> bool:
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        if not all(self._value(argument) for argument in arguments):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in self.rules.values or func.id in self.modules
        if not isinstance(func, ast.Attribute) or func.attr.startswith("_"):
            return False
        root = func.value
        while isinstance(root, ast.Attribute | ast.Call):
            root = root.func if isinstance(root, ast.Call) else root.value
        if isinstance(root, ast.Name) and root.id in self.modules:
            return self._value(func.value)  # datetime.date.today()
        if not isinstance(root, ast.Name) or root.id not in self.models:
            return False  # a chain starts at a model (a query assigned to a name is not read)
        methods = self.rules.read | self.rules.deletes | self.rules.updates | self.rules.unscopes
        return func.attr in methods and self._value(func.value)


# --------------------------------------------------------------------------- Ruby

_RUBY_TOKEN = re.compile(
    r"""(?P<space>[ \t]+)
    |(?P<sep>;|\n)
    |(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\\#]|\\.|\#(?!\{))*")
    |(?P<symbol>:[A-Za-z_]\w*[?!]?)
    |(?P<key>[a-z_]\w*:(?!:))
    |(?P<number>\d[\d_]*(?:\.\d+)?)
    |(?P<const>[A-Z]\w*)
    |(?P<ident>[a-z_]\w*[?!]?)
    |(?P<op>\.\.\.?|::|=>|==|!=|<=|>=|[.(),\[\]<>+\-*])""",
    re.VERBOSE,
)
_RANGE = frozenset(("..", "..."))
_BINARY = frozenset(("+", "-", "*", "==", "!=", "<", ">", "<=", ">="))
_ARGUMENT_END = frozenset((")", ",", "]"))
_LITERALS = frozenset(("number", "string", "symbol", "ident", "const"))
_KEYWORDS = frozenset(("nil", "true", "false"))


class _NotUnderstood(Exception):
    pass


def read_ruby(code: str) -> Reading:
    """The code's ActiveRecord chains, and whether it is all understood."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(code):
        match = _RUBY_TOKEN.match(code, position)
        if match is None or match.lastgroup is None:
            return Reading(False, _ruby_mutations(code))
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    parser = _Ruby(tokens, code)
    try:
        parser.statements()
    except _NotUnderstood:
        return Reading(False, _ruby_mutations(code))
    return Reading(True, parser.mutations)


# A model's chain ending in a bulk method, for code that is not understood as a whole
_RUBY_CHAIN = re.compile(
    r"\b([A-Z]\w*(?:::[A-Z]\w*)*)((?:\.\w+[?!]?(?:\((?:[^()]|\([^()]*\))*\))?)*?)"
    r"\.(delete_all|destroy_all|update_all|touch_all)\b"
)
_RUBY_METHOD = re.compile(r"\.(\w+[?!]?)(\((?:[^()]|\([^()]*\))*\))?")


def _ruby_mutations(code: str) -> list[Mutation]:
    found = []
    for match in _RUBY_CHAIN.finditer(code):
        methods = [
            (method.group(1), bool(method.group(2) and method.group(2).strip("() ")))
            for method in _RUBY_METHOD.finditer(match.group(2))
        ]
        mutation = _mutation([*methods, (match.group(3), False)], match.group(1), match.group())
        if mutation is not None:
            found.append(mutation)
    return found


class _Ruby:
    """A recursive reader of `puts Model.where(key: value..).count`-shaped statements."""

    def __init__(self, tokens: list[tuple[str, str]], code: str) -> None:
        self.tokens = tokens
        self.at = 0
        self.code = code
        self.rules = _rules()
        self.mutations: list[Mutation] = []

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1] != text):
            raise _NotUnderstood
        self.at += 1
        return token

    def statements(self) -> None:
        while self.peek()[0] != "end":
            if self.peek()[0] == "sep":
                self.take()
                continue
            kind, text = self.peek()
            if kind == "ident" and text in self.rules.ruby_print:
                self.take()
            self.expression()
            if self.peek()[0] not in ("sep", "end"):
                raise _NotUnderstood

    def expression(self) -> None:
        self.operand()
        while self.peek()[1] in _BINARY:
            self.take()
            self.operand()
        if self.peek()[1] in _RANGE:
            self.take()
            if self.peek()[1] not in _ARGUMENT_END and self.peek()[0] not in ("sep", "end"):
                self.operand()

    def operand(self) -> None:
        kind, text = self.take()
        model = ""
        if kind == "op" and text == "(":
            self.expression()
            self.take(")")
            return
        if kind == "op" and text == "[":
            self.arguments("]")
        elif kind == "op" and text == "-":
            self.operand()
            return
        elif kind == "const":
            while self.peek()[1] == "::":
                self.take()
                text = f"{text}::{self.take()[1]}"
            model = "" if text in self.rules.ruby_time else text
        elif kind not in _LITERALS or (kind == "ident" and text not in _KEYWORDS):
            raise _NotUnderstood
        self.chain(model)

    def chain(self, model: str) -> None:
        allowed = (
            self.rules.read | self.rules.deletes | self.rules.updates | self.rules.unscopes
            if model
            else self.rules.ruby_time_methods
        )
        methods: list[tuple[str, bool]] = []
        first_positional = False
        while self.peek()[1] == ".":
            self.take()
            name = self.take()[1]
            if name not in allowed:
                raise _NotUnderstood
            has_args = False
            if self.peek()[1] == "(":
                self.take()
                first_positional = self.peek()[0] not in ("key", "op")
                has_args = self.arguments(")")
            methods.append((name, has_args))
        if not model or not methods:
            return
        last, last_args = methods[-1]
        # Model.delete(5), Model.destroy(ids), Model.update(5, attrs): by id, not every row
        by_id = last_args and (last in ("delete", "destroy") or first_positional)
        mutation = _mutation(methods, model, f"{model}.{'.'.join(n for n, _ in methods)}")
        if mutation is not None:
            self.mutations.append(
                mutation
                if not by_id
                else Mutation(mutation.kind, False, mutation.model, mutation.text)
            )

    def arguments(self, closing: str) -> bool:
        given = False
        while self.peek()[1] != closing:
            if self.peek()[0] == "key":
                self.take()
            self.expression()
            if self.peek()[1] == "=>":
                self.take()
                self.expression()
            given = True
            if self.peek()[1] != closing:
                self.take(",")
        self.take(closing)
        return given
