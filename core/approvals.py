"""Approvals a person gives from the command line to a statement an agent was told to hold, or
that a dbt run (`access-guardrails dbt`) stopped at for review.

    access-guardrails approve APPROVAL_ID [--by NAME] [--ttl MINUTES]
    access-guardrails reject  APPROVAL_ID [--by NAME] [--reason TEXT]

An approval id is the audit record id of a `review` decision (its state `awaiting_approval`).
The approval lives in the same audit trail the Airflow and Prefect approvals use: an `approved`
or `rejected` outcome appended to that record, by the person. `redeem` turns it into an
`Approval` bound to the fingerprint of the exact statement, at most once and before it expires;
the decision that spends it names the approval id, so a second use finds the first one.
Nothing an agent can call grants an approval: only these commands do.
"""

from __future__ import annotations

import argparse
import fcntl
import getpass
import json
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from guardrails_core.model import Approval, Verdict

if TYPE_CHECKING:
    from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore
    from guardrails_core.settings import Settings

#: The `source` of an approval given with `access-guardrails approve`.
APPROVAL_SOURCE = "access-guardrails approve"
DEFAULT_TTL = timedelta(minutes=30)
#: The orchestrator of the decisions these approvals answer (the MCP server's context).
HELD_BY = "mcp"
#: Every orchestrator whose held statements are answered here: the MCP server, and dbt, whose
#: run stops at a held statement and uses the approval when it is run again.
ANSWERED_HERE = frozenset({HELD_BY, "dbt"})

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Binding:
    """What the approval of a held statement binds to. By default the statement's exact text
    (its fingerprint). With `label`, the key the held decision carries in that context label
    (dbt: the text with dbt's run-specific temporary relation names normalised, so the next run
    of the model can use it), falling back to the fingerprint when the label is absent; a use of
    it is then looked for among the decisions of the held decision's task, whose texts differ."""

    label: str | None = None

    def key(self, record: AuditRecord) -> str:
        """The key of the statement held at `record` that an approval of it binds to."""
        if self.label and record.decision is not None:
            keyed = dict(record.decision.context.labels).get(self.label)
            if keyed:
                return keyed
        return record.subject.fingerprint

    def uses(self, record: AuditRecord) -> AuditFilter:
        """The decisions among which a use of an approval of `record` would be."""
        from guardrails_core.audit import AuditFilter, RecordKind

        if (
            self.label
            and record.decision is not None
            and self.key(record) != (record.subject.fingerprint)
        ):
            return AuditFilter(task=record.decision.context.task, kind=RecordKind.DECISION)
        return AuditFilter(fingerprint=record.subject.fingerprint, kind=RecordKind.DECISION)


EXACT = Binding()


class ApprovalRefused(ValueError):
    """The approval id cannot be used or answered; the message says why and what to do."""


def _request(store: AuditStore, approval_id: str) -> AuditRecord:
    """The decision record an approval id names: a review that was held for a person."""
    from guardrails_core.audit import RecordKind, RecordNotFound

    try:
        record = store.get(approval_id)
    except RecordNotFound:
        raise ApprovalRefused(
            f"no approval request {approval_id!r} in the audit trail; use the approval id the "
            "held statement returned"
        ) from None
    if record.kind is not RecordKind.DECISION or record.subject.verdict is not Verdict.REVIEW:
        raise ApprovalRefused(f"{approval_id} is not a statement held for review")
    held_by = record.decision.context.orchestrator if record.decision else None
    if held_by not in ANSWERED_HERE:
        raise ApprovalRefused(
            f"{approval_id} waits in {held_by or 'another tool'}, not in the MCP server or a "
            "dbt run: answer it there (Airflow's Required Actions, Prefect's paused run)"
        )
    return record


def grant(
    store: AuditStore,
    approval_id: str,
    *,
    approver: str,
    ttl: timedelta = DEFAULT_TTL,
    now: Clock = utc_now,
) -> datetime:
    """Approve the held statement `approval_id` until now + `ttl`; when the approval expires."""
    from guardrails_core.audit import Outcome

    record = _request(store, approval_id)
    _still_open(store, record)
    if approver == record.subject.actor_id:
        raise ApprovalRefused(f"{approver} asked for {approval_id}, so cannot approve it")
    expires = now() + ttl
    detail = json.dumps(
        {"expires_at": expires.isoformat(), "fingerprint": record.subject.fingerprint}
    )
    store.record_outcome(record.record_id, Outcome.APPROVED, actor=approver, detail=detail)
    return expires


