"""The guard server: one long-lived local process that holds the analyzer, the compiled policy
and the audit store, and judges and records commands for worker processes over a Unix socket.

    access-guardrails guard-server --socket /run/guardrails/guard.sock

Workers with GUARDRAILS_GUARD_SOCKET set ask it (`guard_client.RemoteGuard`) instead of loading
the guard themselves. A request is one JSON line, its reply one JSON line:
  - `check`: a command with its kind, dialect, context (and row estimates measured by the
    worker) -> the Decision (`Decision.to_dict`) and the id of its audit record. The decision
    is durably recorded before the reply is written (record before execute);
  - `nothing`: a guarded unit sent no command (`Guard.checked_nothing`);
  - `outcomes`: outcomes to append to recorded decisions, in one commit;
  - `ping`: the server's identity, for readiness checks.
Every request carries the worker's judging identity (policy file, mode, input bounds, digests
of its audit store and fingerprint key); a request whose identity differs from the server's is
refused, and the worker denies its command. The policy file is stat'ed on every request and
loaded again when it changed; while it does not load, every request is refused.

The socket is created 0600 in a directory only its owner can enter (0700): whoever can connect
can have commands judged and records appended under this server's audit identity.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import socketserver
import stat
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from guardrails_core.guard import Guard
from guardrails_core.guard_client import (
    _ENVELOPE_BYTES,
    GuardServerUnavailable,
    ask,
    judging_identity,
)
from guardrails_core.model import Context, ImpactEstimate
from guardrails_core.settings import Settings

log = logging.getLogger("guardrails")

_Stamp = tuple[int, int, int] | None


def _stamp(policy: Path | None) -> _Stamp:
    """What tells a changed policy file: its inode, size and modification time."""
    if policy is None:
        return None
    found = os.stat(policy)
    return found.st_ino, found.st_size, found.st_mtime_ns


class GuardServer:
    """Judges and records requests with the guard of `settings` (see the module)."""

    def __init__(self, settings: Settings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self.identity = judging_identity(settings)
        self._lock = threading.Lock()
        self._guard: Guard | None = None
        self._stamp: _Stamp = None
        self._listener: _Listener | None = None

    def guard(self) -> Guard:
        """The guard of the policy file as it is now (loaded again when the file changed)."""
        stamp = _stamp(self.settings.policy)
        with self._lock:
            if self._guard is None or stamp != self._stamp:
                fresh = Guard(settings=self.settings)
                if self._guard is not None:
                    log.warning("guardrails: guard server reloaded %s", self.settings.policy)
                self._guard, self._stamp = fresh, stamp
            return self._guard

    def answer(self, request: Any) -> dict[str, Any]:
        """The reply to one request: what it asked for, or `{"error": why}`."""
        if not isinstance(request, dict):
            return {"error": "a request is a JSON object"}
        mismatch = self._mismatch(request.get("identity"))
        if mismatch is not None:
            return {"error": mismatch}
        op = request.get("op")
        if op == "ping":
            return {"pid": os.getpid(), "identity": self.identity}
        try:
            guard = self.guard()
        except Exception as error:  # an unreadable or invalid policy: refuse, never guess
            return {"error": f"the server cannot load its policy: {error}"}
        try:
            return self._answer(guard, op, request)
        except Exception as error:  # a malformed request, a failing store: the worker denies
            return {"error": f"the {op!r} request failed: {type(error).__name__}: {error}"}

    def _answer(self, guard: Guard, op: Any, request: dict[str, Any]) -> dict[str, Any]:
        if op == "check":
            result = guard.check(
                str(request["text"]),
                kind=request["kind"],
                dialect=request.get("dialect"),
                context=Context.model_validate(request["context"]),
                estimates_optional=bool(request.get("estimates_optional")),
                impact=tuple(ImpactEstimate.model_validate(e) for e in request["impact"]) or None,
            )
        elif op == "nothing":
            context = Context.model_validate(request["context"])
            result = guard.checked_nothing(context, unit=str(request["unit"]))
        elif op == "outcomes":
            items = [(str(r), str(o), a, d) for r, o, a, d in request["outcomes"]]
            return {"written": self._outcomes(guard, items)}
        else:
            return {"error": f"unknown op {op!r}"}
        return {"decision": result.decision.to_dict(computed=False), "record_id": result.record_id}

    @staticmethod
    def _outcomes(guard: Guard, items: list[tuple[str, str, Any, Any]]) -> list[str]:
        from guardrails_core.audit import AuditError

        try:
            return guard.audit_store().record_outcomes(items)
        except AuditError as error:
            raise ValueError(f"could not record the outcomes: {error}") from None

    def _mismatch(self, identity: Any) -> str | None:
        """Why a worker with `identity` must not be judged here (None: it may)."""
        if not isinstance(identity, dict):
            return "the request names no judging identity"
        differing = [
            f"{key}: the server has {self.identity[key]!r}, the worker {identity.get(key)!r}"
            for key in self.identity
            if identity.get(key) != self.identity[key]
        ]
        if not differing:
            return None
        return (
            "the server judges with other settings than this worker ("
            + "; ".join(differing)
            + "): start a server with the worker's settings, or give the worker the server's"
        )

    # ----------------------------------------------------------------------- serving

    def warm(self, dialects: tuple[str, ...] = ()) -> None:
        """Load the guard, open the audit store, and judge (unrecorded) a statement in each of
        `dialects`, so that the first worker does not pay for loading them."""
        from guardrails_core.check import check

        guard = self.guard()  # a policy that does not load stops the server before it serves
        guard.audit_store()
        for dialect in (None, *dialects):
            check("UPDATE t SET a = 1 WHERE id = 1", dialect=dialect, policy=guard.policy)

    def listen(self, dialects: tuple[str, ...] = ()) -> None:
        """Load the guard (`warm`), then create the socket (0600, in a 0700 directory)."""
        self.warm(dialects)
        _prepare(self.path)
        previous = os.umask(0o177)
        try:
            self._listener = _Listener(str(self.path), _Handler)
        finally:
            os.umask(previous)
        os.chmod(self.path, 0o600)
        self._listener.guard_server = self

    def serve(self) -> None:
        assert self._listener is not None, "listen() first"
        try:
            self._listener.serve_forever(poll_interval=0.5)
        finally:
            self.close()

    def stop(self) -> None:
        """Stop serving (from another thread or a signal handler)."""
        if self._listener is not None:
            threading.Thread(target=self._listener.shutdown, daemon=True).start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.server_close()
            self._listener = None
            self.path.unlink(missing_ok=True)
        if self._guard is not None:
            self._guard.close()


class _Listener(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    guard_server: GuardServer


class _Handler(socketserver.StreamRequestHandler):
    server: _Listener

    def handle(self) -> None:
        server = self.server.guard_server
        line = self.rfile.readline(server.settings.max_input_bytes * 6 + _ENVELOPE_BYTES)
        try:
            request = json.loads(line)
        except ValueError:
            reply: dict[str, Any] = {"error": "a request is one line of JSON"}
        else:
            reply = server.answer(request)
        self.wfile.write(json.dumps(reply).encode("utf-8") + b"\n")


def _prepare(path: Path) -> None:
    """The socket's directory, made 0700 if new, else refused unless only its owner may enter
    it; a stale socket file is removed, a live server's is not."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
    found = folder.stat()
    if found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise PermissionError(
            f"{folder}: the guard server's socket goes in a directory only its owner can enter "
            f"(mode 0700, owned by this user; it is {stat.filemode(found.st_mode)}, uid "
            f"{found.st_uid}): choose another --socket, or `chmod 700 {folder}`"
        )
    if not path.exists() and not path.is_symlink():
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(path))
    except OSError:
        path.unlink()  # nobody listens: left by a server that was killed
        return
    raise FileExistsError(f"{path}: another guard server is listening there")


