"""access-guardrails core: analyse what a pipeline command will do, judge it, record it.

The public surface is small: `analyze`, `check`, `load_policy`, `Guard` and the decision model's
main types; every other name is imported from its module (`guardrails_core.model`, ...).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from guardrails_core.extras import function_over_submodule, gc_paused

if TYPE_CHECKING:
    from guardrails_core.check import check
    from guardrails_core.guard import Guard
    from guardrails_core.intent import analyze
    from guardrails_core.model import Actor, Analysis, Context, Decision, Intent, Verdict
    from guardrails_core.policy import Policy, PolicyError, load_policy

    __version__: str

# Where each public name lives: imported on first use, so `import guardrails_core` (and the
# CLI's --help) does not pay for the analyser, the policy engine and pydantic up front. Every
# other name is imported from its module (`guardrails_core.model`, `.policy`, `.version`, ...).
_HOME = {
    "Actor": "guardrails_core.model",
    "Analysis": "guardrails_core.model",
    "Context": "guardrails_core.model",
    "Decision": "guardrails_core.model",
    "Guard": "guardrails_core.guard",
    "Intent": "guardrails_core.model",
    "Policy": "guardrails_core.policy",
    "PolicyError": "guardrails_core.policy",
    "Verdict": "guardrails_core.model",
    "analyze": "guardrails_core.intent",
    "load_policy": "guardrails_core.policy",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return import_module("guardrails_core.version").PACKAGE_VERSION
    if name in _HOME:
        with gc_paused():
            return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'guardrails_core' has no attribute {name!r}")


function_over_submodule(__name__, "check")

__all__ = [
    "Actor",
    "Analysis",
    "Context",
    "Decision",
    "Guard",
    "Intent",
    "Policy",
    "PolicyError",
    "Verdict",
    "analyze",
    "check",
    "load_policy",
]