def reject(store: AuditStore, approval_id: str, *, approver: str, reason: str | None) -> None:
    """Refuse the held statement `approval_id`: it can no longer be approved or run with it."""
    from guardrails_core.audit import Outcome

    record = _request(store, approval_id)
    _still_open(store, record)
    store.record_outcome(record.record_id, Outcome.REJECTED, actor=approver, detail=reason)


def _still_open(store: AuditStore, record: AuditRecord) -> None:
    answer = _answer_of(store, record)
    if answer is not None:
        raise ApprovalRefused(
            f"{record.record_id} was already {answer.state.value} by {answer.actor}"
        )


def _answer_of(store: AuditStore, record: AuditRecord) -> AuditRecord | None:
    """The person's answer to a held statement (approved or rejected), if there is one yet."""
    from guardrails_core.audit import Outcome

    answers = (Outcome.APPROVED, Outcome.REJECTED)
    return next((r for r in store.history(record.record_id) if r.state in answers), None)


_REDEEMING = threading.Lock()


@contextmanager
def one_at_a_time(lock_file: Path | None) -> Iterator[None]:
    """Redeem one approval at a time: in this process, and in every process that shares
    `lock_file` (the MCP servers that agents start on one machine share GUARDRAILS_HOME)."""
    with _REDEEMING:
        if lock_file is None:
            yield
            return
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def redeem(
    store: AuditStore,
    approval_id: str,
    *,
    fingerprints: Sequence[str],
    requester: str | None,
    spend: Callable[[Approval], T],
    now: Clock = utc_now,
    lock_file: Path | None = None,
    binding: Binding = EXACT,
) -> T:
    """Check that `approval_id` approves one of the statements of `fingerprints` (a script's)
    for `requester` (the actor id that asked), unexpired and unused, then `spend(approval)`,
    which must record the decision that uses it (that record is what makes a second use fail);
    its result.

    Raises `ApprovalRefused` for an unknown, pending, rejected, expired or used id, and for an
    approval of any other statement. `binding` says what `fingerprints` are keys of (default:
    exact texts); the approval spent carries that key."""
    from guardrails_core.audit import Outcome

    with one_at_a_time(lock_file):  # the check and the recording of its use
        record = _request(store, approval_id)
        answer = _answer_of(store, record)
        if answer is None:
            raise ApprovalRefused(
                f"{approval_id} is still waiting for a person (access-guardrails approve "
                f"{approval_id}); ask them, do not retry it"
            )
        if answer.state is Outcome.REJECTED:
            raise ApprovalRefused(f"{answer.actor} rejected {approval_id}: {answer.detail or ''}")
        if record.subject.actor_id != requester:
            raise ApprovalRefused(
                f"{approval_id} was asked for by {record.subject.actor_id}; an approval is used "
                "by the client that asked for it"
            )
        fingerprint = binding.key(record)
        if fingerprint not in fingerprints:
            raise ApprovalRefused(
                f"{approval_id} approves another statement: a changed statement needs its own "
                "approval; send the approved statement exactly as it was"
            )
        if fingerprints.count(fingerprint) > 1:
            raise ApprovalRefused(
                f"{approval_id} approves one run of its statement; this script has it "
                f"{fingerprints.count(fingerprint)} times"
            )
        try:
            expires = datetime.fromisoformat(json.loads(answer.detail or "")["expires_at"])
        except (ValueError, KeyError, TypeError):
            # Answered where the statement waited (Airflow's Required Actions): used there.
            raise ApprovalRefused(
                f"{approval_id} was answered by {answer.actor} where it waited, not here"
            ) from None
        if now() >= expires:
            raise ApprovalRefused(f"{approval_id} expired at {expires.isoformat()}; ask again")
        for used in store.query(binding.uses(record)):
            if used.decision and any(
                a.comment == approval_id for a in used.decision.context.approvals
            ):
                raise ApprovalRefused(
                    f"{approval_id} was already used by decision {used.decision_id}; an "
                    "approval runs its statement once"
                )
        approval = Approval(
            approver=answer.actor or "unknown",
            fingerprint=fingerprint,
            approved_at=answer.recorded_at,
            source=APPROVAL_SOURCE,
            comment=approval_id,
        )
        return spend(approval)


