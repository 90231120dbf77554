"""The guard server and its client: a real `access-guardrails guard-server` process judges and
records for guards in other processes; every way it can fail to answer denies the command."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, Outcome, RecordKind
from guardrails_core.guard import Guard, GuardResult, open_guard
from guardrails_core.guard_client import GUARD_SERVER_RULE, RemoteGuard
from guardrails_core.model import Context, Verdict
from guardrails_core.settings import Settings
from tests.guard_servers import GuardServerProcess, guard_server
from tests.waiting import wait_until

UPDATE = "UPDATE orders SET total = total + 1 WHERE id = 7"
POLICY = """\
version: 1
id: guard-server-tests
rules: []
"""
NO_WRITES = """\
version: 1
id: guard-server-tests
rules:
  - id: no-writes-today
    match:
      intents: [write]
    decision: deny
    message: no writes while the warehouse is migrated
"""


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """The settings the server and its workers share: home, audit store, policy, socket."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return {
        "GUARDRAILS_HOME": str(tmp_path / "home"),
        "GUARDRAILS_AUDIT_URL": f"sqlite:///{tmp_path / 'audit.sqlite3'}",
        "GUARDRAILS_POLICY": str(policy),
        "GUARDRAILS_GUARD_SOCKET": str(tmp_path / "run" / "guard.sock"),
    }


@pytest.fixture
def server(environ: dict[str, str]) -> Iterator[GuardServerProcess]:
    with guard_server(Path(environ["GUARDRAILS_GUARD_SOCKET"]), environ) as running:
        yield running


def worker_guard(environ: dict[str, str], **changes: str) -> Guard:
    return open_guard(Settings.load({**environ, **changes}))


def records(environ: dict[str, str]) -> list[AuditRecord]:
    with AuditStore(environ["GUARDRAILS_AUDIT_URL"], create=False) as store:
        return list(store.query(AuditFilter()))


def assert_denied_naming_the_socket(result: GuardResult, socket_path: str, why: str) -> None:
    assert not result.proceed and result.record_id is None
    reason = result.decision.reasons[0]
    assert (result.decision.decision, reason.rule_id) == (Verdict.DENY, GUARD_SERVER_RULE)
    assert socket_path in reason.message and why in reason.message
    assert f"access-guardrails guard-server --socket {socket_path}" in reason.message


def test_settings_with_a_socket_give_a_guard_that_asks_the_server(
    environ: dict[str, str],
) -> None:
    assert isinstance(worker_guard(environ), RemoteGuard)
    assert not isinstance(worker_guard(environ, GUARDRAILS_GUARD_SOCKET=""), RemoteGuard)


def test_the_server_judges_records_then_replies_and_appends_outcomes(
    environ: dict[str, str], server: GuardServerProcess
) -> None:
    guard = worker_guard(environ)
    context = Context(orchestrator="prefect", pipeline="nightly", task="load")

    allowed = guard.check(UPDATE, dialect="sqlite", context=context)
    # Recorded before the reply: the trail holds it, pending, when check returns.
    [record] = records(environ)
    assert allowed.proceed and allowed.record_id == record.record_id
    assert record.state is Outcome.PENDING and record.decision is not None
    assert record.decision.decision_id == allowed.decision.decision_id
    local = Guard(settings=Settings.load({**environ, "GUARDRAILS_GUARD_SOCKET": ""}), record=False)
    judged_here = local.check(UPDATE, dialect="sqlite", context=context).decision
    assert allowed.decision.intents == judged_here.intents
    assert allowed.decision.reasons == judged_here.reasons
    assert allowed.decision.context == context

    denied = guard.check("DROP TABLE orders", dialect="sqlite", context=context)
    assert denied.decision.reasons[0].rule_id == "baseline.drop" and denied.record_id

    guard.finish(allowed, Outcome.SUCCEEDED)
    guard.finish(denied, Outcome.FAILED, detail="never ran", wait=False)
    assert guard.flush()
    with AuditStore(environ["GUARDRAILS_AUDIT_URL"], create=False) as store:
        assert [r.state for r in store.history(allowed.record_id or "")] == [
            Outcome.PENDING,
            Outcome.SUCCEEDED,
        ]
        assert store.history(denied.record_id or "")[-1].detail == "never ran"

    nothing = guard.checked_nothing(context)
    assert nothing.proceed and nothing.record_id


def test_the_socket_is_the_owners_alone(
    environ: dict[str, str], server: GuardServerProcess
) -> None:
    assert stat.S_IMODE(os.stat(server.socket).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.socket.parent).st_mode) == 0o700


def test_a_server_refuses_a_socket_directory_others_can_enter(
    environ: dict[str, str], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "guardrails_core.cli",
            "guard-server",
            "--socket",
            str(shared / "g"),
        ],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "only its owner can enter" in done.stderr and f"chmod 700 {shared}" in done.stderr


def test_no_server_denies_naming_the_socket_and_how_to_start_it(
    environ: dict[str, str],
) -> None:
    result = worker_guard(environ).check(UPDATE, dialect="sqlite")
    assert_denied_naming_the_socket(result, environ["GUARDRAILS_GUARD_SOCKET"], "No such file")


