"""What the MCP server costs an agent: `check` and `run_sql` over stdio against a direct call.

One run, one database (a SQLite file, no services; `--postgres`: the local PostgreSQL): a session
with `access-guardrails mcp` launched over stdio by the SDK's client, and the same statements sent
directly through SQLAlchemy. Per call:
  - check      the `check` tool (nothing runs)    vs `guardrails_core.check` in this process
  - read       `run_sql` of a one-row SELECT       vs the SELECT on a plain engine
  - write      `run_sql` of a one-row UPDATE       vs the UPDATE (and its commit) on a plain engine
                (judged, recorded before it runs, pre-image kept, outcome recorded)
and `list_connections`, a tool that does nothing: the floor of the transport and the SDK.
Every statement is distinct (first sight for the analyzer, as an agent's are). Medians of the
per-call wall time, and their ratio to the direct call measured in the same run.
Run: `python benchmarks/mcp_latency.py [--calls N] [--postgres]`. Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp_types import Implementation
from sqlalchemy import create_engine, text

from guardrails_core.check import check
from guardrails_core.model import Actor, ActorKind, Context

WORK = Path(tempfile.mkdtemp(prefix="guardrails-mcp-bench-"))
ROWS = 10_000
TABLE = "guardrails_bench_mcp_orders"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def read(i: int) -> str:
    return f"SELECT id, total FROM {TABLE} WHERE id = {i % ROWS + 1} AND note <> 'r{i}'"


def write(i: int) -> str:
    return f"UPDATE {TABLE} SET total = {i}, note = 'w{i}' WHERE id = {i % ROWS + 1}"


def timed(calls: int, one: Callable[[int], object]) -> list[float]:
    times = []
    for i in range(calls):
        start = time.perf_counter()
        one(i)
        times.append(time.perf_counter() - start)
    return times


async def timed_async(calls: int, one: Callable[[int], Awaitable[object]]) -> list[float]:
    times = []
    for i in range(calls):
        start = time.perf_counter()
        await one(i)
        times.append(time.perf_counter() - start)
    return times


def direct(url: str, calls: int, offset: int) -> dict[str, list[float]]:
    engine = create_engine(url)
    agent = Context(actor=Actor(kind=ActorKind.AI_AGENT, id="bench"), orchestrator="mcp")

    def select(i: int) -> object:
        with engine.connect() as conn:
            return conn.exec_driver_sql(read(offset + i)).fetchall()

    def update(i: int) -> object:
        with engine.connect() as conn:
            conn.exec_driver_sql(write(offset + i))
            conn.commit()
        return None

    try:
        return {
            "check": timed(calls, lambda i: check(read(offset + i), context=agent)),
            "read": timed(calls, select),
            "write": timed(calls, update),
        }
    finally:
        engine.dispose()


async def over_stdio(url: str, calls: int, offset: int) -> dict[str, list[float]]:
    connections = WORK / "mcp.yaml"
    connections.write_text(f"shop: {{url: '{url}'}}\n", encoding="utf-8")
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "guardrails_core.cli", "mcp", "--connections", str(connections)],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("GUARDRAILS_")},
            "GUARDRAILS_HOME": str(WORK),
        },
    )
    async with Client(server, client_info=Implementation(name="bench", version="1")) as client:

        async def tool(name: str, arguments: dict[str, str]) -> object:
            result = await client.call_tool(name, arguments)
            if result.is_error or result.structured_content is None:
                raise SystemExit(f"{name} failed: {result}")
            if "refused" in result.structured_content:
                raise SystemExit(f"{name} refused: {result.structured_content['refused']}")
            return result.structured_content

        await tool("run_sql", {"connection": "shop", "sql": read(-1)})  # warm the engine
        return {
            "floor": await timed_async(calls, lambda i: tool("list_connections", {})),
            "check": await timed_async(
                calls, lambda i: tool("check", {"command": read(offset + i)})
            ),
            "read": await timed_async(
                calls, lambda i: tool("run_sql", {"connection": "shop", "sql": read(offset + i)})
            ),
            "write": await timed_async(
                calls, lambda i: tool("run_sql", {"connection": "shop", "sql": write(offset + i)})
            ),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per kind (default 200)")
    parser.add_argument(
        "--postgres", action="store_true", help=f"use {POSTGRES} instead of a SQLite file"
    )
    args = parser.parse_args()
    calls = args.calls
    url = POSTGRES if args.postgres else f"sqlite:///{WORK / 'shop.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, total INT, note TEXT)")
        conn.execute(
            text(f"INSERT INTO {TABLE} VALUES (:id, :id, '')"),
            [{"id": i} for i in range(1, ROWS + 1)],
        )
    os.environ["GUARDRAILS_HOME"] = str(WORK)  # the in-process check's fingerprint key
    try:
        base = direct(url, calls, offset=0)
        mcp = asyncio.run(over_stdio(url, calls, offset=calls))
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {TABLE}")
        engine.dispose()
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(f"MCP latency, {calls} calls each, {where} {ROWS:,} rows (medians, ms per call)")
    print(f"{'':8} {'direct':>10} {'MCP stdio':>10} {'ratio':>8}  direct is")
    labels = {
        "check": "guardrails_core.check() in-process",
        "read": "the SELECT on a plain engine",
        "write": "the UPDATE + commit on a plain engine",
    }
    for kind, label in labels.items():
        plain, served = statistics.median(base[kind]), statistics.median(mcp[kind])
        print(f"{kind:8} {plain * 1e3:10.3f} {served * 1e3:10.3f} {served / plain:7.1f}x  {label}")
    floor = statistics.median(mcp["floor"])
    print(f"(a tool call that does nothing, list_connections, takes {floor * 1e3:.3f} ms: the")
    print(" transport and the SDK; a read and a write are recorded in the audit trail first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
