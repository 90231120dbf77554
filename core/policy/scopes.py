"""Data scopes in evaluation: the scope a step declares or the policy assigns it, and every
object a statement touches outside it (denied before any rule is read)."""

from __future__ import annotations

from collections.abc import Mapping

from guardrails_core.model import (
    Context,
    DataScope,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    Reason,
    StatementEffect,
    Verdict,
)
from guardrails_core.policy.compiled import CompiledScope, Policy
from guardrails_core.policy.patterns import (
    LOCATION_KINDS,
    ObjectPatternSet,
    PatternError,
)

_OUT_OF_SCOPE_KINDS = LOCATION_KINDS - {ObjectKind.STAGE} | {ObjectKind.ROLE}


def resolve_scope(policy: Policy, context: Context) -> tuple[CompiledScope | None, Reason | None]:
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


def scope_violations(
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
