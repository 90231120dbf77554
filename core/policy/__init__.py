"""Policies: ordered rules, data scopes and compliance conditions, with the baseline last."""

from guardrails_core.policy.compiled import Policy
from guardrails_core.policy.engine import Evaluation, evaluate
from guardrails_core.policy.loader import (
    PolicyError,
    Problem,
    baseline_policy,
    load_policy,
    parse_policy,
)

__all__ = [
    "Evaluation",
    "Policy",
    "PolicyError",
    "Problem",
    "baseline_policy",
    "evaluate",
    "load_policy",
    "parse_policy",
]
