"""Policy files: loading with precise errors, rule matching, scopes, compliance, modes."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from guardrails_core import Actor, Context, Verdict, check, load_policy
from guardrails_core.check import DecisionCache
from guardrails_core.model import (
    UNAUTHENTICATED,
    ActorKind,
    Approval,
    DataScope,
    Mode,
    fingerprint_text,
)
from guardrails_core.policy import PolicyError, parse_policy


def policy(text: str, name: str = "policy.yaml"):  # type: ignore[no-untyped-def]
    return parse_policy(textwrap.dedent(text), source=name)


def decide(sql: str, pol, **context_fields):  # type: ignore[no-untyped-def]
    return check(
        sql,
        dialect="postgres",
        policy=pol,
        context=Context(**context_fields),
        analysis_cache=None,
        decision_cache=None,
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """
            version: 1
            rules:
              - id: a
                decision: allow
              - id: b
                decision: deny
              - id: c
                match:
                  objects: ["prod..orders"]
                decision: deny
            """,
            "policy.yaml:10 rules[2].match.objects[0]: 'prod..orders' is not a valid table "
            "pattern (did you mean 'prod.*.orders'?)",
            id="bad object pattern names file, line and field",
        ),
        pytest.param(
            """
            rules:
              - id: a
                match: {intents: [mass_mutations]}
                decision: deny
            """,
            "policy.yaml:4 rules[0].match.intents[0]: 'mass_mutations' is not one of",
            id="unknown intent",
        ),
        pytest.param(
            """
            rules:
              - id: a
                mach: {intents: [delete]}
                decision: deny
            """,
            "policy.yaml:4 rules[0].mach: unknown field 'mach' (did you mean 'match'?)",
            id="misspelt field",
        ),
        pytest.param(
            """
            rules:
              - id: a
                match: {intents: [delete]}
                decision: block
            """,
            "policy.yaml:5 rules[0].decision: 'block' is not one of",
            id="unknown decision",
        ),
        pytest.param(
            """
            rules:
              - id: a
                match: {intents: [delete]}
            """,
            "policy.yaml:3 rules[0].decision: required field is missing",
            id="missing decision",
        ),
        pytest.param(
            """
            rules:
              - id: same
                decision: deny
              - id: same
                decision: allow
            """,
            "policy.yaml:5 rules[1].id: rule id 'same' is used twice",
            id="duplicate rule id",
        ),
        pytest.param(
            """
            rules:
              - id: a
                match: {dialect: [postgress]}
                decision: deny
            """,
            "policy.yaml:4 rules[0].match.dialect[0]: unknown SQL dialect 'postgress'",
            id="unknown dialect",
        ),
        pytest.param(
            """
            rules:
              - id: a
                require: {time_window: {start: "9am"}}
                decision: allow
            """,
            "policy.yaml:4 rules[0].require.time_window.start: '9am' is not a time of day",
            id="bad time",
        ),
        pytest.param(
            """
            rules:
              - id: a
                require: {time_window: {timezone: Mars/Olympus}}
                decision: allow
            """,
            "'Mars/Olympus' is not a known time zone",
            id="bad time zone",
        ),
        pytest.param(
            """
            scopes:
              etl:
                read: ["raw..x"]
            """,
            "policy.yaml:4 scopes.etl.read[0]: 'raw..x' is not a valid table pattern",
            id="bad scope pattern",
        ),
        pytest.param(
            """
            rules:
              - id: a
                decision: deny
                decision: allow
            """,
            "policy.yaml:5 rules[0].decision: duplicate key",
            id="duplicate key",
        ),
        pytest.param("rules: [\n  - id: a\n", "policy.yaml:2: not valid YAML", id="bad YAML"),
        pytest.param(
            "- just\n- a list\n", "policy.yaml:1: a policy file is a mapping", id="not a mapping"
        ),
        pytest.param(
            """
            mode: enforcing
            """,
            "policy.yaml:2 mode: 'enforcing' is not one of 'enforce' or 'audit' "
            "(did you mean 'enforce'?)",
            id="bad mode with suggestion",
        ),
        pytest.param(
            """
            impact:
              max_rows: 10000
              max_fraction: 20
            """,
            "policy.yaml:4 impact.max_fraction: 20 is not a fraction between 0 and 1 "
            "(0.2 means 20% of the table)",
            id="impact: a percentage for a fraction",
        ),
        pytest.param(
            """
            impact:
              probe_timeout_ms: 0
            """,
            "policy.yaml:3 impact.probe_timeout_ms: 0 is out of range: it must be >= 1",
            id="impact: zero timeout",
        ),
        pytest.param(
            """
            impact:
              max_rows: -5
            """,
            "policy.yaml:3 impact.max_rows: -5 is out of range: it must be >= 0",
            id="impact: negative max_rows",
        ),
        pytest.param(
            """
            impact:
              soft_drop: true
              retention: 7
            """,
            "policy.yaml:4 impact.retention: unknown field 'retention' "
            "(did you mean 'retention_days'?)",
            id="impact: misspelt field",
        ),
        pytest.param(
            """
            impact:
              require_estimate: sometimes
            """,
            "policy.yaml:3 impact.require_estimate: Input should be a valid boolean",
            id="impact: not a boolean",
        ),
    ],
)
def test_invalid_policies_are_rejected_with_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy(text)
    assert expected in str(caught.value), str(caught.value)


def test_unreadable_policy_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"missing\.yaml: cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_an_invalid_policy_never_falls_back_to_allow(tmp_path: Path) -> None:
    from guardrails_core.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{id: x, decision: nope}]\n")
    assert main(["check", "SELECT 1", "--policy", str(bad)]) == 2


# --------------------------------------------------------------------------- matching


def test_first_matching_rule_wins_before_the_baseline() -> None:
    pol = policy(
        """
        id: team
        rules:
          - id: allow-staging-truncate
            match: {operations: [TRUNCATE], objects: ["staging.*"]}
            decision: allow
            message: staging tables are rebuilt nightly
        """
    )
    allowed = decide("TRUNCATE staging.orders", pol)
    assert allowed.decision is Verdict.ALLOW
    assert allowed.reasons[0].rule_id == "allow-staging-truncate"
    denied = decide("TRUNCATE prod.orders", pol)
    assert denied.decision is Verdict.DENY
    assert denied.reasons[0].rule_id == "baseline.truncate"
    assert allowed.policy.id == "team" and len(allowed.policy.sha256) == 64


def test_unqualified_names_match_deny_rules_but_not_allow_rules() -> None:
    pol = policy(
        """
        rules:
          - id: no-prod-writes
            match: {objects: ["prod.*"], object_actions: [write, delete]}
            decision: deny
          - id: staging-ok
            match: {objects: ["staging.*"]}
            decision: allow
        """
    )
    # `orders` could be prod.orders: the deny rule must not be dodged by leaving the schema out.
    assert decide("INSERT INTO orders VALUES (1)", pol).reasons[0].rule_id == "no-prod-writes"
    # ...and with a known default schema it is judged precisely.
    assert (
        decide("INSERT INTO orders VALUES (1)", pol, default_schema="staging").reasons[0].rule_id
        == "staging-ok"
    )


def test_exclusion_patterns() -> None:
    pol = policy(
        """
        rules:
          - id: prod-is-read-only
            match: {objects: ["prod.*", "!prod.scratch_*"], object_actions: [write, delete]}
            decision: deny
        """
    )
    assert decide("DELETE FROM prod.orders WHERE id = 1", pol).decision is Verdict.DENY
    assert decide("DELETE FROM prod.scratch_x WHERE id = 1", pol).decision is Verdict.ALLOW


def test_ai_agents_are_held_to_a_stricter_rule_than_humans() -> None:
    pol = policy(
        """
        rules:
          - id: ai-writes-need-review
            match: {actor: [ai_agent], intents: [write, delete, schema_change]}
            decision: review
            message: model-generated changes need a human
        """
    )
    sql = "UPDATE orders SET total = 0 WHERE id = 3"
    assert decide(sql, pol, actor=Actor(kind=ActorKind.HUMAN)).decision is Verdict.ALLOW
    ai = decide(sql, pol, actor=Actor(kind=ActorKind.AI_AGENT, model="gpt-x"))
    assert ai.decision is Verdict.REVIEW
    assert ai.reasons[0].rule_id == "ai-writes-need-review"


def test_unless_exempts_a_context() -> None:
    pol = policy(
        """
        rules:
          - id: no-deletes
            match: {intents: [delete]}
            unless: {pipeline: ["gdpr_*"]}
            decision: deny
        """
    )
    sql = "DELETE FROM users WHERE id = 4"
    assert decide(sql, pol, pipeline="nightly").decision is Verdict.DENY
    assert decide(sql, pol, pipeline="gdpr_erasure").decision is Verdict.ALLOW


def test_shell_rules_match_on_kind() -> None:
    pol = policy(
        """
        rules:
          - id: no-shell-in-prod
            match: {kind: [shell], environment: [prod]}
            decision: deny
        """
    )
    shell = check("ls /data", kind="shell", policy=pol, context=Context(environment="prod"))
    assert shell.decision is Verdict.DENY
    sql = check("SELECT 1", policy=pol, context=Context(environment="prod"))
    assert sql.decision is Verdict.ALLOW


# --------------------------------------------------------------------------- compliance


PROD_DELETES = """
    rules:
      - id: prod-deletes
        match: {environment: [prod], intents: [delete]}
        require:
          ticket: "^CHG-[0-9]+$"
          approval: true
        decision: allow
        message: deletes in prod need a change ticket and an approval
