"""Row estimates in policy evaluation (pure): `max_rows` / `max_fraction` make a statement a
mass mutation that the rules decide on; `require_estimate` fails closed without one."""

from __future__ import annotations

import textwrap

import pytest

from guardrails_core import Intent, Verdict, analyze, check
from guardrails_core.model import ImpactEstimate, ImpactSource
from guardrails_core.policy import Policy, baseline_policy, parse_policy
from guardrails_core.policy.impact import ESTIMATE_REQUIRED_RULE, apply_impact
from guardrails_core.policy.schema import ImpactSpec

DELETE = "DELETE FROM events WHERE created_at < now() - interval '30 days'"


def measured(
    rows: int | None,
    table_rows: int | None = 100_000,
    *,
    index: int = 0,
    source: ImpactSource = ImpactSource.EXPLAIN,
    error: str | None = None,
) -> ImpactEstimate:
    fraction = rows / table_rows if rows is not None and table_rows else None
    return ImpactEstimate(
        statement_index=index,
        table="public.events",
        estimated_rows=rows,
        table_rows=table_rows,
        fraction=fraction,
        source=source if rows is not None else ImpactSource.NONE,
        error=error,
    )


def policy(impact: str = "{}", rules: str = "") -> Policy:
    text = f"version: 1\nimpact: {impact}\n" + (
        f"rules:\n{textwrap.dedent(rules)}" if rules else ""
    )
    return parse_policy(text, source="policy.yaml")


@pytest.mark.parametrize(
    ("impact", "estimate", "verdict"),
    [
        pytest.param("{}", measured(99_990), Verdict.DENY, id="over max_rows (default 10,000)"),
        pytest.param("{}", measured(10_000), Verdict.ALLOW, id="at max_rows"),
        pytest.param("{}", measured(3_000, 10_000), Verdict.DENY, id="over max_fraction (20%)"),
        pytest.param("{}", measured(900, 1_000), Verdict.ALLOW, id="fraction of a small table"),
        pytest.param(
            "{min_rows_for_fraction: 0}", measured(900, 1_000), Verdict.DENY, id="no floor"
        ),
        pytest.param("{max_rows: 100}", measured(101), Verdict.DENY, id="own max_rows"),
        pytest.param(
            "{max_rows: null, max_fraction: null}", measured(99_990), Verdict.ALLOW, id="off"
        ),
        pytest.param("{}", measured(1_000), Verdict.ALLOW, id="1%"),
        pytest.param("{}", measured(None, error="timed out"), Verdict.ALLOW, id="failed: static"),
        pytest.param(
            "{require_estimate: true}",
            measured(None, error="timed out"),
            Verdict.DENY,
            id="failed: fail closed",
        ),
        pytest.param(
            "{require_estimate: true}",
            measured(5, source=ImpactSource.COUNT),
            Verdict.ALLOW,
            id="required and present",
        ),
    ],
)
def test_estimates_against_limits(impact: str, estimate: ImpactEstimate, verdict: Verdict) -> None:
    decision = check(DELETE, dialect="postgres", policy=policy(impact), impact=[estimate])
    assert decision.decision is verdict, decision.reasons
    assert decision.impact == (estimate,)
    over = Intent.MASS_MUTATION in decision.intents
    assert over is (verdict is Verdict.DENY and estimate.estimated_rows is not None)


def test_the_deciding_reason_cites_the_estimate_and_its_source() -> None:
    decision = check(DELETE, dialect="postgres", impact=[measured(99_990)])
    reason = decision.reasons[0]
    assert reason.rule_id == "baseline.mass-mutation"
    assert reason.message == (
        "mass mutation: DELETE would touch ~99,990 of 100,000 rows (100.0%) of public.events, "
        "by explain: exceeds impact.max_rows 10,000"
    )
    finding = decision.statements[0].findings[0]
    assert finding.intent is Intent.MASS_MUTATION and finding.span == (0, len(DELETE))


def test_a_policy_can_send_large_changes_for_review_instead() -> None:
    routed = policy(
        rules="""\
        - id: large-changes-need-review
          match: {intents: [mass_mutation], operations: [DELETE, UPDATE]}
          decision: review
        """
    )
    decision = check(DELETE, dialect="postgres", policy=routed, impact=[measured(50_000)])
    assert decision.decision is Verdict.REVIEW
    assert decision.reasons[0].rule_id == "large-changes-need-review"


def test_a_small_estimate_never_clears_what_the_analyzer_found() -> None:
    decision = check("DELETE FROM events", dialect="postgres", impact=[measured(0)])
    assert decision.decision is Verdict.DENY
    assert decision.reasons[0].rule_id == "baseline.mass-mutation"


@pytest.mark.parametrize(
    ("impact", "expected"),
    [
        pytest.param(None, "did not probe the database", id="not measured"),
        pytest.param([], "returned no estimate", id="no estimate for it"),
        pytest.param([measured(None, error="timed out after 500 ms")], "timed out", id="failed"),
    ],
)
def test_required_estimates_fail_closed(impact: list[ImpactEstimate] | None, expected: str) -> None:
    strict = policy("{require_estimate: true}")
    decision = check(DELETE, dialect="postgres", policy=strict, impact=impact)
    assert decision.decision is Verdict.DENY
    reason = decision.reasons[0]
    assert reason.rule_id == ESTIMATE_REQUIRED_RULE and expected in reason.message
    assert reason.objects == ("events",) and reason.statement_index == 0
    # Statements that are not measured are not affected.
    assert check("INSERT INTO events VALUES (1)", policy=strict).decision is Verdict.ALLOW


def test_estimates_apply_to_their_own_statement() -> None:
    script = "SELECT 1; DELETE FROM a WHERE id < 10; UPDATE b SET x = 1 WHERE y = 2"
    decision = check(
        script, dialect="postgres", impact=[measured(5, index=1), measured(50_000, index=2)]
    )
    assert [s.index for s in decision.statements if Intent.MASS_MUTATION in s.intents] == [2]
    assert decision.reasons[0].statement_index == 2


def test_without_estimates_nothing_changes() -> None:
    analysis = analyze(DELETE, dialect="postgres")
    judged = apply_impact(analysis, ImpactSpec(), None)
    assert judged.analysis is analysis and judged.reasons == {}


def test_decisions_with_estimates_are_not_memoised() -> None:
    first = check(DELETE, dialect="postgres", impact=[measured(99_990)])
    second = check(DELETE, dialect="postgres", impact=[measured(10)])
    assert (first.decision, second.decision) == (Verdict.DENY, Verdict.ALLOW)
    assert check(DELETE, dialect="postgres").impact == ()


def test_impact_section_defaults() -> None:
    spec = ImpactSpec()
    assert (spec.max_rows, spec.max_fraction, spec.require_estimate) == (10_000, 0.2, False)
    assert (spec.probe_timeout_ms, spec.pre_image_max_rows, spec.soft_drop) == (500, 100_000, True)
    assert spec.retention_days == 7 and baseline_policy().impact == spec
