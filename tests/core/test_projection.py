"""Each summary of a decision (guardrails_core.projection) has the fields its consumers read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guardrails_core import Actor, Context, Decision, Verdict, check, projection
from guardrails_core.audit import AuditStore, Outcome
from guardrails_core.audit.export import CSV_COLUMNS
from guardrails_core.model import ImpactEstimate, ImpactSource, Reversal, ReversalKind
from guardrails_core.policy import parse_policy

AUDIT = parse_policy("version: 1\nid: audit-mode\nmode: audit\n")
REVIEW_WRITES = parse_policy(
    "version: 1\nid: review\nrules: [{id: writes, match: {intents: [write]}, decision: review}]\n"
)
CREATED = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


@pytest.fixture
def deleted() -> Decision:
    """A scoped DELETE that ran with a pre-image, measured first."""
    decision = check(
        "DELETE FROM shop.orders WHERE id = 7 AND note = 'password=hunter2'",
        dialect="postgres",
        context=Context(actor=Actor(kind="ai_agent"), pipeline="nightly"),
    )
    return decision.model_copy(
        update={
            "impact": (
                ImpactEstimate(
                    statement_index=0,
                    table="shop.orders",
                    estimated_rows=1,
                    table_rows=10,
                    source=ImpactSource.COUNT,
                ),
            ),
            "reversals": (
                Reversal(
                    backup_id="b1",
                    statement_index=0,
                    kind=ReversalKind.PRE_IMAGE,
                    operation="DELETE",
                    table="shop.orders",
                    location="guardrails.pre_x_0_0",
                    row_count=1,
                    created_at=CREATED,
                    expires_at=CREATED + timedelta(days=7),
                ),
            ),
        }
    )


@pytest.fixture
def dropped() -> Decision:
    return check("DROP TABLE shop.orders", dialect="postgres", policy=AUDIT)


def test_xcom_value_is_the_stored_decision(deleted: Decision) -> None:
    value = projection.xcom_value(deleted, full_text=False)
    assert value["decision_id"] == deleted.decision_id
    assert value["decision"] == "allow" and value["reversals"][0]["backup_id"] == "b1"
    assert "hunter2" not in repr(value)


def test_event_payload(deleted: Decision) -> None:
    payload = projection.event_payload(deleted, "r1")
    assert set(payload) == {
        "verdict", "mode", "enforced", "rule", "message", "headline", "command", "kind",
        "dialect", "intents", "objects", "fingerprint", "decision_id", "record_id", "actor",
        "impact", "reversals",
    }  # fmt: skip
    assert payload["objects"] == ["shop.orders"] and payload["record_id"] == "r1"
    assert payload["actor"] == "ai_agent" and payload["intents"] == ["delete"]
    assert payload["impact"][0]["estimated_rows"] == 1
    assert payload["reversals"][0]["location"] == "guardrails.pre_x_0_0"
    assert "hunter2" not in repr(payload)


def test_event_labels(dropped: Decision) -> None:
    assert projection.event_labels(dropped, None) == {
        "guardrails.verdict": "deny",
        "guardrails.enforced": "false",
        "guardrails.rule": "baseline.drop",
        "guardrails.fingerprint": dropped.fingerprint,
        "guardrails.record": "",
    }


def test_table_row(deleted: Decision, dropped: Decision) -> None:
    row = projection.table_row(deleted, "r1", outcome="allowed", unit={"task run": "t-1"})
    assert list(row) == [
        "time", "task run", "verdict", "rule", "command", "objects", "estimate", "outcome",
        "way back", "fingerprint", "audit record",
    ]  # fmt: skip
    assert row["objects"] == "shop.orders" and row["way back"] == f"undo {deleted.decision_id}"
    assert row["estimate"] == "1 of 10 rows of shop.orders, by count" and "hunter2" not in repr(row)
    denied = projection.table_row(dropped, None, outcome="blocked", unit={})
    assert denied["verdict"] == "deny*" and denied["rule"] == "baseline.drop"  # audit mode


def test_report_rows(deleted: Decision) -> None:
    rows = dict(projection.report_rows(deleted, None, unit=[("task run", "t-1")]))
    assert rows["objects"] == "shop.orders" and rows["task run"] == "t-1"
    assert rows["audit record"] == "not recorded" and rows["actor"] == "ai_agent"
    assert rows["way back"].endswith(f"`access-guardrails undo {deleted.decision_id}`")


def test_approval_form_binds_the_fingerprint_and_says_how_to_answer() -> None:
    held = check("UPDATE t SET x = 1 WHERE id = 1", policy=REVIEW_WRITES)
    assert held.decision is Verdict.REVIEW
    form = projection.approval_form(held, how_to_answer="Press Approve.", link="http://x/d")
    assert held.fingerprint in form and "Press Approve." in form
    assert "UPDATE t SET x = 1 WHERE id = 1" in form and "Decision page: [http://x/d]" in form


def test_csv_row_and_run_facet(dropped: Decision) -> None:
    with AuditStore("sqlite://") as store:
        record_id = store.record(dropped)
        store.record_outcome(record_id, Outcome.SUCCEEDED)
        decision_record, outcome = store.history(record_id)
    row = projection.csv_row(decision_record)
    assert tuple(row) == CSV_COLUMNS
    assert row["verdict"] == "deny" and row["rules"].startswith("baseline.drop")
    facet = projection.run_facet(decision_record)
    assert facet["objects"] == ["shop.orders"] and facet["decision"]["decision"] == "deny"
    assert facet["state"] == "blocked" or facet["state"] == "pending"
    bare = projection.run_facet(outcome)
    assert "objects" not in bare and bare["state"] == "succeeded"
    joined = projection.run_facet(outcome, dropped)
    assert joined["objects"] == ["shop.orders"] and joined["decisionId"] == dropped.decision_id
