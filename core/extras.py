"""What the adapter packages share at import: which extra installs their orchestrator (so a
missing one says what to install instead of a bare `No module named 'airflow'`), and names that
load on first use (so importing a package stays cheap in every worker)."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib import import_module
from importlib.util import find_spec
from typing import Any


def require(module: str, extra: str, adapter: str) -> None:
    """Raise ModuleNotFoundError naming the extra when `module` cannot be imported (found
    without importing it: the adapters keep their own import cheap)."""
    if find_spec(module) is None:
        raise ModuleNotFoundError(
            f"{adapter} needs {module}, which is not installed: "
            f"pip install 'access-guardrails[{extra}]'",
            name=module,
        )


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name of `exports` (name -> defining module) is
    imported on first use and kept in the package's `namespace`."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        with gc_paused():
            value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic garbage collection while the guard loads (its modules, policy, first
    decision): that creates ~10^5 long-lived objects, whose allocations otherwise set off a full
    collection over the whole heap, the orchestrator's included (~0.1 s of an Airflow task,
    benchmarks/worker_cost.py). Collection resumes afterwards, on its usual thresholds, unless
    it was off already."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def function_over_submodule(package: str, name: str) -> None:
    """Keep `package.name` the function of that name its submodule `package.name` defines, as
    an eager `from package.name import name` did: importing the submodule (lazily, later) would
    otherwise bind the module there instead."""

    def function(_: types.ModuleType) -> Any:
        return getattr(import_module(f"{package}.{name}"), name)

    def keep(_: types.ModuleType, value: Any) -> None:
        """The import system binding the submodule: the function stays."""

    module = sys.modules[package]
    module.__class__ = type(
        type(module).__name__, (types.ModuleType,), {name: property(function, keep)}
    )


# What a first decision imports: the guard and its session, the analyser, the policy engine,
# the audit store, and SQL parsing (sqlglot's dialects load on first use, by name).
DECISION_PATH = (
    "guardrails_core.guard",
    "guardrails_core.session",
    "guardrails_core.check",
    "guardrails_core.audit",
    "guardrails_core.impact.plan",
)


def preload(modules: Iterable[str] = (), dialects: Iterable[str] = ()) -> None:
    """Import the guard's decision path (and `modules`, `dialects`) in a process that forks the
    processes tasks run in, so each task inherits them instead of importing them (~0.15 s of
    CPU). Only imports: no policy is read, no store opened, no thread started, so nothing is
    shared across the fork but code."""
    from guardrails_core.intent.sql.dialects import resolve_dialect

    with gc_paused():
        for module in (*DECISION_PATH, *modules):
            import_module(module)
        for dialect in dialects:
            resolve_dialect(dialect)
