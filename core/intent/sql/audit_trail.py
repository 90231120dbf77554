"""access-guardrails' own audit tables (rules/guard_switches.yaml `audit_tables`) changed by SQL:
what was recorded is rewritten or erased, in whatever store holds them. Reading them is fine."""

from __future__ import annotations

from guardrails_core.intent import guard_switches
from guardrails_core.intent.sql.statement import _Statement
from guardrails_core.model import Intent, ObjectAction, ObjectKind


def audit_trail_changed(statement: _Statement) -> None:
    changed = sorted(
        ref.qualified
        for ref in statement.objects.values()
        if ref.kind is ObjectKind.TABLE and ref.action is not ObjectAction.READ
    )
    tables = guard_switches.audit_tables(changed)
    if tables:
        statement.add(
            Intent.PRIVILEGE,
            f"changes {tables[0]}, access-guardrails' audit trail: what was recorded is rewritten "
            "or gone",
        )
