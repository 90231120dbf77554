"""Reviews pause the flow run; a person resumes it with an ApprovalInput (as in the Prefect UI).
An approval bound to the command's fingerprint lets exactly that command run; a rejection or a
timeout fails closed. Real flow runs; the approver answers from another thread.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.input.actions import read_flow_run_input
from prefect.states import State
from sqlalchemy import create_engine, text

from guardrails_core import Verdict
from guardrails_core.audit import Outcome
from guardrails_core.model import UNAUTHENTICATED
from prefect_guardrails import BLOCKED, guard_engine, guarded

from .conftest import Approver, Audit, Target, unique_name

AI = {"actor": "ai_agent", "poll_interval": 1, "approval_timeout": 60}


def ai_fixup_flow(target: Target, ran: list[str], states: list[State[Any]], **options: Any) -> Any:
    @task(retries=2, retry_delay_seconds=0)
    @guarded(sql="query", dialect=target.dialect, **{**AI, **options})
    def apply_fix(query: str) -> None:
        ran.append(query)
        engine = create_engine(target.url)
        with engine.begin() as conn:
            conn.exec_driver_sql(query)
        engine.dispose()

    @flow
    def revenue_fixups(query: str) -> None:
        states.append(apply_fix(query, return_state=True))

    return revenue_fixups


def test_an_approval_runs_exactly_the_approved_command(target: Target, audit: Audit) -> None:
    ran: list[str] = []
    states: list[State[Any]] = []
    query = f"UPDATE {target.table} SET amount = 11 WHERE id = 1"
    name = unique_name("fixup-approved")
    approver = Approver(name, {"approve": True, "approver": "alice", "comment": "checked"})
    approver.start()
    fixups = ai_fixup_flow(target, ran, states).with_options(flow_run_name=name)
    flow_state = fixups(query, return_state=True)
    approver.join(5)
    assert approver.error is None and approver.resumed.is_set()
    assert flow_state.is_completed() and states[0].is_completed()
    assert ran == [query] and target.amount(1) == 11

    first, second = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    history = audit.history(first.record_id)
    assert [r.state for r in history] == [Outcome.AWAITING_APPROVAL, Outcome.APPROVED]
    # A self-hosted Prefect server authenticates nobody: the typed name is a claim.
    assert (history[-1].actor, history[-1].detail) == (
        "alice (claimed, not authenticated)",
        "checked",
    )
    assert second.subject.verdict is Verdict.ALLOW
    assert second.decision is not None
    [approval] = second.decision.context.approvals
    assert (approval.approver, approval.approver_claim) == (UNAUTHENTICATED, "alice")
    assert approval.source == "prefect-pause"
    assert approval.fingerprint == first.subject.fingerprint == second.subject.fingerprint
    assert [r.state for r in audit.history(second.record_id)][-1] is Outcome.SUCCEEDED

    # The pause showed the decision, as markdown, to the approver.
    assert approver.keyset is not None
    description = read_flow_run_input(
        approver.keyset["description"], flow_run_id=flow_state.state_details.flow_run_id
    )
    assert "ai-changes-need-review" in description and first.subject.fingerprint in description


def test_a_rejection_fails_closed_and_records_the_approver(target: Target, audit: Audit) -> None:
    ran: list[str] = []
    states: list[State[Any]] = []
    name = unique_name("fixup-rejected")
    approver = Approver(name, {"approve": False, "approver": "bob", "comment": "wrong day"})
    approver.start()
    fixups = ai_fixup_flow(target, ran, states).with_options(flow_run_name=name)
    fixups(f"DELETE FROM {target.table} WHERE id = 2", return_state=True)
    approver.join(5)
    assert approver.resumed.is_set()
    [state] = states
    assert state.name == BLOCKED
    assert "rejected by bob (claimed, not authenticated): wrong day" in (state.message or "")
    assert ran == [] and target.rows() == 3
    [record] = [r for r in audit.decisions() if r.subject.task == "apply_fix"][-1:]
    history = audit.history(record.record_id)
    assert [(r.state, r.actor) for r in history] == [
        (Outcome.AWAITING_APPROVAL, None),
        (Outcome.REJECTED, "bob (claimed, not authenticated)"),
    ]


def test_no_answer_before_the_timeout_fails_closed(sqlite_target: Target, audit: Audit) -> None:
    ran: list[str] = []
    states: list[State[Any]] = []
    fixups = ai_fixup_flow(sqlite_target, ran, states, approval_timeout=2)
    flow_state = fixups(f"DELETE FROM {sqlite_target.table} WHERE id = 3", return_state=True)
    [state] = states
    assert state.name == BLOCKED and "no approval within 2 s" in (state.message or "")
    assert ran == [] and sqlite_target.rows() == 3
    [record] = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert [r.state for r in audit.history(record.record_id)][-1] is Outcome.TIMED_OUT


def test_a_statement_sent_by_the_body_is_approved_and_the_body_runs_again(
    sqlite_target: Target, audit: Audit
) -> None:
    bodies: list[int] = []
    states: list[State[Any]] = []

    @task
    @guarded(**AI)
    def copilot_fix() -> None:
        bodies.append(1)
        engine = guard_engine(create_engine(sqlite_target.url))
        with engine.begin() as conn:
            conn.execute(text(f"SELECT amount FROM {sqlite_target.table} WHERE id = 1"))
            conn.execute(text(f"UPDATE {sqlite_target.table} SET amount = 99 WHERE id = 1"))
        engine.dispose()

    @flow
    def copilot() -> None:
        states.append(copilot_fix(return_state=True))

    name = unique_name("copilot")
    approver = Approver(name, {"approve": True, "approver": "carol"})
    approver.start()
    copilot.with_options(flow_run_name=name)()
    approver.join(5)
    assert states[0].is_completed() and len(bodies) == 2
    assert sqlite_target.amount(1) == 99
    updates = [r for r in audit.decisions() if r.subject.intents and "write" in r.subject.intents]
    assert [r.subject.verdict for r in updates[-2:]] == [Verdict.REVIEW, Verdict.ALLOW]
