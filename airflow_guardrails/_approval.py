"""Review verdicts through Airflow's human-in-the-loop: the task waits in `awaiting_input`.

On a `review`, the guarded task writes a HITL request (Task SDK `upsert_hitl_detail`) that
explains the decision, and raises `TaskAwaitingInput`, as the standard provider's HITLOperator
does on Airflow 3.3: the task parks without a trigger and shows up in the Required Actions page.
The command's fingerprint travels in the task's `next_kwargs`, which stay on the server, so the
answer is bound to the exact command that was shown. A response (or the scheduler's timeout
sweep) resumes the task in `GuardedOperator.guardrails_resume` with the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_guardrails._blocked import TaskBlocked
from airflow_guardrails._config import shared_guard
from airflow_guardrails._runtime import TaskScope
from airflow_guardrails.links import decision_url
from guardrails_core import projection
from guardrails_core.audit import Outcome, shared_store
from guardrails_core.dbt_guard import approval_key
from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import Approval, Decision
from guardrails_core.render import headline

if TYPE_CHECKING:
    from airflow.sdk.definitions.context import Context as AirflowContext

RESUME_METHOD = "guardrails_resume"
APPROVE = "Approve"
REJECT = "Reject"
APPROVAL_SOURCE = "airflow-hitl"
_SUBJECT_LIMIT = 200


def request_approval(scope: TaskScope, result: GuardResult) -> NoReturn:
    """Ask a person to approve this exact command, then park the task until they answer."""
    from airflow.sdk.exceptions import TaskAwaitingInput
    from airflow.sdk.execution_time.hitl import upsert_hitl_detail

    decision = result.decision
    ti: Any = scope.airflow_context["ti"]
    options = scope.options
    upsert_hitl_detail(
        ti_id=ti.id,
        options=[APPROVE, REJECT],
        subject=_subject(scope, decision),
        body=_body(scope, decision),
        defaults=None,
        multiple=False,
        params={},
        assigned_users=[{"id": uid, "name": name} for uid, name in options.approvers] or None,
    )
    scope.task.log.info(
        "access-guardrails: waiting for a human approval of %s in Airflow's Required Actions",
        decision.fingerprint,
    )
    raise TaskAwaitingInput(
        method_name=RESUME_METHOD,
        kwargs={
            "guardrails": {
                # What the approval binds to: the exact command; for a dbt statement naming
                # dbt's temporary relation of that run, its text with that suffix normalised.
                "fingerprint": approval_key(decision),
                "record_id": result.record_id,
                "decision_id": decision.decision_id,
            }
        },
        timeout=options.approval_timeout,
    )


def _subject(scope: TaskScope, decision: Decision) -> str:
    text = f"Approve {scope.base.task}? {headline(decision)}"
    return text if len(text) <= _SUBJECT_LIMIT else text[: _SUBJECT_LIMIT - 3] + "..."


def _body(scope: TaskScope, decision: Decision) -> str:
    ti: Any = scope.airflow_context.get("ti")
    link = decision_url(
        scope.base.pipeline or "",
        scope.base.run_id or "",
        scope.base.task or "",
        getattr(ti, "map_index", -1),
        settings=scope.guard.settings,
    )
    return projection.approval_form(
        decision,
        how_to_answer="*Approve* runs it; *Reject* fails the task without retrying it.",
        link=link,
    )


def resolve_response(
    task: Any, airflow_context: AirflowContext, event: dict[str, Any], request: dict[str, Any]
) -> tuple[Approval, GuardResult | None]:
    """Record the person's answer on the decision's audit record; the approval if approved,
    with the decision it answers (as stored, if found).

    Rejected or timed out: the task fails now, without a retry (a retry would ask again).
    """
    guard = shared_guard()
    record_id = request.get("record_id")
    fingerprint = str(request["fingerprint"])
    decision = _stored_decision(guard, record_id)
    pending = GuardResult(decision, record_id) if decision is not None else None
    if event.get("error_type") == "timeout" or event.get("timedout"):
        if pending is not None:
            guard.finish(pending, Outcome.TIMED_OUT, detail="no approval before the timeout")
        raise _failed(
            pending,
            fingerprint,
            "access-guardrails: nobody approved the command before the approval request timed "
            "out, so it did not run.",
        )
    user = event.get("responded_by_user") or {}
    approver = str(user.get("name") or user.get("id") or "unknown")
    if APPROVE not in (event.get("chosen_options") or []):
        if pending is not None:
            guard.finish(pending, Outcome.REJECTED, actor=approver, detail="rejected in Airflow")
        raise _failed(
            pending,
            fingerprint,
            f"access-guardrails: {approver} rejected the command in Airflow, so it did not run.",
        )
    if pending is not None:
        guard.finish(
            pending, Outcome.APPROVED, actor=approver, detail=f"approved {fingerprint} in Airflow"
        )
    responded_at = event.get("responded_at")
    task.log.info("access-guardrails: %s approved %s", approver, fingerprint)
    approval = Approval(
        approver=approver,
        fingerprint=fingerprint,
        approved_at=responded_at if isinstance(responded_at, datetime) else None,
        source=APPROVAL_SOURCE,
    )
    return approval, pending


def _stored_decision(guard: Guard, record_id: Any) -> Decision | None:
    if not record_id:
        return None
    try:
        return shared_store(guard.settings).get(str(record_id)).decision
    except Exception:
        return None


def _failed(pending: GuardResult | None, fingerprint: str, why: str) -> Exception:
    if pending is None:
        from airflow.sdk.exceptions import AirflowFailException

        return AirflowFailException(f"{why}\nfingerprint: {fingerprint}")
    return TaskBlocked(pending.decision, pending.record_id, why=why)