"""


def test_compliance_conditions_block_until_met() -> None:
    pol = policy(PROD_DELETES)
    sql = "DELETE FROM orders WHERE id = 9"
    nothing = decide(sql, pol, environment="prod")
    assert nothing.decision is Verdict.DENY
    assert any("change ticket" in item for item in nothing.reasons[0].unmet)
    ticket_only = decide(sql, pol, environment="prod", tickets=("CHG-42",))
    assert ticket_only.decision is Verdict.REVIEW, "only the approval is missing: ask for it"
    wrong_ticket = decide(sql, pol, environment="prod", tickets=("JIRA-1",))
    assert wrong_ticket.decision is Verdict.DENY
    approval = Approval(approver="alice", fingerprint=fingerprint_text(sql))
    everything = decide(sql, pol, environment="prod", tickets=("CHG-42",), approvals=(approval,))
    assert everything.decision is Verdict.ALLOW


def test_an_approval_binds_to_the_exact_command() -> None:
    pol = policy(PROD_DELETES)
    approved = "DELETE FROM orders WHERE id = 9"
    approval = Approval(approver="alice", fingerprint=fingerprint_text(approved))
    changed = decide(
        "DELETE FROM orders WHERE id > 0",
        pol,
        environment="prod",
        tickets=("CHG-1",),
        approvals=(approval,),
    )
    assert changed.decision is Verdict.REVIEW


def test_review_verdicts_are_satisfied_by_a_bound_approval() -> None:
    sql = "CALL refresh_marts()"
    assert check(sql).decision is Verdict.REVIEW
    approval = Approval(approver="bob", fingerprint=fingerprint_text(sql))
    approved = check(sql, context=Context(approvals=(approval,)))
    assert approved.decision is Verdict.ALLOW
    assert "approved by bob" in approved.reasons[0].message
    # A deny is never turned into an allow by an approval.
    drop = "DROP TABLE orders"
    denied = check(
        drop,
        context=Context(approvals=(Approval(approver="bob", fingerprint=fingerprint_text(drop)),)),
    )
    assert denied.decision is Verdict.DENY


def test_approvals_can_require_several_named_approvers() -> None:
    pol = policy(
        """
        rules:
          - id: schema-changes
            match: {intents: [schema_change]}
            require: {approval: {count: 2, approvers: ["dba-*"]}}
            decision: allow
        """
    )
    sql = "ALTER TABLE orders ADD COLUMN x int"
    fp = fingerprint_text(sql)
    one = decide(sql, pol, approvals=(Approval(approver="dba-ann", fingerprint=fp),))
    assert one.decision is Verdict.REVIEW
    outsider = (
        Approval(approver="dba-ann", fingerprint=fp),
        Approval(approver="eve", fingerprint=fp),
    )
    assert decide(sql, pol, approvals=outsider).decision is Verdict.REVIEW
    two = (
        Approval(approver="dba-ann", fingerprint=fp),
        Approval(approver="dba-bo", fingerprint=fp),
    )
    assert decide(sql, pol, approvals=two).decision is Verdict.ALLOW
    # Names typed where nobody authenticates them are claims: no policy's approvers match them.
    claimed = (
        Approval(approver="dba-ann", fingerprint=fp),
        Approval(approver=UNAUTHENTICATED, approver_claim="dba-bo", fingerprint=fp),
    )
    assert decide(sql, pol, approvals=claimed).decision is Verdict.REVIEW


def test_time_windows_use_the_policy_time_zone() -> None:
    pol = policy(
        """
        rules:
          - id: ddl-in-office-hours
            match: {intents: [schema_change]}
            require:
              time_window: {days: [mon-fri], start: "09:00", end: "17:00",
                            timezone: Europe/Paris}
            decision: allow
            otherwise: deny
        """
    )
    sql = "CREATE TABLE t (id int)"
    # Tuesday 2026-11-24: 09:30 UTC is 10:30 in Paris, 17:30 UTC is 18:30.
    inside = check(sql, policy=pol, now=datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    outside = check(sql, policy=pol, now=datetime(2026, 11, 24, 17, 30, tzinfo=UTC))
    saturday = check(sql, policy=pol, now=datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    assert inside.decision is Verdict.ALLOW
    assert outside.decision is Verdict.DENY and "time window" in outside.reasons[0].message
    assert saturday.decision is Verdict.DENY


class _WallClock(datetime):
    """`datetime` with a wall clock the test sets: what the policy engine reads as now."""

    reading = datetime(2026, 11, 29, 0, 0, 30, tzinfo=UTC)  # a Sunday, 30 s past midnight

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return cls.reading.astimezone(tz)


def test_time_dependent_decisions_are_not_memoised(monkeypatch: pytest.MonkeyPatch) -> None:
    from guardrails_core.policy import engine

    monkeypatch.setattr(engine, "datetime", _WallClock)
    pol = policy(
        """
        rules:
          - id: sunday-first-minute
            match: {intents: [read]}
            require: {time_window: {days: [sun], start: "00:00", end: "00:01"}}
            decision: allow
            otherwise: deny
        """
    )
    cache = DecisionCache()
    first = check("SELECT 1", policy=pol, decision_cache=cache)
    monkeypatch.setattr(_WallClock, "reading", _WallClock.reading + timedelta(minutes=1))
    second = check("SELECT 1", policy=pol, decision_cache=cache)
    # The second was judged afresh at its own time, not copied from the first ...
    assert (first.decision, second.decision) == (Verdict.ALLOW, Verdict.DENY)
    assert "now sun 00:01" in second.reasons[0].message
    assert len(cache) == 0  # ... and neither was kept
    timeless = policy("rules: [{id: reads, match: {intents: [read]}, decision: allow}]")
    check("SELECT 1", policy=timeless, decision_cache=cache)
    assert len(cache) == 1  # a decision that does not depend on the clock is memoised


# --------------------------------------------------------------------------- scopes

SCOPED = """
    scopes:
      orders_etl:
        read: ["raw.*"]
        write: ["staging.orders*"]
      nightly:
        read: ["raw.*"]
        write: ["mart.*"]
        applies_to: {pipeline: ["nightly_*"]}