def approved_requests(
    store: AuditStore, *, held_by: str, binding: Binding = EXACT
) -> dict[str, list[str]]:
    """Statements held by `held_by` that a person approved: approval ids by their `binding`'s
    key (the fingerprint), newest first. Whether one is still usable (unused, unexpired) is
    `redeem`'s to say."""
    from guardrails_core.audit import AuditFilter, Outcome, RecordKind

    answers = AuditFilter(kind=RecordKind.OUTCOME, states=(Outcome.APPROVED,), newest_first=True)
    found: dict[str, list[str]] = {}
    for answer in store.query(answers):
        record = store.get(answer.decision_record_id)
        if record.decision is not None and record.decision.context.orchestrator == held_by:
            found.setdefault(binding.key(record), []).append(record.record_id)
    return found


def redeem_first(
    store: AuditStore,
    approval_ids: Sequence[str],
    *,
    fingerprint: str,
    requester: str | None,
    spend: Callable[[Approval], T],
    lock_file: Path | None = None,
    binding: Binding = EXACT,
) -> T | None:
    """`redeem` the first of `approval_ids` that is still usable for the statement of
    `fingerprint` (its `binding`'s key); None when none is."""
    for approval_id in approval_ids:
        try:
            return redeem(
                store,
                approval_id,
                fingerprints=[fingerprint],
                requester=requester,
                spend=spend,
                lock_file=lock_file,
                binding=binding,
            )
        except ApprovalRefused:
            continue
    return None


# --------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `approve` and `reject` to the main CLI."""
    approve = subparsers.add_parser(
        "approve", help="let a statement an agent was told to hold run once (its approval id)"
    )
    approve.add_argument("approval_id", help="the approval id the held statement returned")
    approve.add_argument("--by", help="who approves, for the audit trail (default: you)")
    approve.add_argument(
        "--ttl",
        type=float,
        default=DEFAULT_TTL.total_seconds() / 60,
        metavar="MINUTES",
        help="minutes the approval stays usable (default: 30)",
    )
    approve.set_defaults(handler=_answer, approve=True)
    refuse = subparsers.add_parser("reject", help="refuse a statement an agent was told to hold")
    refuse.add_argument("approval_id", help="the approval id the held statement returned")
    refuse.add_argument("--by", help="who rejects it, for the audit trail (default: you)")
    refuse.add_argument("--reason", help="why, shown to the agent that asks again")
    refuse.set_defaults(handler=_answer, approve=False)


def _answer(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.audit import AuditStore, AuditUnavailable

    who = args.by or _user()
    try:
        with AuditStore.open(settings, create=False) as store:
            if args.approve:
                expires = grant(
                    store, args.approval_id, approver=who, ttl=timedelta(minutes=args.ttl)
                )
                answer = f"approved (by {who}, once, until {expires:%H:%M:%S} UTC)"
            else:
                reject(store, args.approval_id, approver=who, reason=args.reason)
                answer = f"rejected (by {who})"
            out.write(f"{args.approval_id} {answer}: {_held(store.get(args.approval_id))}\n")
    except (ApprovalRefused, AuditUnavailable) as error:
        sys.stderr.write(f"access-guardrails: nothing recorded: {error}\n")
        return 1
    return 0


def _held(record: AuditRecord) -> str:
    """The held statement as the trail keeps it (literals masked unless full text is on)."""
    decision = record.decision
    if decision is None:
        return "?"
    rule = record.subject.deciding_rule or "-"
    return f"{decision.command.text} [{rule}; asked by {record.subject.actor_id}]"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


__all__ = [
    "ANSWERED_HERE",
    "APPROVAL_SOURCE",
    "EXACT",
    "ApprovalRefused",
    "Binding",
    "approved_requests",
    "grant",
    "redeem",
    "redeem_first",
    "register",
    "reject",
]
