"""A real guard server (`access-guardrails guard-server`) in a subprocess, for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.waiting import wait_until


class GuardServerProcess:
    """The server's process and socket; `stop()` ends it (SIGTERM), `kill()` without warning."""

    def __init__(self, socket: Path, process: subprocess.Popen[str]) -> None:
        self.socket = socket
        self.process = process

    def pending_connections(self) -> int:
        """Connections the kernel queued for the server that it has not answered yet: the
        unix sockets bound to its path, less the listening one (from /proc/net/unix)."""
        path = str(self.socket)
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
        return sum(1 for line in lines if line.split()[-1] == path) - 1

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> str:
        """End the server as a deployment would (SIGTERM) and return what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
        out, err = self.process.communicate(timeout=60)
        return out + err


@contextmanager
def guard_server(
    socket: Path, environ: Mapping[str, str], *extra: str
) -> Iterator[GuardServerProcess]:
    """`access-guardrails guard-server --socket SOCKET` with `environ`, serving once its socket
    exists; stopped when the block ends."""
    socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guardrails_core.cli",
            "guard-server",
            "--socket",
            str(socket),
            *extra,
        ],
        env={**os.environ, **environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = GuardServerProcess(socket, process)
    try:
        wait_until(
            lambda: socket.exists() or process.poll() is not None,
            timeout=120,
            what="the guard server's socket",
        )
        if process.poll() is not None:
            raise AssertionError(f"the guard server did not start:\n{server.stop()}")
        yield server
    finally:
        server.stop()
