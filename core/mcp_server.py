"""An MCP server that an AI agent uses instead of a raw database tool: every statement is judged.

    access-guardrails mcp --connections connections.yaml      # stdio (what MCP clients launch)

`connections.yaml` names the databases the agent may reach; URLs may refer to environment
variables (``postgresql://app:${PGPASSWORD}@db/shop``), so the agent never sees a credential:

    warehouse: {url: "postgresql://127.0.0.1/test"}
    scratch: {url: "sqlite:////tmp/scratch.db"}

Tools: `check` (the decision, nothing runs) and `run_sql` (each statement judged with the actor
`ai_agent` and the client's name as the model, recorded before it runs, measured and given a
pre-image by the engine guard; reads run in read-only transactions; rows come back bounded).
A refusal is structured (decision, rules, reasons, decision id) so the model can act on it.
This module translates MCP calls; `guardrails_core.check` and the engine guard decide.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, create_engine, text

from guardrails_core.check import check
from guardrails_core.guard import ApprovalRequired, CommandBlocked, Guard
from guardrails_core.intent import analyze
from guardrails_core.model import Actor, ActorKind, Context, Decision, Intent, Verdict
from guardrails_core.sqlalchemy_guard import EngineGuard, guard_engine
from guardrails_core.yaml_data import load_yaml

#: Rows returned to the model from one statement, at most.
MAX_ROWS = 100
_ENV = re.compile(r"\$\{([A-Za-z_]\w*)\}")


class ConnectionsError(ValueError):
    """The connections file cannot be used; the message names the file and the entry."""


def load_connections(path: Path) -> dict[str, str]:
    """Connection name -> SQLAlchemy URL, with ${VARIABLES} read from the environment."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConnectionsError(f"{path}: cannot read the connections file ({error})") from None
    if not isinstance(data, dict) or not data:
        raise ConnectionsError(f"{path}: expected a mapping of connection names to {{url: ...}}")
    connections: dict[str, str] = {}
    for name, entry in data.items():
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str):
            raise ConnectionsError(f"{path}: connection {name!r} needs a url")
        missing = [v for v in _ENV.findall(url) if v not in os.environ]
        if missing:
            raise ConnectionsError(
                f"{path}: connection {name!r} refers to unset variable(s) {', '.join(missing)}"
            )
        connections[str(name)] = _ENV.sub(lambda m: os.environ[m.group(1)], url)
    return connections


def refusal(decision: Decision) -> dict[str, Any]:
    """What the model is told when a statement may not run: enough to change course."""
    blocking = [r for r in decision.reasons if r.decision is not Verdict.ALLOW]
    return {
        "decision": decision.decision.value,
        "decision_id": decision.decision_id,
        "intents": [intent.value for intent in decision.intents],
        "reasons": [{"rule": r.rule_id, "message": r.message} for r in blocking],
        "next": (
            "a person must approve this exact statement (access-guardrails audit show "
            f"{decision.decision_id}); do not retry it reworded"
            if decision.decision is Verdict.REVIEW
            else "this statement will not run; narrow it (a WHERE on the rows meant) or ask"
        ),
    }


