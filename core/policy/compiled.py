"""Policies compiled for evaluation: rules with their patterns and context matchers, data
scopes, and the `Policy` that holds them (`compile_policy` turns a schema-valid file into one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

from guardrails_core.model import (
    ActorKind,
    CommandKind,
    Context,
    Intent,
    Mode,
    ObjectAction,
    ObjectKind,
    PolicyRef,
    Verdict,
)
from guardrails_core.policy.patterns import (
    ObjectPatternSet,
    PatternError,
    TemplatedPatternSet,
    compile_globs,
    glob_matches,
)
from guardrails_core.policy.schema import (
    CONTEXT_GLOB_FIELDS,
    ContextMatch,
    Defaults,
    ImpactSpec,
    Match,
    PolicyFile,
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
            for name in CONTEXT_GLOB_FIELDS
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
    reads: TemplatedPatternSet | ObjectPatternSet | None
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
        mode = Mode(mode)  # a caller's "audit": decisions are built from this member, unchecked
        if mode is self.mode:
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


def _object_patterns(
    values: list[str], where: _Path, problems: list[tuple[_Path, str]]
) -> tuple[TemplatedPatternSet | None, ObjectPatternSet | None]:
    """Object patterns as written: naming context labels (filled per decision), else plain."""
    templated = None
    try:
        templated = TemplatedPatternSet.parse(values)
    except PatternError as error:
        problems.append((where, str(error)))
    return templated, None if templated else _compile_patterns(values, where, problems)


def _compile_rule(
    rule: RuleSpec, index: int, origin: str, problems: list[tuple[_Path, str]]
) -> CompiledRule | None:
    match: Match = rule.match
    templated, objects = _object_patterns(
        match.objects, ("rules", index, "match", "objects"), problems
    )
    read_templated, read_plain = _object_patterns(
        match.reads, ("rules", index, "match", "reads"), problems
    )
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
        reads=read_templated or read_plain,
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
