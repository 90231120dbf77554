"""Which extra installs an orchestrator: the adapters' first check, so a missing one says what
to install instead of a bare `No module named 'airflow'`."""

from __future__ import annotations

from importlib.util import find_spec


def require(module: str, extra: str, adapter: str) -> None:
    """Raise ModuleNotFoundError naming the extra when `module` cannot be imported (found
    without importing it: the adapters keep their own import cheap)."""
    if find_spec(module) is None:
        raise ModuleNotFoundError(
            f"{adapter} needs {module}, which is not installed: "
            f"pip install 'access-guardrails[{extra}]'",
            name=module,
        )
