"""What the adapter packages share at import: which extra installs their orchestrator (so a
missing one says what to install instead of a bare `No module named 'airflow'`), and names that
load on first use (so importing a package stays cheap in every worker)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
