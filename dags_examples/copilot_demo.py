"""The copilot part of the demo: a model works on a database only through `access-guardrails mcp`.

A scripted MCP client plays the agent: it launches the server over stdio (as Claude Code, Cursor
or an in-house agent would), names itself in the session, and sends what a copilot sends. The
database is a SQLite file and the audit store another, in a temporary directory: no services.

    1. a scoped fix                 allowed, runs with a pre-image; the reply says how to undo it
    2. a mass delete, an export     denied, with the rule and what would be acceptable
    3. an UPDATE of customer data   held; a person approves it with `access-guardrails approve`,
                                    the agent sends it again with the approval id, and it runs
    4. the person's undo            `access-guardrails undo` puts the fix back (not an MCP tool)

Exits 1 when any step does not end as described (the demo's test relies on that).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp_types import Implementation

HERE = Path(__file__).resolve().parent
AGENT = Implementation(name="copilot-demo", version="1.0")
FIX = "UPDATE orders SET status = 'refunded' WHERE id = 3"
CUSTOMER = "UPDATE customers SET email = 'ada.lovelace@example.com' WHERE id = 7"


def shop(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, total INT)")
        conn.executemany(
            "INSERT INTO orders VALUES (?, 'paid', ?)", [(i, i * 10) for i in range(1, 51)]
        )
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}@example.com") for i in range(1, 11)]
        )


def person(environment: dict[str, str], *argv: str) -> str:
    """A person at a terminal, running the same CLI the server is part of."""
    done = subprocess.run(
        [sys.executable, "-m", "guardrails_core.cli", *argv],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"`access-guardrails {' '.join(argv)}` failed: {done.stderr.strip()}")
    return done.stdout.strip()


def said(reply: dict[str, Any]) -> str:
    """One line of what the server answered."""
    if "refused" in reply:
        refused = reply["refused"]
        reason = refused["reasons"][0] if refused["reasons"] else {"rule": "-", "message": ""}
        return f"{refused['decision'].upper()} {reason['rule']}: {reason['message']}"
    result = reply["results"][-1]
    return f"ALLOW, ran ({result['rows_affected']} row); undo handle: {result.get('undo', '-')}"


async def session(environment: dict[str, str], work: Path) -> list[str]:
    """The agent's session; the problems seen (empty when every step ended as it should)."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "guardrails_core.cli", "mcp", "--connections", str(work / "mcp.yaml")],
        env=environment,
    )
    problems: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    async with Client(server, client_info=AGENT) as client:

        async def run_sql(sql: str, approval_id: str | None = None) -> dict[str, Any]:
            arguments = {"connection": "shop", "sql": sql}
            if approval_id:
                arguments["approval_id"] = approval_id
            reply = (await client.call_tool("run_sql", arguments)).structured_content
            assert reply is not None
            return reply

        print("1. scoped fix:", FIX)
        fixed = await run_sql(FIX)
        print("   ->", said(fixed))
        expect(fixed.get("ran") == 1 and "undo" in fixed["results"][0], "the fix did not run")

        for name, sql, rule in (
            ("mass delete", "DELETE FROM orders", "baseline.mass-mutation"),
            ("export", f"VACUUM INTO '{work / 'shop-copy.db'}'", "baseline.export"),
        ):
            print(f"2. {name}:", sql)
            refused = await run_sql(sql)
            print(f"   -> {said(refused)}\n      next: {refused['refused']['next']}")
            expect(refused["refused"]["reasons"][0]["rule"] == rule, f"the {name} was not denied")

        print("3. customer update:", CUSTOMER)
        held = await run_sql(CUSTOMER)
        approval_id = held["refused"].get("approval_id", "")
        print(f"   -> {said(held)}\n      approval id: {approval_id}")
        print(f"   person: access-guardrails approve {approval_id} --by alice")
        print("   ->", person(environment, "approve", approval_id, "--by", "alice"))
        approved = await run_sql(CUSTOMER, approval_id)
        print("   agent sends it again with the approval id ->", said(approved))
        replayed = await run_sql(CUSTOMER, approval_id)
        print("   and once more (replayed) ->", said(replayed))
        expect(approved.get("ran") == 1, "the approved update did not run")
        expect(replayed.get("ran") == 0, "a replayed approval ran again")

    undo = fixed["results"][0].get("undo", "access-guardrails undo ?")
    print(f"4. person: {undo}")
    print("   ->", person(environment, *undo.split()[1:]))
    return problems


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="guardrails-copilot-demo-"))
    database = work / "shop.sqlite3"
    shop(database)
    (work / "mcp.yaml").write_text(f"shop: {{url: 'sqlite:///{database}'}}\n", encoding="utf-8")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUARDRAILS_")},
        "GUARDRAILS_HOME": str(work),
        "GUARDRAILS_POLICY": str(HERE / "copilot_policy.yaml"),
    }
    print(
        f"Copilot session over MCP (stdio): {AGENT.name}/{AGENT.version} -> "
        f"access-guardrails mcp -> {database}\n"
    )
    problems = asyncio.run(session(environment, work))
    with sqlite3.connect(database) as conn:
        status = conn.execute("SELECT status FROM orders WHERE id = 3").fetchone()[0]
        email = conn.execute("SELECT email FROM customers WHERE id = 7").fetchone()[0]
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    print(f"\nNow: order 3 is {status!r} again, customer 7 is {email}, {orders} orders remain.")
    print(f"Every call is in the audit trail: GUARDRAILS_HOME={work} access-guardrails audit list")
    if status != "paid" or email != "ada.lovelace@example.com" or orders != 50:
        problems.append("the database does not hold what the session should have left")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
