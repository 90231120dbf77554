"""Intent analysis: what a SQL or shell command will do, statement by statement.

`analyze` is a pure function of its arguments (memoised in a bounded LRU keyed by the exact text,
kind, dialect and default names), and never raises: what it cannot understand is `unparseable`.
"""

from __future__ import annotations

from guardrails_core.intent.sql import UnknownDialectError, analyze_sql, resolve_dialect
from guardrails_core.intent.sql.client_scripts import client_script
from guardrails_core.intent.sql.trees import updated
from guardrails_core.lru import BoundedLRU
from guardrails_core.model import (
    Analysis,
    CommandKind,
    Finding,
    Intent,
    ObjectRef,
    StatementEffect,
    fingerprint_text,
    sorted_intents,
    trusted,
)
from guardrails_core.version import ANALYZER_VERSION

__all__ = [
    "AnalysisCache",
    "UnknownDialectError",
    "analyze",
    "resolve_dialect",
    "sent_alone",
]

_CacheKey = tuple[str, CommandKind, str | None, str | None, str | None]


class AnalysisCache(BoundedLRU[_CacheKey, Analysis]):
    """A bounded, thread-safe LRU of analyses. Analyses are immutable, so sharing them is safe."""


DEFAULT_CACHE = AnalysisCache()


def analyze(
    text: str,
    *,
    kind: CommandKind | str = CommandKind.SQL,
    dialect: str | None = None,
    default_schema: str | None = None,
    default_catalog: str | None = None,
    cache: AnalysisCache | None = DEFAULT_CACHE,
) -> Analysis:
    """What `text` will do: one StatementEffect per statement, plus the union of intents/objects."""
    command_kind = kind if type(kind) is CommandKind else CommandKind(kind)
    key: _CacheKey = (text, command_kind, dialect, default_schema, default_catalog)
    if cache is not None:
        cached = cache.get(key)
        if cached is not None:
            return cached
    try:
        canonical = resolve_dialect(dialect) if command_kind is CommandKind.SQL else None
    except UnknownDialectError:
        canonical = dialect  # analyze_sql reports the unknown dialect as unparseable
    statements = _statements(text, command_kind, dialect, default_schema, default_catalog)
    analysis = trusted(
        Analysis,
        kind=command_kind,
        dialect=canonical,
        fingerprint=fingerprint_text(text),
        statements=tuple(statements),
        intents=_union_intents(statements),
        objects=_union_objects(statements),
        analyzer_version=ANALYZER_VERSION,
    )
    if cache is not None:
        cache.put(key, analysis)
    return analysis


def sent_alone(statement: StatementEffect) -> Analysis | None:
    """The analysis of one SQL statement of a script, sent alone (a hook that splits the script
    sends its statements one by one), read from the script's reading: nothing parsed again, and
    the statement judged as it runs, after the ones before it. None for a statement with
    statements embedded in it (their places are the script's)."""
    if statement.kind is not CommandKind.SQL or statement.embedded:
        return None
    shift = statement.span[0]
    findings = tuple(
        finding
        if finding.span is None
        else finding.model_copy(update={"span": (finding.span[0] - shift, finding.span[1] - shift)})
        for finding in statement.findings
    )
    alone = updated(statement, {"index": 0, "span": (0, len(statement.text)), "findings": findings})
    return Analysis(
        kind=CommandKind.SQL,
        dialect=statement.dialect,
        fingerprint=fingerprint_text(statement.text),
        statements=(alone,),
        intents=_union_intents([alone]),
        objects=_union_objects([alone]),
        analyzer_version=ANALYZER_VERSION,
    )


def _statements(
    text: str,
    kind: CommandKind,
    dialect: str | None,
    default_schema: str | None,
    default_catalog: str | None,
) -> list[StatementEffect]:
    if not _is_unicode(text):
        # Lone surrogates cannot be sent to a database (or serialised): nothing to trust here.
        shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return [_crashed(shown, kind, dialect, ValueError("the text is not valid Unicode"))]
    try:
        script = client_script(text, dialect) if kind is CommandKind.SQL else None
        if script is not None:  # sqlite3 `.mode csv`: the text is input to the engine's shell
            from guardrails_core.intent.shell import analyze_shell

            return analyze_shell(script)
        if kind is CommandKind.SQL:
            return analyze_sql(
                text, dialect, default_schema=default_schema, default_catalog=default_catalog
            )
        from guardrails_core.intent.shell import analyze_shell

        return analyze_shell(text)
    except Exception as error:  # both analyzers promise not to raise; this is the last guard
        return [_crashed(text, kind, dialect, error)]


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _crashed(
    text: str, kind: CommandKind, dialect: str | None, error: Exception
) -> StatementEffect:
    message = f"analyzer error: {error!r}"
    return StatementEffect(
        index=0,
        kind=kind,
        dialect=dialect,
        text=text.strip(),
        span=(0, len(text)),
        operation="UNKNOWN",
        intents=(Intent.UNPARSEABLE,),
        findings=(Finding(intent=Intent.UNPARSEABLE, message=message),),
    )


def _union_intents(statements: list[StatementEffect]) -> tuple[Intent, ...]:
    if len(statements) == 1:
        return sorted_intents(set(statements[0].intents))
    found: set[Intent] = set()
    for statement in statements:
        found.update(statement.intents)
    return sorted_intents(found)


def _union_objects(statements: list[StatementEffect]) -> tuple[ObjectRef, ...]:
    if len(statements) == 1 and len(statements[0].objects) < 2:
        return statements[0].objects  # nothing to tell apart (most statements name one object)
    # The enum members themselves, not their `.value` (a slow descriptor): string enums hash
    # and compare as their values, so the same objects are told apart.
    seen: dict[tuple[str, str, str], ObjectRef] = {}
    for statement in statements:
        for ref in statement.objects:
            seen.setdefault((ref.kind, ref.action, ref.qualified), ref)
    return tuple(seen.values())
