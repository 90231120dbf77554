"""SQL -> statement effects (placeholder; being written)."""

from __future__ import annotations

from guardrails_core.model import CommandKind, Finding, Intent, StatementEffect


def analyze_sql(text: str, dialect: str | None, *, depth: int = 0) -> list[StatementEffect]:
    return [
        StatementEffect(
            index=0, kind=CommandKind.SQL, dialect=dialect, text=text, span=(0, len(text)),
            operation="UNKNOWN", intents=(Intent.UNPARSEABLE,),
            findings=(Finding(intent=Intent.UNPARSEABLE, message="placeholder"),),
        )
    ]
