"""A statement held for review runs only with a person's approval, once, unchanged, in time.

Every call goes through the MCP SDK's client against the server; the person answers with the
`access-guardrails approve|reject` command. The tests are the ways an agent could try to get
around that: guessed, pending, rejected, replayed, expired ids, changed SQL, smuggled statements.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import Implementation

from guardrails_core import cli
from guardrails_core.approvals import one_at_a_time
from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.guard import Guard
from guardrails_core.mcp_server import Gateway, build_server
from guardrails_core.model import Actor, ActorKind, Context
from guardrails_core.policy import load_policy
from guardrails_core.settings import Settings
from tests.core.mcp_support import call, guardrails_home, shop_database

POLICY = """\
version: 1
id: mcp-approvals
rules:
  - id: ai-updates-need-review
    match: {actor: [ai_agent], operations: [UPDATE]}
    decision: review
    message: an agent's UPDATE runs once a person approved it
"""
FIX = "UPDATE orders SET total = 0 WHERE id = 1"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from guardrails_home(tmp_path, monkeypatch)


@pytest.fixture
def shop(home: Path) -> str:
    return shop_database(home)


@pytest.fixture
def gateway(home: Path, shop: str) -> Iterator[Gateway]:
    policy = home / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    guard = Guard(settings=Settings.load(), policy=load_policy(policy))
    gateway = Gateway({"shop": shop}, guard=guard)
    yield gateway
    gateway.close()


def run(gateway: Gateway, sql: str, approval_id: str | None = None) -> Any:
    arguments = {"connection": "shop", "sql": sql}
    if approval_id is not None:
        arguments["approval_id"] = approval_id
    return call(gateway, "run_sql", arguments)


def person(*argv: str) -> tuple[int, str]:
    """A person at the command line: `access-guardrails approve|reject ...`."""
    out = io.StringIO()
    return cli.main(list(argv), out=out), out.getvalue()


def held(gateway: Gateway, sql: str = FIX) -> str:
    reply = run(gateway, sql)
    assert reply["ran"] == 0 and reply["refused"]["decision"] == "review", reply
    return str(reply["refused"]["approval_id"])


def granted_until(gateway: Gateway, approval_id: str) -> datetime:
    """When the person's approval of `approval_id` expires, as the trail recorded it: the test's
    clocks are set from it, never from the wall clock."""
    assert gateway.guard is not None
    answer = gateway.guard.audit_store().history(approval_id)[-1]
    return datetime.fromisoformat(json.loads(answer.detail or "{}")["expires_at"])


def totals(shop: str) -> list[int]:
    with sqlite3.connect(shop.removeprefix("sqlite:///")) as conn:
        return [row[0] for row in conn.execute("SELECT total FROM orders ORDER BY id")]


def refusal_message(reply: Any) -> str:
    assert reply["ran"] == 0, reply
    return str(reply["refused"]["reasons"][0]["message"])


def test_approved_once_from_the_cli_it_runs_once_with_a_way_back(
    gateway: Gateway, shop: str
) -> None:
    approval_id = held(gateway)
    assert totals(shop) == [10, 20, 30, 40, 50]
    code, said = person("approve", approval_id, "--by", "alice")
    assert code == 0
    assert said.startswith(f"{approval_id} approved (by alice, once, until ")
    assert said.endswith(
        "UPDATE orders SET total = ? WHERE id = ? [ai-updates-need-review; asked by copilot]\n"
    )

    reply = run(gateway, FIX, approval_id)
    assert reply["ran"] == 1 and reply["results"][0]["rows_affected"] == 1
    decision_id = reply["results"][0]["decision_id"]
    assert reply["results"][0]["undo"] == f"access-guardrails undo {decision_id}"
    assert totals(shop) == [0, 20, 30, 40, 50]

    with AuditStore.open(Settings.load()) as store:
        ran = store.find(decision_id).decision
    assert ran is not None
    assert (ran.context.actor.id, ran.context.actor.model) == ("copilot", "copilot/1.2")
    assert [(a.approver, a.comment) for a in ran.context.approvals] == [("alice", approval_id)]

    replayed = run(gateway, FIX, approval_id)  # the same id again: spent
    assert "already used" in refusal_message(replayed)
    assert person("undo", decision_id)[0] == 0  # the way back is the person's
    assert totals(shop) == [10, 20, 30, 40, 50]


def test_a_guessed_or_foreign_id_runs_nothing(gateway: Gateway, shop: str) -> None:
    guessed = run(gateway, FIX, uuid.uuid4().hex)
    assert "no approval request" in refusal_message(guessed)
    run(gateway, "SELECT * FROM orders")
    with AuditStore.open(Settings.load()) as store:
        allowed = store.query(AuditFilter(kind=RecordKind.DECISION))[0].record_id
    assert "not a statement held for review" in refusal_message(run(gateway, FIX, allowed))
    assert totals(shop) == [10, 20, 30, 40, 50]


def test_the_cli_answers_only_what_the_mcp_server_holds(gateway: Gateway) -> None:
    assert gateway.guard is not None
    in_airflow = Context(actor=Actor(kind=ActorKind.AI_AGENT, id="fixup"), orchestrator="airflow")
    waiting = gateway.guard.check(FIX, dialect="sqlite", context=in_airflow)
    assert waiting.decision.decision.value == "review" and waiting.record_id
    code, _ = person("approve", waiting.record_id, "--by", "alice")
    assert code == 1  # Airflow's Required Actions answers it, with its approvers


def test_a_pending_or_rejected_request_runs_nothing(gateway: Gateway, shop: str) -> None:
    approval_id = held(gateway)
    assert "still waiting for a person" in refusal_message(run(gateway, FIX, approval_id))
    assert person("reject", approval_id, "--by", "alice", "--reason", "wrong order")[0] == 0
    assert "rejected" in refusal_message(run(gateway, FIX, approval_id))
    assert person("approve", approval_id, "--by", "bob")[0] == 1  # answered already
    assert totals(shop) == [10, 20, 30, 40, 50]


def test_an_expired_approval_runs_nothing(gateway: Gateway, shop: str) -> None:
    approval_id = held(gateway)
    assert person("approve", approval_id, "--by", "alice", "--ttl", "5")[0] == 0
    expires = granted_until(gateway, approval_id)
    gateway.now = lambda: expires + timedelta(minutes=1)
    assert "expired" in refusal_message(run(gateway, FIX, approval_id))
    gateway.now = lambda: expires - timedelta(minutes=1)
    assert run(gateway, FIX, approval_id)["ran"] == 1  # within its five minutes


def test_sql_changed_after_approval_runs_nothing(gateway: Gateway, shop: str) -> None:
    approval_id = held(gateway)
    person("approve", approval_id, "--by", "alice")
    for changed in ("UPDATE orders SET total = 0 WHERE id = 2", "UPDATE orders SET total = 0"):
        reply = run(gateway, changed, approval_id)
        assert reply["ran"] == 0, reply
    assert "approves another statement" in refusal_message(
        run(gateway, "UPDATE orders SET total = 0 WHERE id = 2", approval_id)
    )
    assert totals(shop) == [10, 20, 30, 40, 50]


def test_a_script_cannot_smuggle_a_statement_along_with_the_approved_one(
    gateway: Gateway, shop: str
) -> None:
    approval_id = held(gateway)
    person("approve", approval_id, "--by", "alice")
    smuggled = run(gateway, f"{FIX}; UPDATE orders SET total = 0 WHERE id = 2", approval_id)
    assert smuggled["ran"] == 0 and smuggled["refused"]["decision"] == "review"
    assert smuggled["refused"]["approval_id"] != approval_id  # the second one needs its own
    dropped = run(gateway, f"{FIX}; DROP TABLE orders", approval_id)
    assert dropped["ran"] == 0 and dropped["refused"]["decision"] == "deny"
    twice = run(gateway, f"{FIX}; {FIX}", approval_id)
    assert "this script has it 2 times" in refusal_message(twice)
    assert totals(shop) == [10, 20, 30, 40, 50]
    assert run(gateway, FIX, approval_id)["ran"] == 1  # unspent by the refused scripts


def test_while_an_approval_is_spent_no_other_server_process_can_redeem(gateway: Gateway) -> None:
    # Every MCP server an agent starts on this machine shares GUARDRAILS_HOME, and so this lock.
    lock_file = gateway.approvals_lock()
    try_lock = (
        "import fcntl, sys\n"
        "handle = open(sys.argv[1], 'a')\n"
        "try:\n    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n    sys.exit(3)\n"
    )

    def other_process() -> int:
        return subprocess.run([sys.executable, "-c", try_lock, str(lock_file)]).returncode

    with one_at_a_time(lock_file):
        assert other_process() == 3  # held: a second redeem elsewhere waits
    assert other_process() == 0


def test_another_client_cannot_use_the_approval(gateway: Gateway, shop: str) -> None:
    approval_id = held(gateway)
    person("approve", approval_id, "--by", "alice")

    async def as_other_client() -> Any:
        other = Implementation(name="other-agent", version="9")
        async with Client(build_server(gateway), client_info=other) as client:
            arguments = {"connection": "shop", "sql": FIX, "approval_id": approval_id}
            return (await client.call_tool("run_sql", arguments)).structured_content

    assert "asked for by copilot" in refusal_message(asyncio.run(as_other_client()))
    assert totals(shop) == [10, 20, 30, 40, 50]


def test_no_tool_approves_or_undoes_and_the_agent_cannot_approve_itself(
    gateway: Gateway,
) -> None:
    async def tools() -> set[str]:
        async with Client(build_server(gateway)) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    assert asyncio.run(tools()) == {"check", "run_sql", "list_connections"}
    approval_id = held(gateway)
    code, _ = person("approve", approval_id, "--by", "copilot")  # the client's own name
    assert code == 1


def test_a_statement_held_by_its_row_estimate_runs_once_approved(home: Path, shop: str) -> None:
    # Scoped to the eye (WHERE id <= 3), so the static check allows it; the probe counts 3 rows,
    # over this policy's max_rows, which makes it a mass mutation that this rule holds.
    policy = home / "impact.yaml"
    policy.write_text(
        "version: 1\nid: mcp-impact\nimpact: {max_rows: 2}\nrules:\n"
        "  - id: big-agent-changes-need-review\n"
        "    match: {actor: [ai_agent], intents: [mass_mutation]}\n"
        "    decision: review\n",
        encoding="utf-8",
    )
    guard = Guard(settings=Settings.load(), policy=load_policy(policy))
    gateway = Gateway({"shop": shop}, guard=guard)
    wide = "UPDATE orders SET total = 0 WHERE id <= 3"
    try:
        assert call(gateway, "check", {"command": wide, "connection": "shop"})["decision"] == (
            "allow"
        )
        approval_id = held(gateway, wide)
        assert totals(shop) == [10, 20, 30, 40, 50]
        person("approve", approval_id, "--by", "alice")
        reply = run(gateway, wide, approval_id)
        assert reply["ran"] == 1 and reply["results"][0]["rows_affected"] == 3, reply
        assert totals(shop) == [0, 0, 0, 40, 50]
        assert "already used" in refusal_message(run(gateway, wide, approval_id))
    finally:
        gateway.close()
