"""GuardSession, the core's memory of one unit of work, on a real SQLite audit store and a real
SQLite connection: repeats are recorded once, a statement measured at its connection is linked
to the decision it refines, outcomes are written together when the unit ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from guardrails_core import Context
from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.guard import CommandBlocked, Guard
from guardrails_core.impact import ImpactProbe
from guardrails_core.model import Approval
from guardrails_core.policy import parse_policy
from guardrails_core.session import (
    REFINES_LABEL,
    ApprovalRound,
    Command,
    GuardSession,
    Origin,
    Refinement,
    measured_at_connection,
    refinement_of,
    refinement_root,
)
from guardrails_core.settings import Settings

POLICY = """\
version: 1
id: session-tests
rules:
  - id: ai-writes-need-review
    match: {actor: [ai_agent], intents: [write]}
    decision: review
"""


@pytest.fixture
def guard(tmp_path: Path) -> Guard:
    settings = Settings.load({"GUARDRAILS_AUDIT_URL": f"sqlite:///{tmp_path / 'audit.sqlite3'}"})
    return Guard(settings=settings, policy=parse_policy(POLICY, source="session.yaml"))


def history(guard: Guard, run_id: str) -> list[list[str]]:
    """The states of every decision of the run, in trail order."""
    with AuditStore(guard.settings.audit_url, create=False) as store:
        records = store.query(AuditFilter(run_id=run_id))
    decisions = [r for r in records if r.kind is RecordKind.DECISION]
    return [
        [d.state.value]
        + [r.state.value for r in records if r.decision_record_id == d.record_id != r.record_id]
        for d in decisions
    ]


def session_for(guard: Guard, run_id: str) -> GuardSession:
    return GuardSession(guard, lambda connection: Context(run_id=run_id, connection=connection))


def test_a_repeat_is_recorded_once_and_its_outcome_written_at_the_end(guard: Guard) -> None:
    session = session_for(guard, "repeat")
    first = session.judge(Command("SELECT 1 FROM t", dialect="sqlite"))
    again = session.judge(Command("  SELECT 1 FROM t;  ", dialect="sqlite"))
    other = session.judge(Command("SELECT 1 FROM t", dialect="sqlite", connection="other"))
    assert again is first and other is not first
    assert history(guard, "repeat") == [["pending"]] * 2
    written = session.finish(None)
    assert [failed for _result, failed in written] == [None, None]
    assert history(guard, "repeat") == [["pending", "succeeded"]] * 2
    assert session.finish(None) == []  # each outcome once


def test_each_statement_of_a_judged_script_counts_as_judged(guard: Guard) -> None:
    session = session_for(guard, "script")
    script = session.judge(
        Command("SELECT 1 FROM a; SELECT 2 FROM b", dialect="sqlite", origin=Origin.DECLARED)
    )
    assert session.judge(Command("SELECT 2 FROM b", dialect="sqlite")) is script
    assert len(history(guard, "script")) == 1


def test_a_measured_statement_refines_the_first_and_tells_the_story(
    guard: Guard, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT)")
        conn.executemany("INSERT INTO events VALUES (?, ?)", [(i, "x") for i in range(20)])
    sql = "DELETE FROM events WHERE id < 5"
    session = session_for(guard, "measured")
    declared = session.judge(Command(sql, dialect="sqlite", origin=Origin.DECLARED))
    connection = sqlite3.connect(database, isolation_level=None)
    probe = ImpactProbe(connection)
    measured = session.judge(Command(sql, dialect="sqlite", origin=Origin.CONNECTION), probe=probe)
    labels = dict(measured.decision.context.labels)
    assert labels[REFINES_LABEL] == declared.decision.decision_id
    assert refinement_of(measured.decision) is Refinement.MEASURED
    assert measured.decision.impact[0].estimated_rows is not None
    executed = guard.execute_reversibly(measured, probe, lambda text: connection.execute(text))
    session.kept(measured, executed)
    session.finish(None)
    deciding = session.deciding()
    assert deciding is not None and deciding.record_id == measured.record_id
    assert deciding.decision.reversals == executed.reversals
    assert history(guard, "measured") == [
        ["pending", "succeeded"],
        ["pending", "backed_up", "succeeded"],
    ]


def review_session(guard: Guard, run_id: str, **rounds: int) -> GuardSession:
    """A session whose context carries the approvals it holds (as an adapter's does), for an
    AI agent whose writes need review."""

    def context(connection: str | None) -> Context:
        return Context.model_validate(
            {"run_id": run_id, "actor": {"kind": "ai_agent"}, "approvals": session.approvals}
        )

    session = GuardSession(guard, context, **rounds)
    return session


def approval(fingerprint: str) -> Approval:
    return Approval(approver="alice", fingerprint=fingerprint)


def test_a_block_is_judged_again_once_approved_and_fails_with_the_unit(guard: Guard) -> None:
    sql = "UPDATE t SET v = 1 WHERE id = 1"
    session = review_session(guard, "review")
    review = session.judge(Command(sql, dialect="sqlite", origin=Origin.DECLARED))
    assert review.decision.decision.value == "review"
    with pytest.raises(CommandBlocked):
        session.enforce(review)
    assert session.approval_round(review) == ApprovalRound(number=0)
    session.approved(approval(review.decision.fingerprint))
    allowed = session.judge(Command(sql, dialect="sqlite", origin=Origin.DECLARED))
    assert allowed.proceed and allowed is not review
    # one command, one chain: the approved judgement refines the review
    assert dict(allowed.decision.context.labels)[REFINES_LABEL] == review.decision.decision_id
    assert refinement_root(allowed.decision) == refinement_root(review.decision)
    assert refinement_of(allowed.decision) is Refinement.APPROVED
    assert refinement_of(review.decision) is None
    session.finish(RuntimeError("the task failed after it"))
    assert history(guard, "review") == [["awaiting_approval"], ["pending", "failed"]]


def test_a_unit_resumed_after_an_approval_refines_the_answered_review(guard: Guard) -> None:
    """The review was judged in the process that parked the task; the approved command is
    judged again in a new session (another process), linked to that review."""
    sql = "UPDATE t SET v = 1 WHERE id = 1"
    approvals: list[object] = []

    def context(connection: str | None) -> Context:
        return Context.model_validate(
            {"run_id": "resumed", "actor": {"kind": "ai_agent"}, "approvals": approvals}
        )

    review = GuardSession(guard, context).judge(
        Command(sql, dialect="sqlite", origin=Origin.DECLARED)
    )
    approvals.append({"approver": "alice", "fingerprint": review.decision.fingerprint})
    resumed = GuardSession(guard, context)
    resumed.resumes(review)
    other = resumed.judge(Command("SELECT 1 FROM t", dialect="sqlite"))
    allowed = resumed.judge(Command(sql, dialect="sqlite", origin=Origin.DECLARED))
    assert allowed.proceed and refinement_of(other.decision) is None
    assert refinement_root(allowed.decision) == review.decision.decision_id
    assert refinement_of(allowed.decision) is Refinement.APPROVED
    resumed.finish(None)
    # The answered review gets no outcome from the resumed unit (the answer wrote its own).
    ran = ["pending", "succeeded"]
    assert history(guard, "resumed") == [["awaiting_approval"], ran, ran]


def test_a_review_past_the_approvals_a_unit_collects_is_closed_unasked(guard: Guard) -> None:
    session = review_session(guard, "rounds", max_approvals=1)
    first = session.judge(Command("UPDATE t SET v = 1", dialect="sqlite"))
    session.approved(approval(first.decision.fingerprint))
    other = session.judge(Command("UPDATE t SET v = 2", dialect="sqlite"))
    assert other.decision.decision.value == "review"
    asked = session.approval_round(other)
    assert asked.number is None and asked.refusal is not None
    assert first.decision.fingerprint[:23] in asked.refusal and "at most 1" in asked.refusal
    assert history(guard, "rounds") == [["awaiting_approval"], ["awaiting_approval", "rejected"]]


def test_a_deny_goes_to_nobody(guard: Guard) -> None:
    session = session_for(guard, "deny")
    denied = session.judge(Command("DROP TABLE t", dialect="sqlite"))
    assert session.approval_round(denied) == ApprovalRound()


@pytest.mark.parametrize(
    ("dialect", "text", "impact", "measured"),
    [
        ("postgres", "DELETE FROM t WHERE id = 1", True, True),
        ("mysql", "UPDATE t SET a = 1", True, True),
        ("sqlite", "DROP TABLE t", True, True),
        ("sqlite", "SELECT * FROM t", True, False),
        ("snowflake", "DELETE FROM t WHERE id = 1", True, False),
        ("postgres", "DELETE FROM t WHERE id = 1", False, False),
        (None, "DELETE FROM t WHERE id = 1", True, False),
    ],
)
def test_one_list_says_what_is_measured_at_the_connection(
    dialect: str | None, text: str, impact: bool, measured: bool
) -> None:
    assert measured_at_connection(dialect, text, impact=impact) is measured


def test_a_repeated_block_is_one_record(guard: Guard) -> None:
    session = session_for(guard, "blocked")
    first = session.judge(Command("DROP TABLE t", dialect="sqlite"))
    assert not first.proceed
    assert session.judge(Command("DROP TABLE t", dialect="sqlite")) is first
    assert history(guard, "blocked") == [["blocked"]]
