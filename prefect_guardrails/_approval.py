"""Approvals by pausing the flow run: the decision is shown as the pause's description, a person
resumes with an ApprovalInput, and the approval is bound to the command's fingerprint.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from guardrails_core.audit import Outcome
from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import Approval, Decision
from guardrails_core.render import render_text

from ._publish import publish_outcome

APPROVAL_SOURCE = "prefect-pause"


class ApprovalInput(RunInput):
    """What an approver answers when resuming a flow run paused by access-guardrails."""

    approve: bool = Field(
        default=False, description="Run this exact command (its fingerprint) in this flow run."
    )
    approver: str = Field(min_length=1, description="Who decides (recorded in the audit trail).")
    comment: str = Field(default="", description="Why; recorded with the decision.")


def approval_markdown(decision: Decision) -> str:
    """The pause's description: what would run, why it needs a person, how to answer."""
    return "\n".join(
        [
            "### access-guardrails: this command needs an approval",
            "",
            "```text",
            render_text(decision),
            "```",
            "",
            f"Approving runs **this exact command** (fingerprint `{decision.fingerprint}`); a "
            "changed command needs a new approval. Set `approve` and your name as `approver` to "
            "run it; leave `approve` unset to reject it (the task then fails as Blocked).",
        ]
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
            answer = _answer(decision, response)
    if answer.outcome is not None:
        detail = answer.detail or None
        guard.finish(result, answer.outcome, actor=answer.approver, detail=detail)
        publish_outcome(result, answer.outcome, actor=answer.approver, detail=detail)
    return answer


def _answer(decision: Decision, response: ApprovalInput) -> Answer:
    approver = response.approver.strip()
    comment = response.comment.strip()
    if not response.approve:
        reason = f"rejected by {approver}" + (f": {comment}" if comment else "")
        return Answer(None, Outcome.REJECTED, reason, approver)
    approval = Approval(
        approver=approver,
        fingerprint=decision.fingerprint,
        approved_at=datetime.now(UTC),
        source=APPROVAL_SOURCE,
        comment=comment or None,
    )
    return Answer(approval, Outcome.APPROVED, comment, approver)
