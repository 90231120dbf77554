"""Row estimates in policy evaluation: a statement that would touch too many rows is a mass
mutation, whatever its WHERE clause looks like.

Pure: the estimates are measured at the edge (`guardrails_core.impact`) and handed in. They only
ever add intents or reasons; a small estimate never clears a mass mutation the analyzer found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from guardrails_core.intent.sql.trees import updated
from guardrails_core.model import (
    Analysis,
    Finding,
    ImpactEstimate,
    ImpactSource,
    Intent,
    ObjectAction,
    Operation,
    Reason,
    StatementEffect,
    Verdict,
    sorted_intents,
)
from guardrails_core.policy.schema import ImpactSpec

# The statements whose row impact is measured (DROP and TRUNCATE touch the whole table anyway).
MEASURED_OPERATIONS = frozenset({Operation.UPDATE, Operation.DELETE, Operation.MERGE})
ESTIMATE_REQUIRED_RULE = "impact:estimate-required"


def is_measured(statement: StatementEffect) -> bool:
    """True for the statements a probe estimates: SQL UPDATE, DELETE and MERGE."""
    return Operation.of(statement) in MEASURED_OPERATIONS


def excess(estimate: ImpactEstimate, spec: ImpactSpec) -> str | None:
    """Which limit `estimate` exceeds (as a phrase for people), or None when it is within them."""
    rows = estimate.estimated_rows
    if estimate.source is ImpactSource.NONE or rows is None:
        return None
    if spec.max_rows is not None and rows > spec.max_rows:
        return f"exceeds impact.max_rows {spec.max_rows:,}"
    if (
        spec.max_fraction is not None
        and estimate.fraction is not None
        and rows >= spec.min_rows_for_fraction
        and estimate.fraction > spec.max_fraction
    ):
        return f"exceeds impact.max_fraction {spec.max_fraction:.0%}"
    return None


class ImpactJudgement(NamedTuple):
    """The analysis with estimate-based mass mutations added, and fail-closed reasons by
    statement index (statements that needed an estimate and have none)."""

    analysis: Analysis
    reasons: Mapping[int, Reason] = MappingProxyType({})


def apply_impact(
    analysis: Analysis,
    spec: ImpactSpec,
    impact: Sequence[ImpactEstimate] | None,
) -> ImpactJudgement:
    """Fold measured row estimates into `analysis`.

    `impact` is None when nobody measured (a static check): then only `require_estimate`
    matters, and it fails closed.
    """
    if impact is None and not spec.require_estimate:
        return ImpactJudgement(analysis)
    by_index = {estimate.statement_index: estimate for estimate in impact or ()}
    statements: list[StatementEffect] = []
    reasons: dict[int, Reason] = {}
    for statement in analysis.statements:
        if not is_measured(statement):
            statements.append(statement)
            continue
        estimate = by_index.get(statement.index)
        if estimate is not None:
            statement = _with_estimate(statement, estimate, spec)
        if spec.require_estimate and (estimate is None or estimate.estimated_rows is None):
            reasons[statement.index] = _estimate_missing(statement, estimate, measured=impact)
        statements.append(statement)
    intents: set[Intent] = set()
    for statement in statements:
        intents.update(statement.intents)
    updated = analysis.model_copy(
        update={"statements": tuple(statements), "intents": sorted_intents(intents)}
    )
    return ImpactJudgement(updated, reasons)


def _with_estimate(
    statement: StatementEffect, estimate: ImpactEstimate, spec: ImpactSpec
) -> StatementEffect:
    over = excess(estimate, spec)
    if over is None:
        return statement
    finding = Finding(
        intent=Intent.MASS_MUTATION,
        message=f"{statement.operation} would touch {estimate.describe()}: {over}",
        span=statement.span,
    )
    return updated(
        statement,
        {
            "intents": sorted_intents({*statement.intents, Intent.MASS_MUTATION}),
            # First, so that the deciding rule cites the estimate.
            "findings": (finding, *statement.findings),
        },
    )


def _estimate_missing(
    statement: StatementEffect,
    estimate: ImpactEstimate | None,
    *,
    measured: Sequence[ImpactEstimate] | None,
) -> Reason:
    if measured is None:
        why = (
            "this check did not probe the database (guard the command through an adapter that "
            "passes its live connection)"
        )
    elif estimate is None:
        why = "the probe returned no estimate for it"
    else:
        why = f"the probe failed ({estimate.error or 'no estimate'})"
    targets = tuple(
        ref.qualified for ref in statement.objects if ref.action is not ObjectAction.READ
    )
    return Reason(
        rule_id=ESTIMATE_REQUIRED_RULE,
        decision=Verdict.DENY,
        message=f"{statement.operation} needs a row estimate (impact.require_estimate) and "
        f"{why}, so it does not run (fail closed); raise impact.probe_timeout_ms, keep the "
        "table's statistics current, or turn require_estimate off",
        statement_index=statement.index,
        objects=targets,
    )


__all__ = [
    "ESTIMATE_REQUIRED_RULE",
    "MEASURED_OPERATIONS",
    "ImpactJudgement",
    "apply_impact",
    "excess",
    "is_measured",
]
