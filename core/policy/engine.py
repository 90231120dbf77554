"""Policy evaluation: ordered rules, first match wins, the built-in baseline last.

Pure functions of (analysis, policy, context, now). Each statement, and each statement embedded
in it, is judged by the first rule that matches it; a statement's verdict is the most severe of
those; the command's verdict is the most severe over its statements. Data scopes are checked
before the rules: touching an object outside the step's scope is denied whatever the rules say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from guardrails_core.model import (
    ActorKind,
    Analysis,
    CommandKind,
    Context,
    DataScope,
    ImpactEstimate,
    Intent,
    Mode,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    PolicyRef,
    Reason,
    StatementEffect,
    Verdict,
)
from guardrails_core.policy.impact import apply_impact
from guardrails_core.policy.patterns import (
    LOCATION_KINDS,
    MATCH_ALL,
    NO_REAL_PATHS,
    ObjectPatternSet,
    PatternError,
    TemplatedPatternSet,
    compile_globs,
    glob_matches,
)
from guardrails_core.policy.regex import compile_policy_regex
from guardrails_core.policy.schema import (
    ContextMatch,
    Defaults,
    ImpactSpec,
    Match,
    PolicyFile,
    Require,
    RuleSpec,
    ScopeSpec,
)

_Path = tuple[str | int, ...]


class PolicyCompileError(ValueError):
    """Semantic problems found while compiling a schema-valid file (patterns, dialects)."""

    def __init__(self, problems: list[tuple[_Path, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


# --------------------------------------------------------------------------- compiled forms


@dataclass(frozen=True)
class ContextMatcher:
    actors: frozenset[ActorKind]
    fields: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    tags: tuple[re.Pattern[str], ...]
    labels: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def compile(cls, spec: ContextMatch) -> ContextMatcher:
        fields = tuple(
            (name, compile_globs(getattr(spec, name)))
            for name in (
                "actor_id",
                "ai_model",
                "environment",
                "orchestrator",
                "pipeline",
                "task",
                "connection",
                "owner",
            )
            if getattr(spec, name)
        )
        labels = tuple((key, compile_globs([value])[0]) for key, value in spec.labels.items())
        return cls(frozenset(spec.actor), fields, compile_globs(spec.tags), labels)

    @cached_property
    def empty(self) -> bool:
        return not (self.actors or self.fields or self.tags or self.labels)

    def matches(self, context: Context, *, unknown_matches: bool) -> bool:
        if self.actors and context.actor.kind not in self.actors:
            return False
        for name, patterns in self.fields:
            value = _context_value(context, name)
            if value is None:
                if not unknown_matches:
                    return False
                continue
            if not glob_matches(patterns, value):
                return False
        if self.tags and not any(glob_matches(self.tags, tag) for tag in context.tags):
            return False
        if self.labels:
            present = dict(context.labels)
            for key, pattern in self.labels:
                value = present.get(key)
                if value is None:
                    if not unknown_matches:
                        return False
                elif not pattern.fullmatch(value.lower()):
                    return False
        return True


def _context_value(context: Context, name: str) -> str | None:
    if name == "actor_id":
        return context.actor.id
    if name == "ai_model":
        return context.actor.model
    value = getattr(context, name)
    return None if value is None else str(value)


@dataclass(frozen=True)
class CompiledRule:
    id: str
    spec: RuleSpec
    origin: str
    index: int
    intents: frozenset[Intent]
    all_intents: frozenset[Intent]
    not_intents: frozenset[Intent]
    operations: tuple[re.Pattern[str], ...]
    objects: ObjectPatternSet | None
    templated: TemplatedPatternSet | None  # object patterns naming context labels
    object_kinds: frozenset[ObjectKind]
    object_actions: frozenset[ObjectAction]
    kinds: frozenset[CommandKind]
    dialects: frozenset[str]
    context: ContextMatcher
    unless: ContextMatcher | None

    @property
    def decision(self) -> Verdict:
        return self.spec.decision

    @cached_property
    def fail_closed(self) -> bool:
        """Unknown facts count as matching for rules that can block (deny, review, gates)."""
        return self.spec.decision is not Verdict.ALLOW or self.spec.require is not None

    def operation_matches(self, operation: str) -> bool:
        """Glob match on the operation, memoised: operations repeat across statements."""
        found = self._operation_memo.get(operation)
        if found is None:
            found = self._operation_memo[operation] = glob_matches(self.operations, operation)
        return found

    @cached_property
    def _operation_memo(self) -> dict[str, bool]:
        return {}

    @cached_property
    def has_object_conditions(self) -> bool:
        return bool(self.objects or self.templated or self.object_kinds or self.object_actions)


@dataclass(frozen=True)
class CompiledScope:
    name: str
    read: ObjectPatternSet
    write: ObjectPatternSet
    read_text: tuple[str, ...]
    write_text: tuple[str, ...]
    applies_to: ContextMatcher | None


@dataclass(frozen=True)
class Policy:
    """A compiled policy: its own rules, then (unless disabled) the built-in baseline's."""

    id: str
    sha256: str
    source: str | None
    mode: Mode
    default: Verdict
    defaults: Defaults
    rules: tuple[CompiledRule, ...]
    scopes: dict[str, CompiledScope]
    spec: PolicyFile
    baseline_included: bool

    @cached_property
    def ref(self) -> PolicyRef:
        return PolicyRef(id=self.id, sha256=self.sha256, source=self.source)

    @property
    def impact(self) -> ImpactSpec:
        """Row-impact limits and reversibility settings (the file's `impact:` section)."""
        return self.spec.impact

    @cached_property
    def estimates_optional(self) -> Policy:
        """This policy without `impact.require_estimate` (itself when that is off): for a
        judgement made before any connection exists, when each statement is judged again,
        measured, at its connection, which enforces it."""
        if not self.spec.impact.require_estimate:
            return self
        impact = self.spec.impact.model_copy(update={"require_estimate": False})
        return replace(self, spec=self.spec.model_copy(update={"impact": impact}))

    def with_mode(self, mode: Mode | None) -> Policy:
        if mode is None or mode is self.mode:
            return self
        return Policy(
            self.id,
            self.sha256,
            self.source,
            mode,
            self.default,
            self.defaults,
            self.rules,
            self.scopes,
            self.spec,
            self.baseline_included,
        )

    def candidates(
        self, intents: frozenset[Intent], actions: frozenset[ObjectAction]
    ) -> tuple[CompiledRule, ...]:
        """The rules, in order, whose intent and object-action filters admit a statement with
        these intents and actions (the two commonest reasons a rule does not apply). Memoised:
        few combinations recur across statements."""
        key = (intents, actions)
        found = self._candidates.get(key)
        if found is None:
            if len(self._candidates) >= 4096:
                self._candidates.clear()
            found = self._candidates[key] = tuple(
                rule
                for rule in self.rules
                if not (rule.intents and rule.intents.isdisjoint(intents))
                and not (rule.object_actions and rule.object_actions.isdisjoint(actions))
            )
        return found

    @cached_property
    def _candidates(
        self,
    ) -> dict[tuple[frozenset[Intent], frozenset[ObjectAction]], tuple[CompiledRule, ...]]:
        return {}

    def rule(self, rule_id: str) -> CompiledRule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