@dataclass
class Gateway:
    """The databases an agent session may use, each behind an engine guard."""

    urls: Mapping[str, str]
    agent: str = "mcp-client"
    guard: Guard | None = None  # default: the process's shared guard (settings from the env)
    _engines: dict[str, tuple[Engine, EngineGuard]] = field(default_factory=dict)

    def _guard(self) -> Guard:
        if self.guard is None:
            self.guard = Guard.shared()
        return self.guard

    def context(self) -> Context:
        return Context(
            actor=Actor(kind=ActorKind.AI_AGENT, id=self.agent, model=self.agent),
            orchestrator="mcp",
        )

    def engine(self, name: str) -> Engine:
        if name not in self.urls:
            known = ", ".join(sorted(self.urls)) or "none"
            raise KeyError(f"unknown connection {name!r} (known: {known})")
        if name not in self._engines:
            engine = create_engine(self.urls[name])
            handle = guard_engine(engine, guard=self._guard(), context=self.context)
            self._engines[name] = (engine, handle)
        return self._engines[name][0]

    def dialect(self, name: str) -> str:
        return self.engine(name).dialect.name

    def check(self, command: str, kind: str, dialect: str | None) -> dict[str, Any]:
        policy = self._guard().policy
        decision = check(command, kind=kind, dialect=dialect, policy=policy, context=self.context())
        answer = (
            refusal(decision)
            if decision.decision is not Verdict.ALLOW
            else {
                "decision": "allow",
                "decision_id": decision.decision_id,
                "intents": [intent.value for intent in decision.intents],
            }
        )
        return answer

    def run_sql(self, connection: str, sql: str) -> dict[str, Any]:
        engine = self.engine(connection)
        dialect = engine.dialect.name
        statements = analyze(sql, dialect=_dialect_name(dialect)).statements
        # Every statement is judged before the first one runs: a script cannot smuggle a
        # second statement past a first harmless one.
        for statement in statements:
            decision = check(
                statement.text,
                dialect=_dialect_name(dialect),
                policy=self._guard().policy,
                context=self.context(),
            )
            if decision.decision is not Verdict.ALLOW:
                try:  # recorded through the engine's guard, which refuses it again
                    self._engines[connection][1].check(statement.text)
                except CommandBlocked as blocked:
                    decision = blocked.decision
                return {"ran": 0, "refused": refusal(decision), "statement": statement.text}
        results: list[dict[str, Any]] = []
        for statement in statements:
            reads_only = set(statement.intents) <= {Intent.READ}
            try:
                with engine.connect() as conn:
                    _read_only(conn, dialect, on=reads_only)
                    result = conn.execute(text(statement.text))
                    rows = result.fetchmany(MAX_ROWS + 1) if result.returns_rows else []
                    columns = list(result.keys()) if result.returns_rows else []
                    affected = None if result.returns_rows else result.rowcount
                    _read_only(conn, dialect, on=False)
                    conn.commit()
            except (CommandBlocked, ApprovalRequired) as blocked:
                return {"ran": len(results), "refused": refusal(blocked.decision)}
            results.append(
                {
                    "statement": statement.text,
                    "columns": columns,
                    "rows": [list(map(_plain, row)) for row in rows[:MAX_ROWS]],
                    "truncated": len(rows) > MAX_ROWS,
                    "rows_affected": affected,
                }
            )
        return {"ran": len(results), "results": results}

    def close(self) -> None:
        for engine, handle in self._engines.values():
            handle.remove()
            engine.dispose()
        self._engines.clear()


def _dialect_name(backend: str) -> str:
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(backend, backend)


def _read_only(conn: Any, backend: str, *, on: bool) -> None:
    """Defence in depth: a statement judged a read runs where the database refuses writes."""
    if backend == "sqlite":
        conn.exec_driver_sql(f"PRAGMA query_only = {'ON' if on else 'OFF'}")
    elif (on and backend == "postgresql") or (on and backend in ("mysql", "mariadb")):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def build_server(gateway: Gateway) -> Any:
    """The MCP server (mcp SDK 2: MCPServer) exposing `check` and `run_sql`."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("access-guardrails")

    @server.tool(name="check", description="Judge a SQL or shell command without running it.")
    def check_command(
        command: str, kind: str = "sql", dialect: str | None = None, connection: str | None = None
    ) -> dict[str, Any]:
        if connection is not None:
            dialect = _dialect_name(gateway.dialect(connection))
        return gateway.check(command, kind, dialect)

    @server.tool(description="Run SQL on a named connection; every statement is judged first.")
    def run_sql(connection: str, sql: str) -> dict[str, Any]:
        return gateway.run_sql(connection, sql)

    @server.tool(description="The connections this server can reach (names only).")
    def list_connections() -> list[str]:
        return sorted(gateway.urls)

    return server
