"""`check`: analyse a command and judge it against a policy, returning one Decision.

Pure apart from two memo tables: the analysis LRU (in intent/) and a bounded table of decisions
for repeated identical commands in an identical context, which returns a copy with a fresh id and
time. Decisions that depended on the clock (time-window conditions) are never memoised.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

from guardrails_core.intent import DEFAULT_CACHE, AnalysisCache, analyze, resolve_dialect
from guardrails_core.locations import real_paths
from guardrails_core.lru import BoundedLRU, HashedKey
from guardrails_core.model import (
    Analysis,
    CommandKind,
    CommandRef,
    Context,
    Decision,
    ImpactEstimate,
    Intent,
    Mode,
    ObjectKind,
    Reason,
    Verdict,
    configure_fingerprint_key,
    current_fingerprint_key,
    fingerprint_text,
    random_id,
    renewed,
    trusted,
)
from guardrails_core.policy import Policy, baseline_policy, evaluate, load_policy
from guardrails_core.policy.patterns import NO_REAL_PATHS
from guardrails_core.settings import Settings
from guardrails_core.version import ANALYZER_VERSION

_DecisionKey = HashedKey


class DecisionCache(BoundedLRU[_DecisionKey, Decision]):
    """Bounded LRU of decision templates keyed by command, policy and context."""


DEFAULT_DECISIONS = DecisionCache()


def configure_caches(max_entries: int) -> None:
    """Size this process's analysis and decision caches (``Settings.cache_size``; 0 turns both
    off). Guards and the CLI call it with their settings."""
    DEFAULT_CACHE.resize(max_entries)
    DEFAULT_DECISIONS.resize(max_entries)


def configure_fingerprints(key: bytes) -> None:
    """Key this process's command fingerprints (``Settings.fingerprint_secret()``); a new key
    empties the caches, whose analyses and decisions carry fingerprints of the old one."""
    if current_fingerprint_key() != key:
        configure_fingerprint_key(key)
        DEFAULT_CACHE.clear()
        DEFAULT_DECISIONS.clear()


# Commands larger or deeper than this are denied unread (Settings.max_input_bytes/_depth): the
# analyzer's time and memory grow with the input, and no real statement comes near.
DEFAULT_MAX_INPUT_BYTES = 1_000_000
DEFAULT_MAX_INPUT_DEPTH = 10_000
INPUT_BOUNDS_RULE = "input:too-large"
_NESTING = str.maketrans({"(": "(", "[": "(", "{": "(", ")": ")", "]": ")", "}": ")"})


class InputTooLarge(ValueError):
    """A command over the configured size or nesting depth: refused, never analysed."""


def input_bounds_problem(text: str, *, max_bytes: int, max_depth: int) -> str | None:
    """Why ``text`` is over the bounds (a message that says what to do), or None.

    Depth counts open brackets of any kind, quoted or not: it over-counts, which can only deny.
    """
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > max_bytes else len(text)
    if size > max_bytes:
        return (
            f"the command is {size} bytes, over the limit of {max_bytes} "
            "(GUARDRAILS_MAX_INPUT_BYTES); split it, or raise the limit if it is genuine"
        )
    if text.count("(") + text.count("[") + text.count("{") <= max_depth:
        return None
    depth = deepest = 0
    for char in text.translate(_NESTING):
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")" and depth:
            depth -= 1
    if deepest > max_depth:
        return (
            f"the command nests brackets {deepest} deep, over the limit of {max_depth} "
            "(GUARDRAILS_MAX_INPUT_DEPTH); flatten it, or raise the limit if it is genuine"
        )
    return None


def check_input_bounds(text: str, *, max_bytes: int, max_depth: int) -> None:
    """Raise ``InputTooLarge`` when ``text`` is over the bounds (the CLI exits 2 on it)."""
    problem = input_bounds_problem(text, max_bytes=max_bytes, max_depth=max_depth)
    if problem is not None:
        raise InputTooLarge(problem)


def _refused(
    text: str,
    problem: str,
    kind: CommandKind,
    dialect: str | None,
    policy: Policy,
    context: Context,
) -> Decision:
    """The deny of a command over the bounds: nothing of it analysed, a stub of it kept."""
    shown = text[:2000] + (f" ... ({len(text) - 2000} more characters)" if len(text) > 2000 else "")
    return Decision(
        decision=Verdict.DENY,
        mode=policy.mode,
        fingerprint=fingerprint_text(text),
        intents=(Intent.UNPARSEABLE,),
        statements=(),
        reasons=(Reason(rule_id=INPUT_BOUNDS_RULE, decision=Verdict.DENY, message=problem),),
        command=CommandRef(kind=kind, dialect=dialect, text=_printable(shown)),
        policy=policy.ref,
        context=context,
        analyzer_version=ANALYZER_VERSION,
    )


CHECKED_NOTHING_RULE = "guard:checked-nothing"


def checked_nothing(policy: Policy, context: Context, *, unit: str = "guarded task") -> Decision:
    """The decision about a guarded unit of work that ran and sent no command the guard could
    see: an allow that says so, or a deny when the policy sets `require_checks`."""
    required = policy.spec.require_checks
    message = (
        f"this {unit} sent no command the guard could see (no command field of its operator, "
        "no statement through a guarded hook or engine): whatever it did, through a raw driver "
        "or a client library, was neither judged nor recorded. Send its SQL through a hook or "
        "name its command (commands=[...])"
        + (
            "; the policy requires a check (require_checks: true), so it fails"
            if required
            else "; set require_checks: true in the policy to fail such runs"
        )
    )
    verdict = Verdict.DENY if required else Verdict.ALLOW
    return Decision(
        decision=verdict,
        mode=policy.mode,
        fingerprint=fingerprint_text(""),
        intents=(Intent.UNKNOWN,),
        statements=(),
        reasons=(Reason(rule_id=CHECKED_NOTHING_RULE, decision=verdict, message=message),),
        command=CommandRef(kind=CommandKind.SQL, text=""),
        policy=policy.ref,
        context=context,
        analyzer_version=ANALYZER_VERSION,
    )


_DEFAULT_CONTEXT = Context()  # immutable: one instance serves every call without a context


def _printable(text: str) -> str:
    """The command as it can be stored and serialised (lone surrogates escaped)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# Settings by the GUARDRAILS_* variables they were read from, and policies by the version of