def compile_policy(
    spec: PolicyFile,
    *,
    sha256: str,
    source: str | None,
    default_id: str,
    baseline: Policy | None,
    origin: str = "policy",
) -> Policy:
    problems: list[tuple[_Path, str]] = []
    rules: list[CompiledRule] = []
    seen_ids: set[str] = set()
    for index, rule in enumerate(spec.rules):
        if rule.id in seen_ids:
            problems.append((("rules", index, "id"), f"rule id {rule.id!r} is used twice"))
        seen_ids.add(rule.id)
        compiled = _compile_rule(rule, index, origin, problems)
        if compiled is not None:
            rules.append(compiled)
    scopes: dict[str, CompiledScope] = {}
    for name, scope in spec.scopes.items():
        compiled_scope = _compile_scope(name, scope, ("scopes", name), problems)
        if compiled_scope is not None:
            scopes[name] = compiled_scope
    _check_dialect(spec.defaults.dialect, ("defaults", "dialect"), problems)
    if problems:
        raise PolicyCompileError(problems)
    if baseline is not None:
        rules.extend(baseline.rules)
    return Policy(
        id=spec.id or default_id,
        sha256=sha256,
        source=source,
        mode=spec.mode,
        default=spec.default,
        defaults=spec.defaults,
        rules=tuple(rules),
        scopes=scopes,
        spec=spec,
        baseline_included=baseline is not None,
    )


def _compile_rule(
    rule: RuleSpec, index: int, origin: str, problems: list[tuple[_Path, str]]
) -> CompiledRule | None:
    match: Match = rule.match
    where = ("rules", index, "match", "objects")
    templated = None
    try:
        templated = TemplatedPatternSet.parse(match.objects)
    except PatternError as error:
        problems.append((where, str(error)))
    objects = None if templated else _compile_patterns(match.objects, where, problems)
    dialects: set[str] = set()
    for position, name in enumerate(match.dialect):
        canonical = _check_dialect(name, ("rules", index, "match", "dialect", position), problems)
        if canonical:
            dialects.add(canonical)
    if rule.otherwise is not None and rule.require is None:
        problems.append(
            (
                ("rules", index, "otherwise"),
                "'otherwise' only applies to a rule with 'require' conditions",
            )
        )
    return CompiledRule(
        id=rule.id,
        spec=rule,
        origin=origin,
        index=index,
        intents=frozenset(match.intents),
        all_intents=frozenset(match.all_intents),
        not_intents=frozenset(match.not_intents),
        operations=compile_globs([operation.upper() for operation in match.operations]),
        objects=objects,
        templated=templated,
        object_kinds=frozenset(match.object_kinds),
        object_actions=frozenset(match.object_actions),
        kinds=frozenset(match.kind),
        dialects=frozenset(dialects),
        context=ContextMatcher.compile(match),
        unless=ContextMatcher.compile(rule.unless) if rule.unless is not None else None,
    )


