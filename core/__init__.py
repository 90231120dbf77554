"""access-guardrails core: analyse what a pipeline command will do, judge it, record it.

The public surface is small: `analyze`, `check`, `load_policy` and the decision model.
"""

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guardrails_core.check import check
    from guardrails_core.intent import analyze
    from guardrails_core.model import (
        Actor,
        ActorKind,
        Analysis,
        Approval,
        CommandKind,
        Context,
        DataScope,
        Decision,
        ImpactEstimate,
        ImpactSource,
        Intent,
        Mode,
        ObjectAction,
        ObjectKind,
        ObjectRef,
        Reason,
        Reversal,
        ReversalKind,
        StatementEffect,
        Verdict,
    )
    from guardrails_core.policy import (
        Policy,
        PolicyError,
        baseline_policy,
        load_policy,
        parse_policy,
    )
    from guardrails_core.version import ANALYZER_VERSION

    __version__: str

# Where each public name lives: imported on first use, so `import guardrails_core` (and the
# CLI's --help) does not pay for the analyser, the policy engine and pydantic up front.
_HOME = {
    "analyze": "guardrails_core.intent",
    "Policy": "guardrails_core.policy",
    "PolicyError": "guardrails_core.policy",
    "baseline_policy": "guardrails_core.policy",
    "load_policy": "guardrails_core.policy",
    "parse_policy": "guardrails_core.policy",
    "ANALYZER_VERSION": "guardrails_core.version",
    "PACKAGE_VERSION": "guardrails_core.version",
    "__version__": "guardrails_core.version",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return import_module("guardrails_core.version").PACKAGE_VERSION
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    if name in __all__:
        return getattr(import_module("guardrails_core.model"), name)
    raise AttributeError(f"module 'guardrails_core' has no attribute {name!r}")


class _Package(types.ModuleType):
    """`guardrails_core.check` is both a submodule and the function it defines. Importing the
    submodule binds the module as the package's `check`; this keeps the function there, as the
    eager `from guardrails_core.check import check` did."""

    @property
    def check(self) -> Any:
        return import_module("guardrails_core.check").check

    @check.setter
    def check(self, value: Any) -> None:
        pass  # the import system binding the submodule: the function stays


if not TYPE_CHECKING:
    sys.modules[__name__].__class__ = _Package

__all__ = [
    "ANALYZER_VERSION",
    "Actor",
    "ActorKind",
    "Analysis",
    "Approval",
    "CommandKind",
    "Context",
    "DataScope",
    "Decision",
    "ImpactEstimate",
    "ImpactSource",
    "Intent",
    "Mode",
    "ObjectAction",
    "ObjectKind",
    "ObjectRef",
    "Policy",
    "PolicyError",
    "Reason",
    "Reversal",
    "ReversalKind",
    "StatementEffect",
    "Verdict",
    "analyze",
    "baseline_policy",
    "check",
    "load_policy",
    "parse_policy",
]
