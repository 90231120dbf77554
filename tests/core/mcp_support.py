"""Shared pieces of the MCP server tests: a clean guardrails home, a shop database, a session."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import Implementation

from guardrails_core.check import configure_fingerprints
from guardrails_core.mcp_server import Gateway, build_server
from guardrails_core.model import current_fingerprint_key

COPILOT = Implementation(name="copilot", version="1.2")


def guardrails_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private GUARDRAILS_HOME; the process's fingerprint key is put back afterwards."""
    for key in [key for key in os.environ if key.startswith("GUARDRAILS_")]:
        monkeypatch.delenv(key)  # other suites set a policy or mode for their processes
    monkeypatch.setenv("GUARDRAILS_HOME", str(tmp_path / "guardrails"))
    previous = current_fingerprint_key()
    yield tmp_path
    if previous is not None:  # a Guard keys the process's fingerprints: put the key back
        configure_fingerprints(previous)


def shop_database(home: Path) -> str:
    """A SQLite database with orders 1..5 (total = id * 10); its URL."""
    database = home / "shop.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INT)")
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 10) for i in range(1, 6)])
    return f"sqlite:///{database}"


def call(gateway: Gateway, tool: str, arguments: dict[str, Any]) -> Any:
    """One tool call through the SDK's client, in a session of its own, as the client COPILOT."""

    async def session() -> Any:
        async with Client(build_server(gateway), client_info=COPILOT) as client:
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result
            return result.structured_content

    return asyncio.run(session())
