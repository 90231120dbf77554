"""The MCP server, driven by the MCP SDK's own client: in-process and over stdio, real databases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from sqlalchemy import create_engine, text

from guardrails_core.audit import AuditFilter, AuditStore
from guardrails_core.guard import Guard
from guardrails_core.mcp_server import ConnectionsError, Gateway, build_server, load_connections
from guardrails_core.settings import Settings
from tests.core.mcp_support import call, guardrails_home, shop_database
from tests.servers import require_mariadb, require_postgres


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from guardrails_home(tmp_path, monkeypatch)


@pytest.fixture
def shop(home: Path) -> str:
    return shop_database(home)


@pytest.fixture
def gateway(shop: str) -> Iterator[Gateway]:
    gateway = Gateway({"shop": shop}, agent="test-agent", guard=Guard(settings=Settings.load()))
    yield gateway
    gateway.close()


def count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        total = int(conn.execute(text("SELECT count(*) FROM orders")).scalar_one())
    engine.dispose()
    return total


def test_a_read_runs_and_returns_bounded_rows(gateway: Gateway) -> None:
    reply = call(gateway, "run_sql", {"connection": "shop", "sql": "SELECT id FROM orders"})
    assert reply["ran"] == 1
    assert reply["results"][0]["rows"] == [[1], [2], [3], [4], [5]]


def test_a_mass_delete_is_refused_with_what_the_model_needs(gateway: Gateway, shop: str) -> None:
    reply = call(gateway, "run_sql", {"connection": "shop", "sql": "DELETE FROM orders"})
    assert reply["ran"] == 0
    refused = reply["refused"]
    assert refused["decision"] == "deny"
    assert refused["reasons"][0]["rule"] == "baseline.mass-mutation"
    assert refused["decision_id"]
    assert count(shop) == 5  # nothing ran


def test_a_script_cannot_smuggle_a_second_statement(gateway: Gateway, shop: str) -> None:
    sql = "UPDATE orders SET total = 0 WHERE id = 1; DROP TABLE orders"
    reply = call(gateway, "run_sql", {"connection": "shop", "sql": sql})
    assert reply["ran"] == 0  # judged whole before the first statement runs
    assert reply["refused"]["reasons"][0]["rule"] == "baseline.drop"
    with sqlite3.connect(shop.removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT total FROM orders WHERE id = 1").fetchone() == (10,)


def test_every_decision_is_recorded_with_the_agent_as_actor(gateway: Gateway) -> None:
    call(
        gateway,
        "run_sql",
        {"connection": "shop", "sql": "UPDATE orders SET total = 1 WHERE id = 2"},
    )
    call(gateway, "run_sql", {"connection": "shop", "sql": "DELETE FROM orders"})
    with AuditStore.open(Settings.load()) as store:
        records = store.query(AuditFilter())
    decided = {
        (r.decision.decision.value, r.decision.context.actor.kind.value)
        for r in records
        if r.decision is not None  # outcome records follow the decisions
    }
    assert ("allow", "ai_agent") in decided
    assert ("deny", "ai_agent") in decided


def test_check_tool_runs_nothing(gateway: Gateway, shop: str) -> None:
    reply = call(gateway, "check", {"command": "DELETE FROM orders", "connection": "shop"})
    assert reply["decision"] == "deny"
    assert count(shop) == 5


def test_unknown_connections_and_bad_files_are_errors(home: Path, gateway: Gateway) -> None:
    async def session() -> Any:
        async with Client(build_server(gateway)) as client:
            return await client.call_tool("run_sql", {"connection": "nope", "sql": "SELECT 1"})

    assert asyncio.run(session()).is_error
    bad = home / "connections.yaml"
    bad.write_text("shop: {url: 'postgresql://u:${NO_SUCH_SECRET}@h/db'}\n", encoding="utf-8")
    with pytest.raises(ConnectionsError, match="NO_SUCH_SECRET"):
        load_connections(bad)


def test_postgres_reads_run_read_only_and_scoped_writes_keep_a_way_back(home: Path) -> None:
    url = require_postgres()
    table = f"mcp_orders_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id int PRIMARY KEY, total int)"))
        conn.execute(text(f"INSERT INTO {table} SELECT g, g * 10 FROM generate_series(1, 5) g"))
    gateway = Gateway({"pg": url}, agent="test-agent", guard=Guard(settings=Settings.load()))
    try:
        read = gateway.run_sql("pg", f"SELECT count(*) FROM {table}")
        assert read["results"][0]["rows"] == [[5]]
        fix = gateway.run_sql("pg", f"UPDATE {table} SET total = 0 WHERE id = 3")
        assert fix["ran"] == 1 and fix["results"][0]["rows_affected"] == 1
        wipe = gateway.run_sql("pg", f"DELETE FROM {table}")
        assert wipe["refused"]["decision"] == "deny"
    finally:
        gateway.close()
        with engine.begin() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 5
            conn.execute(text(f"DROP TABLE {table}"))
        engine.dispose()


def test_a_real_stdio_session_with_the_cli(home: Path, shop: str) -> None:
    connections = home / "connections.yaml"
    connections.write_text(f"shop: {{url: '{shop}'}}\n", encoding="utf-8")
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "guardrails_core.cli", "mcp", "--connections", str(connections)],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("GUARDRAILS_")},
            "GUARDRAILS_HOME": str(home / "guardrails"),
        },
    )

    async def session() -> tuple[Any, Any]:
        async with Client(server) as client:
            read = await client.call_tool(
                "run_sql", {"connection": "shop", "sql": "SELECT total FROM orders WHERE id = 2"}
            )
            wipe = await client.call_tool(
                "run_sql", {"connection": "shop", "sql": "DELETE FROM orders"}
            )
            return read.structured_content, wipe.structured_content

    read, wipe = asyncio.run(session())
    assert read["results"][0]["rows"] == [[20]]
    assert wipe["refused"]["decision"] == "deny"


# A function the analyzer cannot see into: `SELECT mcp13_bump_x(id) FROM t` reads a column, so it
# is judged a read, yet writes. (Called with no column, `SELECT mcp13_bump_x()` is opaque: review.)
BUMP = {
    "postgres": (
        "CREATE FUNCTION {fn}(row_id int) RETURNS int LANGUAGE sql AS "
        "$$ UPDATE {table} SET total = total + 1 WHERE id = row_id RETURNING 1 $$"
    ),
    "mariadb": (
        "CREATE FUNCTION {fn}(row_id int) RETURNS int MODIFIES SQL DATA "
        "BEGIN UPDATE {table} SET total = total + 1 WHERE id = row_id; RETURN 1; END"
    ),
}


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_a_write_disguised_as_a_read_fails_at_the_database(home: Path, server: str) -> None:
    url = require_postgres() if server == "postgres" else require_mariadb()
    suffix = uuid.uuid4().hex[:8]
    table, fn = f"mcp13_orders_{suffix}", f"mcp13_bump_{suffix}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id int PRIMARY KEY, total int)"))
        conn.execute(text(f"INSERT INTO {table} VALUES (1, 10), (2, 20)"))
        conn.exec_driver_sql(BUMP[server].format(fn=fn, table=table))
    gateway = Gateway({"db": url}, guard=Guard(settings=Settings.load()))
    try:
        opaque = call(gateway, "check", {"command": f"SELECT {fn}(1)", "connection": "db"})
        assert opaque["decision"] == "review", opaque
        disguised = f"SELECT {fn}(id) FROM {table}"
        judged = call(gateway, "check", {"command": disguised, "connection": "db"})
        assert judged["decision"] == "allow" and judged["intents"] == ["read"]
        reply = call(gateway, "run_sql", {"connection": "db", "sql": disguised})
        assert reply["ran"] == 0
        assert "read-only" in reply["failed"]["error"].lower().replace(" ", "-")
        after = call(gateway, "run_sql", {"connection": "db", "sql": f"SELECT total FROM {table}"})
        assert sorted(after["results"][0]["rows"]) == [[10], [20]]
    finally:
        gateway.close()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP FUNCTION {fn}")
            conn.exec_driver_sql(f"DROP TABLE {table}")
        engine.dispose()
