"""Policy evaluation: ordered rules, first match wins, the built-in baseline last.

Pure functions of (analysis, policy, context, now). Each statement, and each statement embedded
in it, is judged by the first rule that matches it; a statement's verdict is the most severe of
those; the command's verdict is the most severe over its statements. Data scopes are checked
before the rules: touching an object outside the step's scope is denied whatever the rules say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from guardrails_core.model import (
    Analysis,
    Context,
    ImpactEstimate,
    Intent,
    ObjectAction,
    Reason,
    StatementEffect,
    Verdict,
)
from guardrails_core.policy.compiled import CompiledRule, Policy
from guardrails_core.policy.impact import apply_impact
from guardrails_core.policy.patterns import (
    MATCH_ALL,
    NO_REAL_PATHS,
    ObjectPatternSet,
    TemplatedPatternSet,
    compile_globs,
    glob_matches,
)
from guardrails_core.policy.regex import compile_policy_regex
from guardrails_core.policy.schema import Require
from guardrails_core.policy.scopes import resolve_scope, scope_violations


@dataclass
class Evaluation:
    """The verdict and its reasons, before it is wrapped into a Decision."""

    verdict: Verdict
    reasons: list[Reason]
    time_sensitive: bool = False
    scope: str | None = None
    # The analysis as judged: with mass mutations found by row estimates (see policy/impact.py).
    analysis: Analysis | None = None


def evaluate(
    analysis: Analysis,
    policy: Policy,
    context: Context,
    *,
    now: datetime | None = None,
    impact: Sequence[ImpactEstimate] | None = None,
    real_paths: Mapping[str, str] = NO_REAL_PATHS,
) -> Evaluation:
    """Judge `analysis`. `impact` holds row estimates measured at the edge (None: not measured);
    a statement over the policy's `impact` limits is judged as a mass mutation.
    `real_paths`: where local paths lead once symlinks are resolved
    (`guardrails_core.locations.real_paths`, measured at the edge)."""
    judged = apply_impact(analysis, policy.spec.impact, impact)
    analysis = judged.analysis
    state = _State(
        analysis=analysis, policy=policy, context=context, now=now, real_paths=real_paths
    )
    scope, scope_problem = resolve_scope(policy, context)
    reasons: list[Reason] = []
    if scope_problem is not None:
        reasons.append(scope_problem)
    if not analysis.statements:
        reasons.append(
            Reason(
                rule_id="empty", decision=Verdict.ALLOW, message="no statements: nothing will run"
            )
        )
    for statement in analysis.statements:
        effects = statement.walk() if statement.embedded else (statement,)
        outcomes = [state.judge(effect, statement.index) for effect in effects]
        unmeasured = judged.reasons.get(statement.index)
        if unmeasured is not None:
            outcomes.append(unmeasured)
        if scope is not None:
            outcomes.extend(scope_violations(scope, statement, real_paths))
        worst = outcomes[0] if len(outcomes) == 1 else max(outcomes, key=_severity)
        reasons.append(worst)
        # Other blocking reasons on the same statement are worth showing too (once each).
        shown = [worst]
        for other in outcomes:
            if other.decision is not Verdict.ALLOW and other not in shown:
                shown.append(other)
                reasons.append(other)
    if len(reasons) > 1:
        reasons.sort(key=_most_severe_first)
    # Most severe first: the first reason carries the verdict (there is always one).
    verdict = reasons[0].decision
    return Evaluation(
        verdict=verdict,
        reasons=reasons,
        time_sensitive=state.time_sensitive,
        scope=scope.name if scope else None,
        analysis=analysis,
    )


def _severity(reason: Reason) -> int:
    return reason.decision.severity


def _most_severe_first(reason: Reason) -> tuple[int, int]:
    return (
        -reason.decision.severity,
        reason.statement_index if reason.statement_index is not None else -1,
    )


@dataclass
class _State:
    analysis: Analysis
    policy: Policy
    context: Context
    now: datetime | None  # read from the clock when a rule first needs it (time windows)
    real_paths: Mapping[str, str]
    time_sensitive: bool = False

    def clock(self) -> datetime:
        if self.now is None:
            self.now = datetime.now(UTC)
        return self.now

    def judge(self, effect: StatementEffect, index: int) -> Reason:
        intents = frozenset(effect.intents)
        if Intent.UNPARSEABLE in intents:
            # What was not understood is never allowed, whatever a rule's context says.
            for rule in self.policy.rules:
                if rule.decision is Verdict.ALLOW:
                    continue
                matched = _match(rule, effect, self.context, intents, self.real_paths)[0]
                if matched is not None:
                    return self._outcome(rule, effect, index, matched)
            return Reason(
                rule_id="analysis-failed",
                decision=Verdict.DENY,
                message="the analyzer could not understand this statement, and no rule may "
                "allow what is not understood (fail closed)",
                statement_index=index,
            )
        actions = frozenset([ref.action for ref in effect.objects])
        for rule in self.policy.candidates(intents, actions):
            matched_objects = _match(rule, effect, self.context, intents, self.real_paths)[0]
            if matched_objects is None:
                continue
            return self._outcome(rule, effect, index, matched_objects)
        return Reason(
            rule_id="default",
            decision=self.policy.default,
            message=f"no rule matched; the policy's default is {self.policy.default.value}",
            statement_index=index,
        )

    def _outcome(
        self, rule: CompiledRule, effect: StatementEffect, index: int, objects: tuple[str, ...]
    ) -> Reason:
        message = _rule_message(rule, effect)
        decision = rule.decision
        unmet: list[str] = []
        if rule.spec.require is not None:
            unmet = self._unmet(rule.spec.require)
            if unmet:
                only_approval = all(item.startswith("an approval") for item in unmet)
                decision = rule.spec.otherwise or (
                    Verdict.REVIEW if only_approval else Verdict.DENY
                )
                message = f"{message} (missing: {'; '.join(unmet)})"
        if decision is Verdict.REVIEW:
            needed = rule.spec.require.approval if rule.spec.require else None
            approvers = _valid_approvers(
                self.analysis, self.context, needed.approvers if needed else []
            )
            if len(approvers) >= (needed.count if needed else 1) and not [
                item for item in unmet if not item.startswith("an approval")
            ]:
                decision = Verdict.ALLOW
                message = f"{message} (approved by {', '.join(sorted(approvers))})"
        return _reason(rule.id, decision, message, index, objects, tuple(unmet))

    def _unmet(self, require: Require) -> list[str]:
        context, unmet = self.context, []
        if require.ticket is not None:
            pattern = compile_policy_regex(require.ticket.pattern)
            if not any(pattern.fullmatch(ticket) for ticket in context.tickets):
                shown = "" if require.ticket.pattern == ".+" else f" matching {pattern.pattern}"
                unmet.append(f"a change ticket{shown}")
        if require.environment and context.environment not in require.environment:
            unmet.append(
                f"environment {' or '.join(require.environment)} "
                f"(this is {context.environment or 'unknown'})"
            )
        if require.actor and context.actor.kind not in require.actor:
            unmet.append(
                f"actor {' or '.join(kind.value for kind in require.actor)} "
                f"(this is {context.actor.kind.value})"
            )
        if require.time_window is not None:
            self.time_sensitive = True
            window = require.time_window
            local = self.clock().astimezone(ZoneInfo(window.timezone))
            day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
            clock = local.strftime("%H:%M")
            if day not in window.days or not (window.start <= clock < window.end):
                unmet.append(
                    f"time window {','.join(window.days)} {window.start}-{window.end} "
                    f"{window.timezone} (now {day} {clock})"
                )
        if require.approval is not None:
            approvers = _valid_approvers(self.analysis, self.context, require.approval.approvers)
            if len(approvers) < require.approval.count:
                count = require.approval.count
                unmet.append(
                    f"an approval{'s' if count > 1 else ''} of this exact command "
                    f"({count} needed, {len(approvers)} given; fingerprint "
                    f"{self.analysis.fingerprint[:19]}...)"
                )
        return unmet


_REASONS: dict[tuple[Any, ...], Reason] = {}


def _reason(
    rule_id: str,
    decision: Verdict,
    message: str,
    index: int,
    objects: tuple[str, ...],
    unmet: tuple[str, ...],
) -> Reason:
    """Reasons are immutable and repeat across commands (same rule, message and position):
    share one instance instead of validating a new one each time."""
    key = (rule_id, decision, message, index, objects, unmet)
    found = _REASONS.get(key)
    if found is None:
        if len(_REASONS) >= 20_000:
            _REASONS.clear()
        found = _REASONS[key] = Reason(
            rule_id=rule_id,
            decision=decision,
            message=message,
            statement_index=index,
            objects=objects,
            unmet=unmet,
        )
    return found


def _valid_approvers(analysis: Analysis, context: Context, allowed: list[str]) -> set[str]:
    """Distinct approvers whose approval is bound to this command's fingerprint."""
    patterns = compile_globs(allowed) if allowed else ()
    return {
        approval.approver
        for approval in context.approvals
        if approval.fingerprint == analysis.fingerprint
        and (not patterns or glob_matches(patterns, approval.approver))
    }