# their file: `check()` without a policy reads the settings on every call, at dictionary cost.
_POLICY_VARIABLES = ("GUARDRAILS_CONFIG", "GUARDRAILS_POLICY", "GUARDRAILS_MODE")
_ENCODE_KEY = getattr(os.environ, "encodekey", None)
_POLICY_KEYS = tuple(map(_ENCODE_KEY, _POLICY_VARIABLES)) if _ENCODE_KEY else ()
_SETTINGS: BoundedLRU[tuple[object, ...], Settings] = BoundedLRU(16)
_POLICIES: BoundedLRU[tuple[str, int, int, int], Policy] = BoundedLRU(16)


def _policy_environment() -> tuple[object, ...]:
    """The raw values of the policy variables, the key of the settings they were read from.
    `os.environ.get` raises and catches a KeyError for each unset variable, a few microseconds
    on every check: CPython's os.environ keeps its values in a plain dict, read here directly."""
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict) and _POLICY_KEYS:
        return tuple(map(data.get, _POLICY_KEYS))
    return tuple(os.environ.get(variable) for variable in _POLICY_VARIABLES)


# The baseline of the last policy variables that named no file (the usual case on every call).
_LAST_BASELINE: list[tuple[tuple[object, ...], Policy] | None] = [None]


def configured_policy(settings: Settings | None = None) -> Policy:
    """The policy of the settings (`GUARDRAILS_POLICY` or the config file's `policy`, with
    `GUARDRAILS_MODE` forced on it), else the built-in baseline; what the CLI judges with, and
    `check()` when given no policy. `settings`: Settings.load() of this process's environment.
    A policy file is read again when it changes."""
    if settings is None:
        key = _policy_environment()
        last = _LAST_BASELINE[0]
        if last is not None and last[0] == key:
            return last[1]
        settings = _SETTINGS.get(key)
        if settings is None or settings.config_file is not None:  # a file may change: reread
            settings = Settings.load()
            _SETTINGS.put(key, settings)
        if settings.policy is None and settings.config_file is None:
            # Nothing on disk to change: the same variables give the same baseline.
            baseline = baseline_policy().with_mode(settings.mode)
            _LAST_BASELINE[0] = (key, baseline)
            return baseline
    if settings.policy is None:
        return baseline_policy().with_mode(settings.mode)
    path = str(settings.policy)
    try:
        stat = os.stat(path)
    except OSError:
        return load_policy(path)  # raises PolicyError naming the file and what is wrong
    version = (path, stat.st_mtime_ns, stat.st_size, stat.st_ino)
    policy = _POLICIES.get(version)
    if policy is None:
        policy = load_policy(path)
        _POLICIES.put(version, policy)
    return policy.with_mode(settings.mode)


