"""Approvals by pausing the flow run: the decision is shown as the pause's description, a person
resumes with an ApprovalInput, and the approval is bound to the command's fingerprint.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from guardrails_core import projection
from guardrails_core.audit import Outcome
from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import UNAUTHENTICATED, Approval, Decision, claimed

from ._publish import publish_outcome

log = logging.getLogger("guardrails.prefect")

APPROVAL_SOURCE = "prefect-pause"


class ApprovalInput(RunInput):
    """What an approver answers when resuming a flow run paused by access-guardrails."""

    approve: bool = Field(
        default=False, description="Run this exact command (its fingerprint) in this flow run."
    )
    approver: str = Field(
        min_length=1,
        description="Who decides (recorded in the audit trail; a claim unless the server "
        "authenticates you).",
    )
    comment: str = Field(default="", description="Why; recorded with the decision.")


def approval_markdown(decision: Decision) -> str:
    """The pause's description: what would run, why it needs a person, how to answer."""
    return projection.approval_form(
        decision,
        how_to_answer="Set `approve` and your name as `approver` to run it; leave `approve` "
        "unset to reject it (the task then fails as Blocked).",
    )


@dataclass(frozen=True)
class Answer:
    """The result of a request: an approval, or why there is none."""

    approval: Approval | None
    outcome: Outcome | None  # None: nobody could be asked, the decision stays awaiting approval
    detail: str
    approver: str | None = None


# Several guarded tasks of one flow run may need approvals at once; a flow run has one paused
# state at a time, so they ask one after the other.
_PAUSE_LOCKS: dict[str, threading.Lock] = {}
_PAUSE_LOCKS_GUARD = threading.Lock()


def _pause_lock(flow_run_id: str) -> threading.Lock:
    with _PAUSE_LOCKS_GUARD:
        return _PAUSE_LOCKS.setdefault(flow_run_id, threading.Lock())


def pause_key(decision: Decision, round_: int) -> str:
    """Bound to the fingerprint: the same command in the same flow run is asked about once."""
    return f"guardrails-{decision.fingerprint.rpartition(':')[2][:16]}-{round_}"


def request_approval(
    guard: Guard, result: GuardResult, *, timeout: int, poll_interval: int, round_: int = 0
) -> Answer:
    """Pause the flow run until a person approves or rejects `result`'s command (blocking).

    The outcome (approved with the approver, rejected, timed out) is appended to the decision's
    audit record and shown in Prefect before this returns.
    """
    decision = result.decision
    flow_ctx = FlowRunContext.get()
    if flow_ctx is None or flow_ctx.flow_run is None:
        answer = Answer(
            None, None, "no flow run to pause for an approval (run this task inside a flow)"
        )
    else:
        input_type = ApprovalInput.with_initial_data(
            description=approval_markdown(decision), approve=False
        )
        try:
            with _pause_lock(str(flow_ctx.flow_run.id)):
                response = pause_flow_run(
                    wait_for_input=input_type,
                    timeout=timeout,
                    poll_interval=poll_interval,
                    key=pause_key(decision, round_),
                )
        except FlowPauseTimeout:
            answer = Answer(None, Outcome.TIMED_OUT, f"no approval within {timeout} s")
        else:
            identity = authenticated_approver(str(flow_ctx.flow_run.id))
            answer = _answer(decision, response, identity)
    if answer.outcome is not None:
        detail = answer.detail or None
        guard.finish(result, answer.outcome, actor=answer.approver, detail=detail)
        publish_outcome(result, answer.outcome, actor=answer.approver, detail=detail)
    return answer


def authenticated_approver(flow_run_id: str) -> str | None:
    """Who resumed the flow run, as the server authenticated them: the `actor` resource of the
    flow run's latest state-change event (Prefect Cloud names one); None where the server has no
    accounts (a self-hosted Prefect server), or when it cannot be read."""
    event_filter = EventFilter(
        event=EventNameFilter(prefix=["prefect.flow-run."]),
        resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
    )
    try:
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=event_filter, limit=5).events
    except Exception as error:  # no identity is the safe answer: the name stays a claim
        log.debug("guardrails: cannot read who resumed flow run %s: %s", flow_run_id, error)
        return None
    for event in events:  # newest first
        for related in event.related:
            if related.role == "actor":
                return related.name or related.id
    return None


def _answer(decision: Decision, response: ApprovalInput, identity: str | None) -> Answer:
    typed = response.approver.strip()
    comment = response.comment.strip()
    approver = identity or UNAUTHENTICATED
    claim = typed if identity is None or typed != identity else None
    shown = claimed(typed) if identity is None else identity
    if not response.approve:
        reason = f"rejected by {shown}" + (f": {comment}" if comment else "")
        return Answer(None, Outcome.REJECTED, reason, shown)
    approval = Approval(
        approver=approver,
        approver_claim=claim,
        fingerprint=decision.fingerprint,
        approved_at=datetime.now(UTC),
        source=APPROVAL_SOURCE,
        comment=comment or None,
    )
    return Answer(approval, Outcome.APPROVED, comment, shown)
