"""access-guardrails core: analyse what a pipeline command will do, judge it, record it.

The public surface is small: `analyze`, `check`, `load_policy` and the decision model.
"""

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
from guardrails_core.policy import Policy, PolicyError, baseline_policy, load_policy, parse_policy
from guardrails_core.version import ANALYZER_VERSION, PACKAGE_VERSION

__version__ = PACKAGE_VERSION

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