def _local_files(analysis: Analysis) -> list[str]:
    """The files shell statements touch (SQL inside them names files on its database server)."""
    return [
        ref.name
        for statement in analysis.statements
        for effect in statement.walk()
        if effect.kind is CommandKind.SHELL
        for ref in effect.objects
        if ref.kind is ObjectKind.FILE
    ]


def check(
    text: str,
    *,
    kind: CommandKind | str | None = None,
    dialect: str | None = None,
    policy: Policy | None = None,
    context: Context | None = None,
    mode: Mode | None = None,
    now: datetime | None = None,
    analysis_cache: AnalysisCache | None = DEFAULT_CACHE,
    decision_cache: DecisionCache | None = DEFAULT_DECISIONS,
    impact: Sequence[ImpactEstimate] | None = None,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    max_input_depth: int = DEFAULT_MAX_INPUT_DEPTH,
    local_paths: bool = False,
    analysis: Analysis | None = None,
) -> Decision:
    """Judge `text` (SQL or shell) against `policy`; when None, the policy of the settings, as
    the CLI does (`configured_policy()`: GUARDRAILS_POLICY and GUARDRAILS_MODE, else the baseline).

    `dialect` and `kind` default to the policy's `defaults`; `context.default_schema` (or the
    policy's) qualifies unqualified names; `mode` overrides the policy's enforce/audit mode.
    `impact` holds row estimates measured on the live database (`guardrails_core.impact`);
    they become part of the decision, and decisions with estimates are never memoised.
    A command over `max_input_bytes` or `max_input_depth` is denied without being analysed.
    `local_paths`: the command runs on this host, so the files of its shell statements are
    also judged where their symlinks lead (read from the filesystem at each call).
    `analysis`: `text` as the analyzer already read it (`intent.sent_alone`), not read again;
    such decisions are not memoised (the memo is keyed by the text alone).
    """
    policy = (policy or configured_policy()).with_mode(mode)
    context = context or _DEFAULT_CONTEXT
    defaults = policy.defaults
    command_kind = (
        CommandKind.SQL
        if kind is None and defaults.kind is None
        else CommandKind(kind or defaults.kind or CommandKind.SQL)
    )
    if dialect and command_kind is CommandKind.SQL:
        resolve_dialect(dialect)  # a misspelt dialect is the caller's error: raise, naming it
    dialect = dialect or (defaults.dialect if command_kind is CommandKind.SQL else None)
    if context.environment is None and defaults.environment is not None:
        context = context.model_copy(update={"environment": defaults.environment})
    default_schema = context.default_schema or defaults.default_schema
    default_catalog = context.default_catalog or defaults.default_catalog
    problem = input_bounds_problem(text, max_bytes=max_input_bytes, max_depth=max_input_depth)
    if problem is not None:
        return _refused(text, problem, command_kind, dialect, policy, context)

    key = HashedKey(
        (
            text,
            command_kind,
            dialect,
            policy.sha256,
            policy.mode,
            policy.impact.require_estimate,  # off in `Policy.estimates_optional`, same file
            context,
        )
    )
    resolve_links = local_paths and command_kind is CommandKind.SHELL
    memoise = (
        decision_cache is not None
        and now is None
        and impact is None
        and analysis is None
        and not resolve_links
    )
    if memoise and decision_cache is not None:
        cached = decision_cache.get(key)
        if cached is not None:
            return renewed(cached, decision_id=random_id(), decided_at=datetime.now(UTC))

    analysis = analysis or analyze(
        text,
        kind=command_kind,
        dialect=dialect,
        default_schema=default_schema,
        default_catalog=default_catalog,
        cache=analysis_cache,
    )
    evaluation = evaluate(
        analysis,
        policy,
        context,
        now=now,
        impact=impact,
        real_paths=real_paths(_local_files(analysis)) if resolve_links else NO_REAL_PATHS,
    )
    judged = evaluation.analysis or analysis
    decision = trusted(
        Decision,
        decision=evaluation.verdict,
        mode=policy.mode,
        fingerprint=analysis.fingerprint,
        intents=judged.intents,
        statements=judged.statements,
        reasons=tuple(evaluation.reasons),
        command=trusted(
            CommandRef, kind=command_kind, dialect=analysis.dialect, text=_printable(text)
        ),
        policy=policy.ref,
        context=context,
        analyzer_version=analysis.analyzer_version,
        impact=tuple(impact or ()),
    )
    if memoise and decision_cache is not None and not evaluation.time_sensitive:
        decision_cache.put(key, decision)
    return decision