"""


@pytest.mark.parametrize(
    ("sql", "verdict"),
    [
        ("INSERT INTO staging.orders_clean SELECT * FROM raw.orders", Verdict.ALLOW),
        ("SELECT * FROM staging.orders_clean", Verdict.ALLOW),
        ("SELECT * FROM finance.salaries", Verdict.DENY),
        ("INSERT INTO raw.orders VALUES (1)", Verdict.DENY),
        ("INSERT INTO staging.orders_x SELECT * FROM hr.people", Verdict.DENY),
        ("SELECT * FROM orders", Verdict.DENY),
    ],
)
def test_data_scope_denies_anything_outside_it(sql: str, verdict: Verdict) -> None:
    decision = decide(sql, policy(SCOPED), data_scope=DataScope(name="orders_etl"))
    assert decision.decision is verdict, decision.reasons
    if verdict is Verdict.DENY:
        assert decision.reasons[0].rule_id == "scope:orders_etl"


def test_scope_violation_wins_over_an_allow_rule() -> None:
    pol = policy(
        SCOPED
        + """
    rules:
      - id: allow-all
        decision: allow
    """
    )
    assert (
        decide("SELECT * FROM hr.people", pol, data_scope=DataScope(name="orders_etl")).decision
        is Verdict.DENY
    )


def test_scopes_bind_by_context_and_inline_scopes_work() -> None:
    pol = policy(SCOPED)
    bound = decide("SELECT * FROM hr.people", pol, pipeline="nightly_sales")
    assert bound.decision is Verdict.DENY and bound.reasons[0].rule_id == "scope:nightly"
    inline = DataScope(name="adhoc", read=("hr.*",), write=())
    assert decide("SELECT * FROM hr.people", pol, data_scope=inline).decision is Verdict.ALLOW


def test_unknown_scope_name_is_denied() -> None:
    decision = decide("SELECT 1", policy(SCOPED), data_scope=DataScope(name="typo"))
    assert decision.decision is Verdict.DENY
    assert "does not define" in decision.reasons[0].message


# --------------------------------------------------------------------------- modes and defaults


def test_audit_mode_records_the_verdict_but_does_not_enforce() -> None:
    pol = policy("mode: audit\n")
    decision = decide("DROP TABLE orders", pol)
    assert decision.decision is Verdict.DENY
    assert decision.mode is Mode.AUDIT and decision.enforced is False
    enforced = check("DROP TABLE orders", policy=pol, mode=Mode.ENFORCE)
    assert enforced.enforced is True


def test_without_the_baseline_the_default_applies() -> None:
    pol = policy(
        """
        baseline: false
        rules:
          - id: reads-only
            match: {intents: [read]}
            decision: allow
        """
    )
    assert decide("SELECT 1", pol).decision is Verdict.ALLOW
    fallback = decide("INSERT INTO t VALUES (1)", pol)
    assert fallback.decision is Verdict.DENY and fallback.reasons[0].rule_id == "default"


def test_policy_defaults_supply_dialect_and_schema() -> None:
    pol = policy(
        """
        defaults: {dialect: snowflake, default_schema: PUBLIC, environment: prod}
        rules:
          - id: prod-public-readonly
            match: {objects: ["PUBLIC.*"], object_actions: [write], environment: [prod]}
            decision: deny
        """
    )
    decision = check("INSERT INTO orders VALUES (1)", policy=pol)
    assert decision.command.dialect == "snowflake"
    assert decision.context.environment == "prod"
    assert decision.reasons[0].rule_id == "prod-public-readonly"


def test_examples_and_tests_in_a_policy_file(tmp_path: Path) -> None:
    from guardrails_core.cli import main

    path = tmp_path / "team.yaml"
    path.write_text(
        textwrap.dedent(
            """
        rules:
          - id: staging-truncate
            match: {operations: [TRUNCATE], objects: ["staging.*"]}
            decision: allow
            examples:
              allow: ["TRUNCATE staging.orders"]
              deny: ["TRUNCATE prod.orders"]
        tests:
          - {text: "DROP TABLE staging.x", expect: deny, rule: baseline.drop}
          - {text: "CALL x()", expect: allow, context: {approved_by: ann}}
        """
        )
    )
    assert main(["policy", "test", str(path)]) == 0
    path.write_text(path.read_text().replace("expect: deny", "expect: allow"))
    assert main(["policy", "test", str(path)]) == 1


def test_names_built_at_run_time_never_match_an_allow_or_a_scope() -> None:
    pol = policy(
        """
        scopes:
          tmp_only: {read: ["*"], write: ["staging.*"]}
        rules:
          - id: deny-prod
            match: {objects: ["prod.*"], object_actions: [delete]}
            decision: deny
          - id: allow-tmp-files
            match: {kind: [shell], objects: ["/tmp/*"]}
            decision: allow
        """
    )
    # A table whose schema comes from a shell variable may be prod: the deny rule applies.
    shell_sql = check('psql -c "DELETE FROM $SCHEMA.orders WHERE id = 1"', kind="shell", policy=pol)
    assert shell_sql.decision is Verdict.DENY and shell_sql.reasons[0].rule_id == "deny-prod"
    # ...and a path built from a variable is not known to be under /tmp.
    assert check("rm -r /tmp/$WORK", kind="shell", policy=pol).reasons[0].rule_id != (
        "allow-tmp-files"
    )
    assert check("rm -r /tmp/work", kind="shell", policy=pol).reasons[0].rule_id == (
        "allow-tmp-files"
    )
    scoped = check(
        'psql -c "INSERT INTO $S.t VALUES (1)"',
        kind="shell",
        policy=pol,
        context=Context(data_scope=DataScope(name="tmp_only")),
    )
    assert scoped.decision is Verdict.DENY and scoped.reasons[0].rule_id == "scope:tmp_only"


def test_text_that_is_not_unicode_is_denied_and_still_serialises() -> None:
    decision = check("SELECT 1 \udc80")
    assert decision.decision is Verdict.DENY
    assert decision.reasons[0].rule_id == "baseline.unparseable"
    assert "\\udc80" in decision.to_json()