def _rule_message(rule: CompiledRule, effect: StatementEffect) -> str:
    base = rule.spec.message or rule.spec.description or f"rule {rule.id}"
    if rule.intents:
        for finding in effect.findings:
            if finding.intent in rule.intents:
                return f"{base}: {finding.message}"
        for inner in effect.embedded:
            for finding in inner.findings:
                if finding.intent in rule.intents:
                    return f"{base}: {finding.message}"
    return base


def explain_match(
    rule: CompiledRule,
    effect: StatementEffect,
    context: Context,
    real_paths: Mapping[str, str] = NO_REAL_PATHS,
) -> tuple[tuple[str, ...] | None, str]:
    """Whether `rule` applies to `effect` (None if not; else the objects that made it apply), and
    a sentence saying why it does or does not."""
    matched, why = _match(rule, effect, context, frozenset(effect.intents), real_paths)
    if why is None:
        return matched, "matches"
    what, actual_values, wanted_values = why
    actual, wanted = _names(actual_values), _names(wanted_values)
    if what == "excluded intents":
        return matched, f"the statement has {actual}, which the rule excludes (not_intents)"
    if what == "context":
        return matched, "context does not match (actor, environment, pipeline, tags, ...)"
    if what == "unless":
        return matched, "its 'unless' condition holds for this context"
    if what in ("objects", "reads"):
        touched = "; ".join(str(ref) for ref in actual_values) or "none"
        if what == "reads":
            return matched, f"it reads no object that fits its 'reads' patterns ({touched})"
        return matched, f"no touched object fits its object conditions ({touched})"
    return matched, f"{what} {actual or 'none'} not in {wanted}"