def test_a_server_with_another_policy_refuses_and_the_worker_denies(
    environ: dict[str, str], server: GuardServerProcess, tmp_path: Path
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(NO_WRITES)
    result = worker_guard(environ, GUARDRAILS_POLICY=str(other)).check(UPDATE, dialect="sqlite")
    assert_denied_naming_the_socket(result, str(server.socket), "policy")
    assert str(other) in result.decision.reasons[0].message
    result = worker_guard(environ, GUARDRAILS_MODE="audit").check(UPDATE, dialect="sqlite")
    assert_denied_naming_the_socket(result, str(server.socket), "mode")
    assert records(environ) == []


def test_the_server_judges_with_the_policy_file_as_it_is_now(
    environ: dict[str, str], server: GuardServerProcess
) -> None:
    guard = worker_guard(environ)
    assert guard.check(UPDATE, dialect="sqlite").proceed

    Path(environ["GUARDRAILS_POLICY"]).write_text(NO_WRITES)
    changed = guard.check(UPDATE, dialect="sqlite")
    assert changed.decision.reasons[0].rule_id == "no-writes-today" and changed.record_id

    Path(environ["GUARDRAILS_POLICY"]).write_text("rules: [this is not a policy")
    broken = guard.check(UPDATE, dialect="sqlite")
    assert_denied_naming_the_socket(broken, str(server.socket), "cannot load its policy")


def test_a_server_that_does_not_answer_in_time_denies(
    environ: dict[str, str], server: GuardServerProcess
) -> None:
    server.pause()
    result = worker_guard(environ, GUARDRAILS_GUARD_TIMEOUT="0.5").check(UPDATE, dialect="sqlite")
    assert_denied_naming_the_socket(result, str(server.socket), "no answer within 0.5 s")


def test_a_server_killed_mid_request_denies(
    environ: dict[str, str], server: GuardServerProcess
) -> None:
    guard = worker_guard(environ)
    server.pause()  # it accepts nothing more: the request waits in the kernel's queue
    results: list[GuardResult] = []
    asking = threading.Thread(target=lambda: results.append(guard.check(UPDATE, dialect="sqlite")))
    asking.start()
    wait_until(lambda: server.pending_connections() > 0, what="the request to reach the server")
    server.kill()
    asking.join(60)
    [result] = results
    assert_denied_naming_the_socket(result, str(server.socket), "did not judge")
    assert records(environ) == []


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"hello\n", "not a reply"),
        (b'{"decision": {"decision": "allow"}, "record_id": "1"}\n', "a garbled reply"),
        (b'["allow"]\n', "not a reply"),
        (b'{"decision": ', "closed before a complete reply"),
    ],
)
def test_a_garbled_reply_denies(environ: dict[str, str], reply: bytes, why: str) -> None:
    path = Path(environ["GUARDRAILS_GUARD_SOCKET"])
    path.parent.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen()

        def answer_once() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.makefile("rb").readline()
                connection.sendall(reply)

        answering = threading.Thread(target=answer_once)
        answering.start()
        result = worker_guard(environ).check(UPDATE, dialect="sqlite")
        answering.join(30)
    assert_denied_naming_the_socket(result, str(path), why)


# What the guard path must not load in a worker that asks the server.
HEAVY = (
    "sqlglot",
    "guardrails_core.intent",
    "guardrails_core.policy",
    "guardrails_core.check",
    "guardrails_core.impact.plan",
    "guardrails_core.audit.store",
)

# A fresh worker: imports an adapter's run path, judges one command in a unit of work through
# the server, appends its outcome, and reports what it loaded.
WORKER = """
import json, sys
before = set(sys.modules)
import {adapter}
from guardrails_core.guard import Guard
from guardrails_core.model import Context
from guardrails_core.session import Command, GuardSession, Origin
session = GuardSession(Guard.shared(), lambda connection: Context(orchestrator="test"))
result = session.judge(Command({update!r}, dialect="sqlite", origin=Origin.DECLARED))
session.finish(None)
print(json.dumps({{"verdict": result.decision.decision.value, "record_id": result.record_id,
                   "loaded": sorted(set(sys.modules) - before)}}))
"""


@pytest.mark.parametrize(
    "adapter",
    ["guardrails_core.session", "prefect_guardrails._tasks", "airflow_guardrails._running"],
)
def test_a_worker_asking_the_server_never_loads_the_analyzer_or_policy(
    environ: dict[str, str], server: GuardServerProcess, adapter: str
) -> None:
    orchestrator = {"prefect_guardrails": "prefect", "airflow_guardrails": "airflow"}
    needed = orchestrator.get(adapter.split(".")[0])
    if needed is not None and find_spec(needed) is None:
        pytest.skip(f"{needed} is not installed")
    done = subprocess.run(
        [sys.executable, "-c", WORKER.format(adapter=adapter, update=UPDATE)],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    ran = json.loads(done.stdout.splitlines()[-1])
    assert ran["verdict"] == "allow" and ran["record_id"]
    heavy = [name for name in ran["loaded"] if name.startswith(HEAVY)]
    assert heavy == []
    with AuditStore(environ["GUARDRAILS_AUDIT_URL"], create=False) as store:
        history = store.history(ran["record_id"])
    assert [r.state for r in history] == [Outcome.PENDING, Outcome.SUCCEEDED]
    assert [r.kind for r in history] == [RecordKind.DECISION, RecordKind.OUTCOME]
