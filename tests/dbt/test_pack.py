"""The dbt pack (core/policy/dbt.yaml): its examples, and what it must not let through."""

from __future__ import annotations

import pytest

from guardrails_core.check import check
from guardrails_core.cli import context_from_mapping, policy_cases
from guardrails_core.model import ImpactEstimate, ImpactSource, Mode, Verdict, fingerprint_text
from guardrails_core.policy import PolicyError, baseline_policy, parse_policy
from guardrails_core.policy.packs import has_pack, with_packs

DBT = with_packs(baseline_policy(), ["dbt"])


def _judge(
    text: str, impact: tuple[ImpactEstimate, ...] | None = None, **context: str
) -> tuple[Verdict, str]:
    values = {"orchestrator": "dbt", **{f"label.{k}": v for k, v in context.items()}}
    decision = check(
        text,
        dialect="postgres",
        policy=DBT,
        context=context_from_mapping(values, fingerprint=fingerprint_text(text)),
        mode=Mode.ENFORCE,
        impact=impact,
    )
    assert decision.deciding_reason is not None
    return decision.decision, decision.deciding_reason.rule_id


@pytest.mark.parametrize(
    "case", [case for case in policy_cases(DBT) if case.origin.startswith("dbt.")], ids=str
)
def test_pack_examples(case: object) -> None:
    text, expect = case.text, case.expect  # type: ignore[attr-defined]
    context = context_from_mapping(case.context, fingerprint=fingerprint_text(text))  # type: ignore[attr-defined]
    dialect = case.dialect or "postgres"  # type: ignore[attr-defined]
    decision = check(text, dialect=dialect, policy=DBT, context=context, mode=Mode.ENFORCE)
    assert decision.decision is expect


ORDERS = {"dbt.relation": "test.shop.orders", "dbt.materialized": "table"}
INCREMENTAL = {"dbt.relation": "test.shop.events", "dbt.materialized": "incremental"}

# (statement, context labels, expected verdict, deciding rule)
CASES = [
    # dbt's own swap of the node's relation.
    (
        'alter table "test"."shop"."orders" rename to "orders__dbt_backup"',
        ORDERS,
        "allow",
        "dbt.relation-swap",
    ),
    # Not known to be the node's relation (no database): not allowed as one.
    ("alter table shop.orders__dbt_tmp rename to orders", ORDERS, "review", "baseline.rename"),
    # Another relation moved aside, or the node's relation moved elsewhere: not a swap.
    (
        'alter table "test"."shop"."payments" rename to "orders__dbt_backup"',
        ORDERS,
        "review",
        "baseline.rename",
    ),
    (
        'alter table "test"."other"."orders" rename to "orders__dbt_backup"',
        ORDERS,
        "review",
        "baseline.rename",
    ),
    # A hook destroying an incremental model's history by "swapping" it away is not dbt's swap.
    (
        'alter table "test"."shop"."events" rename to "events__dbt_backup"',
        INCREMENTAL,
        "review",
        "baseline.rename",
    ),
    ('drop table "test"."shop"."events__dbt_backup" cascade', INCREMENTAL, "deny", "baseline.drop"),
    # Full refresh of an incremental model: allowed, and named.
    (
        'drop table if exists "test"."shop"."events__dbt_backup" cascade',
        {**INCREMENTAL, "dbt.full_refresh": "true"},
        "allow",
        "dbt.full-refresh",
    ),
    # A model, hook or operation that really deletes, drops or exports.
    ('delete from "test"."shop"."orders" where 1=1', ORDERS, "deny", "baseline.mass-mutation"),
    ('drop table "test"."shop"."orders" cascade', ORDERS, "deny", "baseline.drop"),
    ('copy "test"."shop"."orders" to \'/tmp/orders.csv\'', ORDERS, "deny", "baseline.export"),
    ('truncate table "test"."shop"."orders"', ORDERS, "deny", "baseline.truncate"),
    # No dbt node (a run-operation), or a relation label that would widen the pattern.
    ('drop table "test"."shop"."orders__dbt_backup"', {}, "deny", "baseline.drop"),
    (
        'drop table "test"."shop"."orders__dbt_backup"',
        {"dbt.relation": "*"},
        "deny",
        "baseline.drop",
    ),
    (
        'drop table "test"."shop"."x__dbt_backup"',
        {"dbt.relation": "test.shop.*"},
        "deny",
        "baseline.drop",
    ),
]


