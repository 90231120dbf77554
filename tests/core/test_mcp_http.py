"""The MCP server over streamable HTTP on loopback: a server subprocess, the SDK's HTTP client."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from guardrails_core import cli
from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.settings import Settings
from tests.core.mcp_support import COPILOT, guardrails_home, shop_database
from tests.waiting import wait_until


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from guardrails_home(tmp_path, monkeypatch)


SERVE = [sys.executable, "-m", "guardrails_core.cli", "mcp"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5.0)
    except httpx.TransportError:
        return False
    return True


@contextmanager
def serving(home: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """`access-guardrails mcp --http` in a subprocess on `host`; its URL once it answers."""
    connections = home / "connections.yaml"
    connections.write_text(f"shop: {{url: '{shop_database(home)}'}}\n", encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [*SERVE, "--connections", str(connections), "--http", "--host", host, "--port", str(port)],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("GUARDRAILS_")},
            "GUARDRAILS_HOME": str(home / "guardrails"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://{host}:{port}/mcp"
    try:
        wait_until(  # a loaded 2-core machine takes a while to import the server
            lambda: answers(url) or process.poll() is not None,
            timeout=180,
            what="the HTTP server to listen",
        )
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def server(home: Path) -> Iterator[str]:
    with serving(home) as url:
        yield url


def test_a_session_over_streamable_http_is_judged_and_names_its_client(
    home: Path, server: str
) -> None:
    async def session() -> tuple[Any, Any, Any]:
        async with Client(server, client_info=COPILOT) as client:
            read = await client.call_tool(
                "run_sql", {"connection": "shop", "sql": "SELECT total FROM orders WHERE id = 2"}
            )
            wipe = await client.call_tool(
                "run_sql", {"connection": "shop", "sql": "DELETE FROM orders"}
            )
            checked = await client.call_tool("check", {"command": "rm -rf /", "kind": "shell"})
            return read.structured_content, wipe.structured_content, checked.structured_content

    read, wipe, checked = asyncio.run(session())
    assert read["results"][0]["rows"] == [[20]]
    assert wipe["ran"] == 0 and wipe["refused"]["reasons"][0]["rule"] == "baseline.mass-mutation"
    assert checked["decision"] == "deny"
    with AuditStore.open(Settings.load()) as store:
        records = store.query(AuditFilter(kind=RecordKind.DECISION))
    actors = {
        (r.decision.context.actor.id, r.decision.context.actor.model) for r in records if r.decision
    }
    assert actors == {("copilot", "copilot/1.2")}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])
def test_a_request_naming_another_host_is_refused(home: Path, host: str) -> None:
    # DNS rebinding: a web page whose name resolves to loopback sends its own Host and Origin.
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "page", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    with serving(home, host) as server:
        same = httpx.post(server, json=initialize, headers=headers, timeout=10)
        assert same.status_code == 200, same.text
        for foreign in ({"Host": "evil.example"}, {"Origin": "http://evil.example"}):
            other = httpx.post(server, json=initialize, headers={**headers, **foreign}, timeout=10)
            assert other.status_code in (403, 421), (foreign, other.status_code)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_it_refuses_to_listen_beyond_loopback_unless_forced(home: Path, host: str) -> None:
    connections = home / "connections.yaml"
    connections.write_text(f"shop: {{url: '{shop_database(home)}'}}\n", encoding="utf-8")
    err = io.StringIO()
    argv = ["mcp", "--connections", str(connections), "--http", "--host", host]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stderr", err)
        assert cli.main(argv, out=io.StringIO()) == 2
    assert "not a loopback address" in err.getvalue() and "--allow-remote" in err.getvalue()