def ping(settings: Settings, path: Path, timeout: float = 1.0) -> int:
    """The pid of the guard server at `path` serving `settings`; GuardServerUnavailable else."""
    answer = ask(path, {"op": "ping", "identity": judging_identity(settings)}, timeout)
    pid = answer.get("pid")
    if not isinstance(pid, int):
        raise GuardServerUnavailable(f"not a guard server: {answer!r}")
    return pid


def cmd_guard_server(args: Any, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    """`access-guardrails guard-server --socket PATH`: serve until SIGTERM or Ctrl-C."""
    path = Path(args.socket or settings.guard_socket or "")
    if not args.socket and settings.guard_socket is None:
        sys.stderr.write(
            "access-guardrails: guard-server needs --socket PATH (or GUARDRAILS_GUARD_SOCKET)\n"
        )
        return 2
    server = GuardServer(settings, path.absolute())
    try:
        server.listen(tuple(args.dialect or ()))
    except (PermissionError, FileExistsError) as error:
        sys.stderr.write(f"access-guardrails: {error}\n")
        return 2

    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    policy = settings.policy or "the built-in baseline"
    out.write(f"guard server listening on {path} (policy {policy}, pid {os.getpid()})\n")
    out.flush()
    server.serve()
    return 0


__all__ = ["GuardServer", "cmd_guard_server", "ping"]