@pytest.mark.parametrize(("text", "labels", "verdict", "rule"), CASES)
def test_the_pack_knows_dbt_housekeeping_and_nothing_else(
    text: str, labels: dict[str, str], verdict: str, rule: str
) -> None:
    assert _judge(text, **labels) == (Verdict(verdict), rule)


EVENTS = {**INCREMENTAL, "dbt.alias": "events"}
DELETE_INSERT = (
    'delete from "test"."shop"."events" as DBT_INTERNAL_DEST where (id) in '
    '(select distinct id from "events__dbt_tmp2104" as DBT_INTERNAL_SOURCE)'
)


def _measured(rows: int, table_rows: int) -> tuple[ImpactEstimate, ...]:
    return (
        ImpactEstimate(
            statement_index=0,
            table="shop.events",
            estimated_rows=rows,
            table_rows=table_rows,
            fraction=rows / table_rows,
            source=ImpactSource.EXPLAIN,
        ),
    )


@pytest.mark.parametrize(
    ("text", "labels", "impact", "verdict", "rule"),
    [
        # dbt's delete of the rows whose keys arrive again: named, measured within the limits.
        (DELETE_INSERT, EVENTS, None, "allow", "dbt.incremental-delete-insert"),
        (DELETE_INSERT, EVENTS, _measured(3, 3), "allow", "dbt.incremental-delete-insert"),
        # Measured over the limits: held for review (approvable), not denied as a mass mutation.
        (
            DELETE_INSERT,
            EVENTS,
            _measured(60_000, 100_000),
            "review",
            "dbt.incremental-delete-insert-large",
        ),
        # Not keyed by the node's batch: a hook's own delete is judged as any other delete.
        (
            'delete from "test"."shop"."events" where id = 1',
            EVENTS,
            None,
            "allow",
            "baseline.allow",
        ),
        (
            'delete from "test"."shop"."events" where id = 1',
            EVENTS,
            _measured(60_000, 100_000),
            "deny",
            "baseline.mass-mutation",
        ),
        # Another table, or a batch of another model, or no alias known: not dbt's delete+insert.
        (
            'delete from "test"."shop"."orders" where (id) in (select id from "events__dbt_tmp1")',
            EVENTS,
            _measured(60_000, 100_000),
            "deny",
            "baseline.mass-mutation",
        ),
        (
            'delete from "test"."shop"."events" where (id) in (select id from "orders__dbt_tmp1")',
            EVENTS,
            None,
            "allow",
            "baseline.allow",
        ),
        # Without the alias label the allow never holds; the review may (it blocks: fail closed).
        (DELETE_INSERT, INCREMENTAL, None, "allow", "baseline.allow"),
        (
            DELETE_INSERT,
            INCREMENTAL,
            _measured(60_000, 100_000),
            "review",
            "dbt.incremental-delete-insert-large",
        ),
        # A table model has no delete+insert.
        (DELETE_INSERT, {**EVENTS, "dbt.materialized": "table"}, None, "allow", "baseline.allow"),
    ],
)
def test_the_delete_of_delete_insert_is_named_and_reviewable_when_large(
    text: str,
    labels: dict[str, str],
    impact: tuple[ImpactEstimate, ...] | None,
    verdict: str,
    rule: str,
) -> None:
    assert _judge(text, impact, **labels) == (Verdict(verdict), rule)


def test_the_pack_needs_the_dbt_orchestrator() -> None:
    text = 'drop table "test"."shop"."orders__dbt_backup"'
    decision = check(
        text,
        dialect="postgres",
        policy=DBT,
        context=context_from_mapping(
            {"orchestrator": "airflow", "label.dbt.relation": "test.shop.orders"},
            fingerprint=fingerprint_text(text),
        ),
    )
    assert decision.decision is Verdict.DENY


def test_a_policy_file_names_its_packs() -> None:
    policy = parse_policy("version: 1\npacks: [dbt]\n")
    assert has_pack(policy, "dbt") and not has_pack(baseline_policy(), "dbt")
    origins = [rule.origin for rule in policy.rules]
    assert origins.index("pack:dbt") < origins.index("baseline")
    assert with_packs(policy, ["dbt"]) is policy
    with pytest.raises(PolicyError, match=r"<policy>:2 packs\[0\]"):
        parse_policy("version: 1\npacks: [dbtt]\n")


def test_a_label_pattern_must_be_well_formed() -> None:
    with pytest.raises(PolicyError, match="label"):
        parse_policy(
            "version: 1\nrules:\n  - id: r\n    match: {objects: ['{label:x'], orchestrator: dbt}\n"
            "    decision: allow\n"
        )
