"""The policy file format (YAML), as pydantic models. Loading and error reporting is in loader.py.

```yaml
version: 1
id: acme-warehouse
mode: enforce                    # or audit: record what would be blocked, let it run
defaults: {dialect: postgres, default_schema: public}
scopes:
  orders_etl:
    read: ["raw.*", "staging.*"]
    write: ["staging.orders*"]
    applies_to: {pipeline: ["nightly_orders"]}
rules:                            # ordered, first match wins, the built-in baseline comes last
  - id: prod-deletes-need-ticket
    match: {environment: [prod], intents: [delete]}
    require: {ticket: true, approval: true}
    decision: allow
    message: Deletes in prod need a change ticket and an approval.
    examples: {deny: ["DELETE FROM orders"]}
tests:
  - {text: "DROP TABLE t", expect: deny}
impact:                           # live-database probes (used when an adapter passes a probe)
  max_rows: 10000                 # a larger estimate makes the statement a mass_mutation
  max_fraction: 0.2
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from guardrails_core.model import (
    ActorKind,
    CommandKind,
    Intent,
    Mode,
    ObjectAction,
    ObjectKind,
    Verdict,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    """Let a single value stand for a one-element list (`intents: delete`)."""
    if value is None:
        return []
    if isinstance(value, str | int | bool):
        return [value]
    return value


# The context fields a rule matches with globs (one value each; tags and labels match apart).
CONTEXT_GLOB_FIELDS = (
    "actor_id",
    "ai_model",
    "environment",
    "orchestrator",
    "pipeline",
    "task",
    "connection",
    "owner",
)


class ContextMatch(_Strict):
    """Conditions on who runs a command and where. Lists are any-of; globs are allowed."""

    actor: list[ActorKind] = Field(default_factory=list)
    actor_id: list[str] = Field(default_factory=list)
    ai_model: list[str] = Field(default_factory=list)
    environment: list[str] = Field(default_factory=list)
    orchestrator: list[str] = Field(default_factory=list)
    pipeline: list[str] = Field(default_factory=list)
    task: list[str] = Field(default_factory=list)
    connection: list[str] = Field(default_factory=list)
    owner: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("actor", *CONTEXT_GLOB_FIELDS, "tags", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)


class Match(ContextMatch):
    """What a rule applies to: the statement (intents, operation, objects) and its context."""

    intents: list[Intent] = Field(default_factory=list)
    all_intents: list[Intent] = Field(default_factory=list)
    not_intents: list[Intent] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=list)
    objects: list[str] = Field(default_factory=list)
    object_kinds: list[ObjectKind] = Field(default_factory=list)
    object_actions: list[ObjectAction] = Field(default_factory=list)
    # Every object the statement touches must fit the object conditions (not just one of them).
    every_object: bool = False
    # And it reads an object that fits one of these patterns (the dbt pack: a DELETE keyed by
    # the running model's temporary batch); patterns may name context labels as in `objects`.
    reads: list[str] = Field(default_factory=list)
    kind: list[CommandKind] = Field(default_factory=list)
    dialect: list[str] = Field(default_factory=list)

    @field_validator(
        "intents",
        "all_intents",
        "not_intents",
        "operations",
        "objects",
        "object_kinds",
        "object_actions",
        "reads",
        "kind",
        "dialect",
        mode="before",
    )
    @classmethod
    def _listify_statement(cls, value: Any) -> Any:
        return _as_list(value)


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TimeWindow(_Strict):
    days: list[Day] = Field(default_factory=lambda: list(ALL_DAYS))
    start: str = "00:00"
    end: str = "24:00"
    timezone: str = "UTC"

    @field_validator("days", mode="before")
    @classmethod
    def _expand_days(cls, value: Any) -> Any:
        """Accept `mon`, `Monday` and ranges like `mon-fri` (wrapping: `fri-mon`)."""
        days: list[str] = []
        for item in _as_list(value):
            first, _, last = str(item).strip().lower().partition("-")
            first, last = first[:3], (last or first)[:3]
            if first not in ALL_DAYS or last not in ALL_DAYS:
                days.append(first if first not in ALL_DAYS else last)  # rejected by the Literal
                continue
            position = ALL_DAYS.index(first)
            while True:
                days.append(ALL_DAYS[position])
                if ALL_DAYS[position] == last:
                    break
                position = (position + 1) % len(ALL_DAYS)
        return days

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f"{value!r} is not a time of day like '09:30'")
        if int(hours) > 24 or int(minutes) > 59 or (int(hours) == 24 and int(minutes) > 0):
            raise ValueError(f"{value!r} is not a time of day between 00:00 and 24:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (e.g. 'Europe/Paris')") from None
        return value


class ApprovalRequirement(_Strict):
    count: int = Field(default=1, ge=1)
    approvers: list[str] = Field(default_factory=list)


class TicketRequirement(_Strict):
    pattern: str = r".+"

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        from guardrails_core.policy.regex import compile_policy_regex

        compile_policy_regex(value)
        return value


class Require(_Strict):
    """Compliance conditions: all must hold for the rule's decision; otherwise `otherwise`."""

    ticket: TicketRequirement | None = None
    approval: ApprovalRequirement | None = None
    environment: list[str] = Field(default_factory=list)
    actor: list[ActorKind] = Field(default_factory=list)
    time_window: TimeWindow | None = None

    @field_validator("ticket", mode="before")
    @classmethod
    def _ticket(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        if isinstance(value, str):
            return {"pattern": value}
        return value

    @field_validator("approval", mode="before")
    @classmethod
    def _approval(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        if isinstance(value, int):
            return {"count": value}
        return value

    @field_validator("environment", "actor", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)


class Example(_Strict):
    text: str
    kind: CommandKind | None = None
    dialect: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


def _examples(value: Any) -> Any:
    return [{"text": item} if isinstance(item, str) else item for item in _as_list(value)]


class Examples(_Strict):
    allow: list[Example] = Field(default_factory=list)
    review: list[Example] = Field(default_factory=list)
    deny: list[Example] = Field(default_factory=list)

    @field_validator("allow", "review", "deny", mode="before")
    @classmethod
    def _wrap(cls, value: Any) -> Any:
        return _examples(value)


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
    description: str | None = None
    match: Match = Field(default_factory=lambda: Match())
    unless: ContextMatch | None = None
    require: Require | None = None
    decision: Verdict
    otherwise: Verdict | None = None
    message: str | None = None
    examples: Examples = Field(default_factory=Examples)


class ScopeBinding(ContextMatch):
    """Context conditions under which a scope applies without the task naming it."""


class ScopeSpec(_Strict):
    description: str | None = None
    read: list[str] = Field(default_factory=list)
    write: list[str] = Field(default_factory=list)
    applies_to: ScopeBinding | None = None

    @field_validator("read", "write", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)


class Defaults(_Strict):
    dialect: str | None = None
    kind: CommandKind | None = None
    default_schema: str | None = None
    default_catalog: str | None = None
    environment: str | None = None


class PolicyTest(_Strict):
    text: str
    expect: Verdict
    kind: CommandKind | None = None
    dialect: str | None = None
    rule: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class ImpactSpec(_Strict):
    """Row-impact limits and reversibility, applied when a live-database probe is available.

    An UPDATE/DELETE/MERGE whose estimate exceeds ``max_rows``, or ``max_fraction`` of its
    table (counted only from ``min_rows_for_fraction`` rows up, so that one row of a ten-row
    table is not a mass mutation), gains the ``mass_mutation`` intent and is judged by the rules
    like any other mass mutation. ``require_estimate`` denies such a statement when it could not
    be measured. ``pre_image_max_rows`` bounds the rows copied aside before a change runs;
    ``soft_drop`` quarantines dropped tables for ``retention_days`` instead of destroying them;
    ``require_backup`` stops a statement whose way back could not be kept.
    """

    max_rows: int | None = Field(default=10_000, ge=0)
    max_fraction: float | None = Field(default=0.2, gt=0)
    min_rows_for_fraction: int = Field(default=1_000, ge=0)
    require_estimate: bool = False
    probe_timeout_ms: int = Field(default=500, ge=1, le=60_000)
    pre_image_max_rows: int = Field(default=100_000, ge=0)
    soft_drop: bool = True
    retention_days: float = Field(default=7, gt=0, le=3650)
    require_backup: bool = False

    @field_validator("max_fraction")
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        if value is not None and value > 1:
            raise ValueError(
                f"{value:g} is not a fraction between 0 and 1 (0.2 means 20% of the table)"
            )
        return value


class PolicyFile(_Strict):
    version: Literal[1] = 1
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
    description: str | None = None
    mode: Mode = Mode.ENFORCE
    baseline: bool = True
    # Built-in rule packs (core/policy/NAME.yaml), evaluated after the own rules and
    # before the baseline: `packs: [dbt]` knows dbt's relation swaps.
    packs: list[Literal["dbt"]] = Field(default_factory=list)
    default: Verdict = Verdict.DENY
    defaults: Defaults = Field(default_factory=Defaults)
    scopes: dict[str, ScopeSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)
    tests: list[PolicyTest] = Field(default_factory=list)
    impact: ImpactSpec = Field(default_factory=ImpactSpec)
    # A guarded task that ran without sending one command the guard could see (a raw driver,
    # a client library) fails instead of passing with a "checked nothing" record.
    require_checks: bool = False