def _compile_patterns(
    texts: list[str], path: _Path, problems: list[tuple[_Path, str]]
) -> ObjectPatternSet | None:
    if not texts:
        return None
    for position, text in enumerate(texts):
        try:
            ObjectPatternSet.parse([text])
        except PatternError as error:
            problems.append(((*path, position), str(error)))
            return None
    return ObjectPatternSet.parse(texts)


def _compile_scope(
    name: str, scope: ScopeSpec, path: _Path, problems: list[tuple[_Path, str]]
) -> CompiledScope | None:
    read = _compile_patterns(scope.read, (*path, "read"), problems)
    write = _compile_patterns(scope.write, (*path, "write"), problems)
    if not scope.read and not scope.write:
        problems.append((path, f"scope {name!r} allows nothing: give it read and/or write"))
        return None
    nothing = ObjectPatternSet((), ())
    return CompiledScope(
        name=name,
        read=read or nothing,
        write=write or nothing,
        read_text=tuple(scope.read),
        write_text=tuple(scope.write),
        applies_to=ContextMatcher.compile(scope.applies_to) if scope.applies_to else None,
    )


def _check_dialect(name: str | None, path: _Path, problems: list[tuple[_Path, str]]) -> str | None:
    if name is None:
        return None
    from guardrails_core.intent.sql import UnknownDialectError, resolve_dialect

    try:
        return resolve_dialect(name)
    except UnknownDialectError as error:
        problems.append((path, str(error)))
        return None


# --------------------------------------------------------------------------- evaluation


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
    scope, scope_problem = _resolve_scope(policy, context)
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
            outcomes.extend(_scope_violations(scope, statement, real_paths))
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
        actions = frozenset(ref.action for ref in effect.objects)
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
    if what == "objects":
        touched = "; ".join(str(ref) for ref in actual_values) or "none"
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


def _names(values: Any) -> str:
    return ", ".join(sorted(str(getattr(value, "value", value)) for value in values))


# --------------------------------------------------------------------------- data scopes

_OUT_OF_SCOPE_KINDS = LOCATION_KINDS - {ObjectKind.STAGE} | {ObjectKind.ROLE}


def _resolve_scope(policy: Policy, context: Context) -> tuple[CompiledScope | None, Reason | None]:
    declared: DataScope | None = context.data_scope
    if declared is not None:
        if declared.read is None and declared.write is None:
            found = policy.scopes.get(declared.name)
            if found is None:
                known = ", ".join(sorted(policy.scopes)) or "none defined"
                return None, Reason(
                    rule_id=f"scope:{declared.name}",
                    decision=Verdict.DENY,
                    message=f"the step declares data scope {declared.name!r}, which policy "
                    f"{policy.id!r} does not define (known scopes: {known})",
                )
            return found, None
        try:
            read = ObjectPatternSet.parse(declared.read or ())
            write = ObjectPatternSet.parse(declared.write or ())
        except PatternError as error:
            return None, Reason(
                rule_id=f"scope:{declared.name}",
                decision=Verdict.DENY,
                message=f"invalid data scope {declared.name!r}: {error}",
            )
        return CompiledScope(
            declared.name,
            read,
            write,
            tuple(declared.read or ()),
            tuple(declared.write or ()),
            None,
        ), None
    for scope in policy.scopes.values():
        if scope.applies_to is not None and scope.applies_to.matches(
            context, unknown_matches=False
        ):
            return scope, None
    return None, None


def _scope_violations(
    scope: CompiledScope, statement: StatementEffect, real_paths: Mapping[str, str]
) -> list[Reason]:
    violations: list[Reason] = []
    for ref in statement.objects:
        if ref.kind in _OUT_OF_SCOPE_KINDS:
            continue
        inside_write = scope.write.matches(ref, unknown_matches=False, real_paths=real_paths)
        if ref.action is ObjectAction.READ:
            allowed = inside_write or scope.read.matches(
                ref, unknown_matches=False, real_paths=real_paths
            )
            listed = (*scope.read_text, *scope.write_text)
        else:
            allowed = inside_write
            listed = scope.write_text
        if not allowed:
            violations.append(_scope_reason(scope, statement.index, ref, listed))
    return violations


def _scope_reason(
    scope: CompiledScope, index: int, ref: ObjectRef, listed: tuple[str, ...]
) -> Reason:
    verb = "reads" if ref.action is ObjectAction.READ else f"{ref.action.value}s"
    unqualified = (
        " (unqualified: give the schema, or set default_schema)"
        if (ref.schema_name is None and ref.kind not in (ObjectKind.SCHEMA, ObjectKind.DATABASE))
        else ""
    )
    return Reason(
        rule_id=f"scope:{scope.name}",
        decision=Verdict.DENY,
        message=f"{verb} {ref.kind.value} {ref.qualified}{unqualified}, outside data scope "
        f"{scope.name!r} (allowed: {', '.join(listed) or 'nothing'})",
        statement_index=index,
        objects=(ref.qualified,),
    )