# Why a rule did not match: (condition, what the statement has, what the rule wants). Plain
# tuples of the values at hand on the hot path; `explain_match` turns them into sentences.
_Mismatch = tuple[str, Any, Any]


def _match(
    rule: CompiledRule,
    effect: StatementEffect,
    context: Context,
    intents: frozenset[Intent],
    real_paths: Mapping[str, str],
) -> tuple[tuple[str, ...] | None, _Mismatch | None]:
    unknown = rule.fail_closed
    if rule.intents and rule.intents.isdisjoint(intents):
        return None, ("intents", effect.intents, rule.intents)
    if rule.all_intents and not rule.all_intents <= intents:
        return None, ("intents (all of)", effect.intents, rule.all_intents)
    if rule.not_intents and not rule.not_intents.isdisjoint(intents):
        return None, ("excluded intents", rule.not_intents & intents, ())
    if rule.operations and not rule.operation_matches(effect.operation):
        return None, ("operation", (effect.operation,), rule.spec.match.operations)
    if rule.kinds and effect.kind not in rule.kinds:
        return None, ("kind", (effect.kind,), rule.kinds)
    if (
        rule.dialects
        and effect.dialect not in rule.dialects
        and not (effect.dialect is None and unknown)
    ):
        return None, ("dialect", (effect.dialect,), rule.dialects)
    if not rule.context.empty and not rule.context.matches(context, unknown_matches=unknown):
        return None, ("context", (), ())
    if rule.unless is not None and rule.unless.matches(context, unknown_matches=False):
        return None, ("unless", (), ())
    if rule.reads is not None and not _reads(rule.reads, effect, context, unknown, real_paths):
        return None, ("reads", effect.objects, ())
    if not rule.has_object_conditions:
        return (), None
    objects = rule.objects
    if rule.templated is not None:
        # A label this context lacks could name anything: it may fit a block, never an allow.
        objects = rule.templated.resolve(dict(context.labels)) or (MATCH_ALL if unknown else None)
        if objects is None:
            return None, ("objects", effect.objects, ())
    matched = tuple(
        ref.qualified
        for ref in effect.objects
        if (not rule.object_kinds or ref.kind in rule.object_kinds)
        and (not rule.object_actions or ref.action in rule.object_actions)
        and (
            objects is None or objects.matches(ref, unknown_matches=unknown, real_paths=real_paths)
        )
    )
    if not matched or (rule.spec.match.every_object and len(matched) != len(effect.objects)):
        return None, ("objects", effect.objects, ())
    return matched, None


def _reads(
    patterns: TemplatedPatternSet | ObjectPatternSet,
    effect: StatementEffect,
    context: Context,
    unknown: bool,
    real_paths: Mapping[str, str],
) -> bool:
    """Whether `effect` reads an object that fits `patterns` (labels filled from `context`)."""
    if isinstance(patterns, TemplatedPatternSet):
        resolved = patterns.resolve(dict(context.labels))
        if resolved is None:  # a label this context lacks: may fit a block, never an allow
            return unknown
        patterns = resolved
    return any(
        ref.action is ObjectAction.READ
        and patterns.matches(ref, unknown_matches=unknown, real_paths=real_paths)
        for ref in effect.objects
    )


def _names(values: Any) -> str:
    return ", ".join(sorted(str(getattr(value, "value", value)) for value in values))
