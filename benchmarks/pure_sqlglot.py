"""Import sqlglot from its Python sources even where the compiled parser (the `speed` extra,
sqlglotc) is installed: sqlglotc overlays compiled modules onto the sqlglot package, and the
import system prefers them. A default install of access-guardrails has no sqlglotc; this lets
one environment measure both."""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_SOURCES = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)


class _SourcesOnly:
    """A meta-path finder that finds sqlglot's modules among source files only."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "sqlglot" and not name.startswith("sqlglot."):
            return None
        for entry in path if path is not None else sys.path:
            spec = importlib.machinery.FileFinder(entry or ".", _SOURCES).find_spec(name)
            if spec is not None:
                return spec
        return None


def use_pure_sqlglot() -> None:
    if any(name == "sqlglot" or name.startswith("sqlglot.") for name in sys.modules):
        raise RuntimeError("sqlglot is already imported: call use_pure_sqlglot() first")
    sys.meta_path.insert(0, _SourcesOnly())  # type: ignore[arg-type]


def compiled() -> bool:
    """Whether the sqlglot this process imported is the compiled one."""
    from sqlglot import tokens

    return bool(tokens.SQLGLOTC_INSTALLED)
