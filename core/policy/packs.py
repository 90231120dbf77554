"""Built-in rule packs: rules for one tool's own housekeeping, placed between a policy's own
rules and the baseline (`packs: [dbt]` in a policy file, or added by the tool's adapter)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable

from guardrails_core.policy.compiled import Policy

_PACKS: dict[str, Policy] = {}


def pack_policy(name: str) -> Policy:
    """The pack `name` (core/policy/NAME.yaml), compiled once; its rules' origin is
    `pack:NAME`."""
    found = _PACKS.get(name)
    if found is None:
        from guardrails_core.policy.loader import builtin_policy

        found = _PACKS[name] = builtin_policy(f"{name}.yaml", origin=f"pack:{name}")
    return found


def has_pack(policy: Policy, name: str) -> bool:
    return any(rule.origin == f"pack:{name}" for rule in policy.rules)


def with_packs(policy: Policy, names: Iterable[str]) -> Policy:
    """`policy` with the rules of each pack it lacks inserted before the baseline's rules. The
    result's sha256 covers the packs, so decisions say which rules judged them."""
    packs = [pack_policy(name) for name in dict.fromkeys(names) if not has_pack(policy, name)]
    if not packs:
        return policy
    own = tuple(rule for rule in policy.rules if rule.origin != "baseline")
    baseline = tuple(rule for rule in policy.rules if rule.origin == "baseline")
    added = tuple(rule for pack in packs for rule in pack.rules)
    digest = hashlib.sha256(
        "\n".join([policy.sha256, *(pack.sha256 for pack in packs)]).encode()
    ).hexdigest()
    return dataclasses.replace(policy, rules=(*own, *added, *baseline), sha256=digest)


__all__ = ["has_pack", "pack_policy", "with_packs"]
