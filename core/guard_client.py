"""A guard that asks the guard server (`access-guardrails guard-server`) over its Unix socket.

A fresh worker process (an Airflow task, a Prefect flow run) would otherwise load the analyzer,
compile the policy and open the audit store for its first decision. With `guard_socket` set
(GUARDRAILS_GUARD_SOCKET), `open_guard` gives it a `RemoteGuard` instead: each command goes to
the long-lived server, which judges it, records the decision durably, and only then replies
with the Decision; outcomes go the same way. This module imports no analyzer, policy engine or
audit store.

Fail closed: when the server cannot be reached, does not answer within `guard_timeout`, answers
something that is not a decision, or refuses (it serves another policy), the command is denied
(rule `guard-server:unavailable`, not recorded: there was nothing to record it with) with a
message naming the socket and how to start the server.

What stays in the worker: measuring row impact on the task's own connection (an `ImpactProbe`)
needs the analysis of the statement and the policy's impact settings, so a worker that measures
loads them; the estimates are sent with the command and judged by the server.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import socket
import stat
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import (
    CommandKind,
    CommandRef,
    Context,
    Decision,
    Intent,
    Mode,
    PolicyRef,
    Reason,
    Verdict,
    configure_fingerprint_key,
    fingerprint_text,
)
from guardrails_core.settings import Settings

if TYPE_CHECKING:
    from guardrails_core.audit import Outcome
    from guardrails_core.impact import ImpactProbe
    from guardrails_core.model import Analysis, ImpactEstimate
    from guardrails_core.policy import Policy

log = logging.getLogger("guardrails")

PROTOCOL = 1
GUARD_SERVER_RULE = "guard-server:unavailable"
# A request or reply line is at most this many bytes past the command's own bound.
_ENVELOPE_BYTES = 4_000_000


class GuardServerUnavailable(Exception):
    """The guard server did not give a decision: unreachable, too slow, garbled, or refused."""


def judging_identity(settings: Settings) -> dict[str, Any]:
    """What a server must share with a worker to judge and record for it as the worker would:
    the policy file, mode and input bounds, and (as digests) the audit store, its full-text
    setting and the fingerprint key. Compared field by field on every request."""
    return {
        "protocol": PROTOCOL,
        "policy": str(Path(settings.policy).resolve()) if settings.policy else None,
        "mode": settings.mode.value if settings.mode is not None else None,
        "max_input_bytes": settings.max_input_bytes,
        "max_input_depth": settings.max_input_depth,
        "audit_on_failure": settings.audit_on_failure,
        "audit_full_text": settings.audit_full_text,
        "audit_store": _digest(settings.resolved_audit_url.encode("utf-8")),
        "fingerprint_key": _digest(settings.fingerprint_secret()),
    }


def _digest(value: bytes) -> str:
    return hashlib.sha256(b"access-guardrails/guard-server/v1:" + value).hexdigest()[:16]


def start_hint(path: Path) -> str:
    return (
        f"start it with `access-guardrails guard-server --socket {path}` (with this worker's "
        "GUARDRAILS_POLICY and audit settings), or unset GUARDRAILS_GUARD_SOCKET to judge in "
        "this process"
    )


def ask(path: Path, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Send one request to the server at `path` and return its reply; raise
    GuardServerUnavailable on anything else than a well-formed reply within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    try:
        owner = os.stat(path)
        if not stat.S_ISSOCK(owner.st_mode):
            raise GuardServerUnavailable(f"{path} is not a socket")
        if owner.st_uid != os.getuid():  # 0600: only its owner can connect; say so plainly
            raise GuardServerUnavailable(f"{path} belongs to uid {owner.st_uid}, not this user")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(path))
            connection.sendall(json.dumps(request).encode("utf-8") + b"\n")
            connection.shutdown(socket.SHUT_WR)
            reply = _read_reply(connection, deadline)
    except TimeoutError:
        raise GuardServerUnavailable(f"no answer within {timeout:g} s") from None
    except OSError as error:
        raise GuardServerUnavailable(error.strerror or str(error)) from None
    try:
        answer = json.loads(reply)
    except ValueError:
        raise GuardServerUnavailable(f"not a reply: {reply[:80]!r}") from None
    if not isinstance(answer, dict):
        raise GuardServerUnavailable(f"not a reply: {reply[:80]!r}")
    refusal = answer.get("error")
    if refusal is not None:
        raise GuardServerUnavailable(f"the server refused: {refusal}")
    return answer


def _read_reply(connection: socket.socket, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        connection.settimeout(remaining)
        chunk = connection.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > _ENVELOPE_BYTES * 4:
            raise GuardServerUnavailable("the reply is too large")
    reply = b"".join(chunks)
    if not reply.endswith(b"\n"):  # the server ended before its reply was complete
        raise GuardServerUnavailable("the connection closed before a complete reply")
    return reply


class RemoteGuard(Guard):
    """A guard whose decisions are judged and recorded by the guard server (see the module).

    Used where a `Guard` is: `check`, `checked_nothing`, `finish` and `flush` go to the server;
    measuring, reversible runs and reading the audit trail (approvals) happen here, loading the
    analyzer, the policy or the store on first use.
    """

    def __init__(self, settings: Settings) -> None:  # no super().__init__: nothing to load
        if settings.guard_socket is None:
            raise ValueError("a RemoteGuard needs settings.guard_socket")
        self.settings = settings
        self.socket = Path(settings.guard_socket)
        configure_fingerprint_key(settings.fingerprint_secret())
        self._identity = judging_identity(settings)
        self._local_policy: Policy | None = None
        self._store = None
        self._store_given = False
        self._owns_store = False
        self._record = True
        self._lock = threading.Lock()
        self._outcomes = None
        self._pending: list[list[str | None]] = []
        _REMOTE_GUARDS.add(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RemoteGuard, (self.settings,))

    @property
    def policy(self) -> Policy:
        """The policy file of the settings, loaded here only when a worker-side step needs it
        (measuring impact, running reversibly); the server judges with its own copy."""
        with self._lock:
            if self._local_policy is None:
                from guardrails_core.policy import baseline_policy, load_policy

                path = self.settings.policy
                self._local_policy = load_policy(path) if path else baseline_policy()
            return self._local_policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._local_policy = policy

    def check(
        self,
        text: str,
        *,
        kind: CommandKind | str = CommandKind.SQL,
        dialect: str | None = None,
        context: Context | None = None,
        probe: ImpactProbe | None = None,
        policy: Policy | None = None,
        analysis: Analysis | None = None,
        estimates_optional: bool = False,
        impact: tuple[ImpactEstimate, ...] | None = None,
    ) -> GuardResult:
        """Have the server judge and record `text`; a denial naming the socket when it cannot."""
        if policy is not None:
            raise TypeError("a RemoteGuard judges with the server's policy: pass no policy=")
        impact = self.measured(text, kind, dialect, context, probe, analysis) or impact
        if probe is not None and CommandKind(kind) is CommandKind.SQL:
            dialect = dialect or probe.dialect
        context = context or Context()
        request = {
            "op": "check",
            "text": text,
            "kind": CommandKind(kind).value,
            "dialect": dialect,
            "context": context.model_dump(mode="json"),
            "estimates_optional": estimates_optional,
            "impact": [estimate.model_dump(mode="json") for estimate in impact or ()],
        }
        return self._judged(request, text, CommandKind(kind), dialect, context)

    def checked_nothing(self, context: Context, *, unit: str = "guarded task") -> GuardResult:
        request = {"op": "nothing", "context": context.model_dump(mode="json"), "unit": unit}
        return self._judged(request, "", CommandKind.SQL, None, context)

    def _judged(
        self,
        request: dict[str, Any],
        text: str,
        kind: CommandKind,
        dialect: str | None,
        context: Context,
    ) -> GuardResult:
        try:
            answer = self._ask(request)
            decision = Decision.from_dict(answer["decision"])
            record_id = answer["record_id"]
            if record_id is not None and not isinstance(record_id, str):
                raise TypeError("record_id is not a string")
        except (GuardServerUnavailable, KeyError, TypeError, ValueError) as error:
            why = (
                str(error)
                if isinstance(error, GuardServerUnavailable)
                else f"a garbled reply: {type(error).__name__}: {str(error)[:200]}"
            )
            return GuardResult(self.unavailable(text, kind, dialect, context, why), None)
        return GuardResult(decision, record_id)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        return ask(
            self.socket, {**request, "identity": self._identity}, self.settings.guard_timeout
        )

    def unavailable(
        self, text: str, kind: CommandKind, dialect: str | None, context: Context, why: str
    ) -> Decision:
        """The denial of a command the server did not judge: nothing analysed, nothing recorded."""
        from guardrails_core.version import ANALYZER_VERSION

        message = (
            f"the guard server at {self.socket} did not judge this command ({why}), so it does "
            f"not run: {start_hint(self.socket)}"
        )
        return Decision(
            decision=Verdict.DENY,
            mode=Mode.ENFORCE,
            fingerprint=fingerprint_text(text),
            intents=(Intent.UNKNOWN,),
            statements=(),
            reasons=(Reason(rule_id=GUARD_SERVER_RULE, decision=Verdict.DENY, message=message),),
            command=CommandRef(kind=kind, dialect=dialect, text=text),
            policy=PolicyRef(id=str(self._identity["policy"] or "baseline"), sha256=""),
            context=context,
            analyzer_version=ANALYZER_VERSION,
        )

    # ----------------------------------------------------------------------- outcomes

    def finish(
        self,
        result: GuardResult,
        outcome: Outcome | str,
        *,
        detail: str | None = None,
        actor: str | None = None,
        wait: bool = True,
    ) -> str | None:
        """Have the server append the outcome to the record (`wait=False`: with the next
        `flush`, in one request). Best effort, as in-process: the decision is durable already."""
        if result.record_id is None:
            return None
        item = [result.record_id, str(getattr(outcome, "value", outcome)), actor, detail]
        if not wait:
            with self._lock:
                self._pending.append(item)
            return None
        written = self._send_outcomes([item])
        return written[0] if written else None

    def flush(self, timeout: float = 10.0) -> bool:
        with self._lock:
            pending, self._pending = self._pending, []
        return not pending or bool(self._send_outcomes(pending))

    def _send_outcomes(self, items: list[list[str | None]]) -> list[str]:
        try:
            answer = self._ask({"op": "outcomes", "outcomes": items})
            written = answer["written"]
            if not isinstance(written, list):
                raise TypeError("written is not a list")
        except (GuardServerUnavailable, KeyError, TypeError) as error:
            log.warning(
                "guardrails: could not record %d outcomes through the guard server at %s: %s",
                len(items),
                self.socket,
                error,
            )
            return []
        return [str(record_id) for record_id in written]

    def close(self) -> None:
        self.flush()
        super().close()


_REMOTE_GUARDS: weakref.WeakSet[RemoteGuard] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for guard in list(_REMOTE_GUARDS):
        guard.flush()


__all__ = ["GUARD_SERVER_RULE", "GuardServerUnavailable", "RemoteGuard", "ask", "judging_identity"]
