"""An MCP server that an AI agent uses instead of a raw database tool: every statement is judged.

    access-guardrails mcp --connections connections.yaml      # stdio (what MCP clients launch)
    access-guardrails mcp --connections connections.yaml --http --port 8765   # loopback HTTP

`connections.yaml` names the databases the agent may reach; URLs may refer to environment
variables (``postgresql://app:${PGPASSWORD}@db/shop``), so the agent never sees a credential:

    warehouse: {url: "postgresql://127.0.0.1/test"}
    scratch: {url: "sqlite:////tmp/scratch.db"}

Tools: `check` (the decision, nothing runs) and `run_sql` (each statement judged with the actor
`ai_agent` named by the session's clientInfo, recorded before it runs, measured and given a
pre-image by the engine guard; reads run in read-only transactions; rows come back bounded).
A refusal is structured (decision, rules, reasons, decision id) so the model can act on it; a
statement held for review returns an approval id that only a person can grant
(`access-guardrails approve ID`, see approvals.py). Undo stays on the command line too: a
statement that ran returns its decision id and the `access-guardrails undo` line.
This module translates MCP calls; `guardrails_core.check` and the engine guard decide.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from mcp.server.mcpserver import Context as MCPContext
from mcp_types import Implementation
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from guardrails_core.approvals import HELD_BY, ApprovalRefused, Clock, redeem, utc_now
from guardrails_core.check import check
from guardrails_core.guard import CommandBlocked, Guard, GuardResult
from guardrails_core.intent import analyze
from guardrails_core.model import Actor, ActorKind, Approval, Context, Decision, Intent, Verdict
from guardrails_core.sqlalchemy_guard import EngineGuard, guard_engine
from guardrails_core.yaml_data import load_yaml

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

    from guardrails_core.impact import Execution

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


def refusal(decision: Decision, record_id: str | None = None) -> dict[str, Any]:
    """What the model is told when a statement may not run: enough to change course.

    A statement held for review carries its approval id (the record id of its decision): a
    person approves it with `access-guardrails approve ID`, then the model sends the same
    statement again with that id."""
    blocking = [r for r in decision.reasons if r.decision is not Verdict.ALLOW]
    answer: dict[str, Any] = {
        "decision": decision.decision.value,
        "decision_id": decision.decision_id,
        "intents": [intent.value for intent in decision.intents],
        "reasons": [{"rule": r.rule_id, "message": r.message} for r in blocking],
    }
    if decision.decision is Verdict.REVIEW and record_id is not None:
        answer["approval_id"] = record_id
        answer["next"] = (
            f"a person must approve it (access-guardrails approve {record_id}); then send this "
            "exact statement again with approval_id; a changed statement needs a new approval"
        )
    elif decision.decision is Verdict.REVIEW:
        answer["next"] = "a person must approve this exact statement before it runs"
    elif Intent.MASS_MUTATION in decision.intents:
        answer["next"] = "this statement will not run; narrow it to the rows meant (a WHERE)"
    else:
        answer["next"] = "this statement will not run, reworded or not; ask a person instead"
    return answer


def approval_refused(approval_id: str, error: ApprovalRefused) -> dict[str, Any]:
    return {
        "ran": 0,
        "refused": {
            "decision": "deny",
            "approval_id": approval_id,
            "reasons": [{"rule": "approval", "message": str(error)}],
            "next": "nothing ran; the approval id cannot be used for this statement",
        },
    }


@dataclass
class _Call:
    """One tool call: who asks, the approval it carries, what the engine guard decided."""

    actor: Actor
    approvals: tuple[Approval, ...] = ()
    decided: list[Decision] = field(default_factory=list)


_CALL: ContextVar[_Call | None] = ContextVar("guardrails_mcp_call", default=None)


@dataclass
class Gateway:
    """The databases an agent session may use, each behind an engine guard.

    `now` is the clock approvals expire by (injectable for tests)."""

    urls: Mapping[str, str]
    agent: str = "mcp-client"
    guard: Guard | None = None  # default: the process's shared guard (settings from the env)
    now: Clock = utc_now
    _engines: dict[str, tuple[Engine, EngineGuard]] = field(default_factory=dict)

    def _guard(self) -> Guard:
        if self.guard is None:
            self.guard = Guard.shared()
        return self.guard

    def actor(self, client: Implementation | None = None) -> Actor:
        """The agent as the MCP session names it (clientInfo), else the server's --agent."""
        if client is None:
            return Actor(kind=ActorKind.AI_AGENT, id=self.agent, model=self.agent)
        model = f"{client.name}/{client.version}" if client.version else client.name
        return Actor(kind=ActorKind.AI_AGENT, id=client.name, model=model)

    def context(self) -> Context:
        call = _CALL.get()
        return Context(
            actor=call.actor if call else self.actor(),
            orchestrator=HELD_BY,
            approvals=call.approvals if call else (),
        )

    def _seen(self, result: GuardResult) -> None:
        call = _CALL.get()
        if call is not None:
            call.decided.append(result.decision)

    def _kept(self, result: GuardResult, executed: Execution[None]) -> None:
        call = _CALL.get()
        if call is not None:  # the decision as recorded, now with its ways back
            call.decided.append(executed.decision)

    def engine(self, name: str) -> Engine:
        if name not in self.urls:
            known = ", ".join(sorted(self.urls)) or "none"
            raise KeyError(f"unknown connection {name!r} (known: {known})")
        if name not in self._engines:
            engine = create_engine(self.urls[name])
            handle = guard_engine(
                engine,
                guard=self._guard(),
                context=self.context,
                on_result=self._seen,
                on_executed=self._kept,
            )
            self._engines[name] = (engine, handle)
        return self._engines[name][0]

    def dialect(self, name: str) -> str:
        return self.engine(name).dialect.name

    def check(
        self, command: str, kind: str, dialect: str | None, client: Implementation | None = None
    ) -> dict[str, Any]:
        policy = self._guard().policy
        context = Context(actor=self.actor(client), orchestrator=HELD_BY)
        decision = check(command, kind=kind, dialect=dialect, policy=policy, context=context)
        if decision.decision is not Verdict.ALLOW:
            return refusal(decision)
        return {
            "decision": "allow",
            "decision_id": decision.decision_id,
            "intents": [intent.value for intent in decision.intents],
        }

    def run_sql(
        self,
        connection: str,
        sql: str,
        approval_id: str | None = None,
        client: Implementation | None = None,
    ) -> dict[str, Any]:
        """Judge every statement of `sql`, then run them one at a time; with `approval_id`, the
        statement a person approved (once, unchanged, before it expires) may run."""
        engine = self.engine(connection)
        dialect = _dialect_name(engine.dialect.name)
        call = _Call(self.actor(client))
        token = _CALL.set(call)
        try:
            statements = [s.text for s in analyze(sql, dialect=dialect).statements]
            if approval_id is None:
                return self._judge_and_run(connection, statements, call)
            # The approval names one statement of the script; the others are judged as ever. It
            # is matched against all of them: an estimate may hold a statement the static check
            # (here) allows.
            judged = self._judged(statements, dialect, call)

            def spend(approval: Approval) -> dict[str, Any]:
                call.approvals = (approval,)
                return self._judge_and_run(connection, statements, call)

            guard = self._guard()
            try:
                return redeem(
                    guard.audit_store(),
                    approval_id,
                    fingerprints=[decision.fingerprint for decision in judged],
                    requester=call.actor.id,
                    spend=spend,
                    now=self.now,
                    lock_file=self.approvals_lock(),
                )
            except ApprovalRefused as error:
                return approval_refused(approval_id, error)
        finally:
            _CALL.reset(token)

    def approvals_lock(self) -> Path:
        """The lock that every server process sharing this GUARDRAILS_HOME redeems under."""
        return self._guard().settings.home / "approvals.lock"

    def _judged(self, statements: list[str], dialect: str, call: _Call) -> list[Decision]:
        policy, context = self._guard().policy, self.context()
        return [check(text, dialect=dialect, policy=policy, context=context) for text in statements]

    def _judge_and_run(self, connection: str, statements: list[str], call: _Call) -> dict[str, Any]:
        engine, handle = self.engine(connection), self._engines[connection][1]
        dialect = _dialect_name(engine.dialect.name)
        # Every statement is judged before the first one runs: a script cannot smuggle a
        # second statement past a first harmless one.
        judged = self._judged(statements, dialect, call)
        for statement, decision in zip(statements, judged, strict=True):
            if not _allowed(decision):
                try:  # recorded through the engine's guard, which refuses it again
                    handle.check(statement)
                except CommandBlocked as blocked:
                    return {
                        "ran": 0,
                        "refused": refusal(blocked.decision, blocked.record_id),
                        "statement": statement,
                    }
        results: list[dict[str, Any]] = []
        for statement, decision in zip(statements, judged, strict=True):
            del call.decided[:]
            try:
                results.append(_execute(engine, statement, reads_only=_reads_only(decision)))
            except CommandBlocked as blocked:
                refused = refusal(blocked.decision, blocked.record_id)
                return {"ran": len(results), "results": results, "refused": refused}
            except SQLAlchemyError as error:  # the database refused it: nothing of it stays
                failed = {
                    "statement": statement,
                    "error": str(getattr(error, "orig", None) or error),
                }
                return {"ran": len(results), "results": results, "failed": failed}
            results[-1].update(_handles(call.decided, decision.fingerprint))
        return {"ran": len(results), "results": results}

    def close(self) -> None:
        for engine, handle in self._engines.values():
            handle.remove()
            engine.dispose()
        self._engines.clear()


def _allowed(decision: Decision) -> bool:
    return decision.decision is Verdict.ALLOW or not decision.enforced


def _reads_only(decision: Decision) -> bool:
    return set(decision.intents) <= {Intent.READ}


def _handles(decided: list[Decision], fingerprint: str) -> dict[str, Any]:
    """The decision of a statement that ran, and what a person types to take it back."""
    mine = [decision for decision in decided if decision.fingerprint == fingerprint]
    if not mine:
        return {}
    decision = mine[-1]  # the last one seen carries the ways back kept for it
    handles: dict[str, Any] = {"decision_id": decision.decision_id}
    if decision.reversals:  # undo stays with people: the agent is only told how
        handles["undo"] = f"access-guardrails undo {decision.decision_id}"
    return handles


def _execute(engine: Engine, statement: str, *, reads_only: bool) -> dict[str, Any]:
    """Run one judged statement; a read where the database itself refuses writes (defence in
    depth against a write the analyzer took for a read)."""
    on, off = _READ_ONLY.get(engine.dialect.name, (None, None)) if reads_only else (None, None)
    with engine.connect() as conn:
        _driver_sql(conn, on)
        try:
            result = conn.exec_driver_sql(statement)
            rows = result.fetchmany(MAX_ROWS + 1) if result.returns_rows else []
            columns = list(result.keys()) if result.returns_rows else []
            affected = None if result.returns_rows else result.rowcount
        finally:
            _driver_sql(conn, off)
        conn.commit()
    return {
        "statement": statement,
        "columns": columns,
        "rows": [list(map(_plain, row)) for row in rows[:MAX_ROWS]],
        "truncated": len(rows) > MAX_ROWS,
        "rows_affected": affected,
    }


def _dialect_name(backend: str) -> str:
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(backend, backend)


_READ_ONLY = {
    "sqlite": ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"),
    "postgresql": ("SET TRANSACTION READ ONLY", None),  # ends with its transaction
    "mysql": ("SET TRANSACTION READ ONLY", None),  # applies to the next transaction
    "mariadb": ("SET TRANSACTION READ ONLY", None),
}


def _driver_sql(conn: Connection, statement: str | None) -> None:
    """Our own session setting, sent below the engine guard: the agent did not write it."""
    if statement is not None:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement)
        finally:
            cursor.close()


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def client_of(ctx: MCPContext[Any, Any] | None) -> Implementation | None:
    """The client as it named itself when the session began (clientInfo), if it did."""
    if ctx is None:
        return None
    params = ctx.session.client_params
    return params.client_info if params is not None else None


def build_server(gateway: Gateway) -> Any:
    """The MCP server (mcp SDK 2: MCPServer) exposing `check`, `run_sql`, `list_connections`.

    No tool approves or undoes: those stay with people, on the command line."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("access-guardrails")

    @server.tool(name="check", description="Judge a SQL or shell command without running it.")
    def check_command(
        command: str,
        kind: str = "sql",
        dialect: str | None = None,
        connection: str | None = None,
        ctx: MCPContext[Any, Any] | None = None,
    ) -> dict[str, Any]:
        if connection is not None:
            dialect = _dialect_name(gateway.dialect(connection))
        return gateway.check(command, kind, dialect, client_of(ctx))

    @server.tool(
        description="Run SQL on a named connection; every statement is judged first. A "
        "statement held for review returns an approval_id: once a person approved it, send "
        "the same SQL again with that approval_id."
    )
    def run_sql(
        connection: str,
        sql: str,
        approval_id: str | None = None,
        ctx: MCPContext[Any, Any] | None = None,
    ) -> dict[str, Any]:
        return gateway.run_sql(connection, sql, approval_id, client_of(ctx))

    @server.tool(description="The connections this server can reach (names only).")
    def list_connections() -> list[str]:
        return sorted(gateway.urls)

    return server


class NotLoopback(ValueError):
    """An HTTP bind address other people could reach, without --allow-remote."""


def check_bind(host: str, *, allow_remote: bool = False) -> None:
    """Refuse a bind address that is not loopback unless the operator forced it: the server
    has no authentication, so anyone who reaches the port acts as the agent."""
    if not allow_remote and not _loopback(host):
        raise NotLoopback(
            f"--host {host} is not a loopback address: the MCP server has no authentication, so "
            "anyone who reaches it could run SQL as the agent. Use 127.0.0.1 (or ::1), or pass "
            "--allow-remote behind your own authenticating proxy"
        )


def serve(
    gateway: Gateway, *, http: bool = False, host: str = "127.0.0.1", port: int = 8765
) -> None:
    """Serve the gateway over stdio, or streamable HTTP at http://host:port/mcp."""
    server = build_server(gateway)
    if http:
        security = _same_host_only(host) if _loopback(host) else None
        server.run("streamable-http", host=host, port=port, transport_security=security)
    else:
        server.run("stdio")


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same_host_only(host: str) -> TransportSecuritySettings:
    """Requests must name this machine (Host, Origin): a web page the agent's user opens cannot
    reach the server by rebinding its own domain name to 127.0.0.1."""
    from mcp.server.transport_security import TransportSecuritySettings

    named = f"[{host}]" if ":" in host else host
    hosts = sorted({named, "127.0.0.1", "localhost", "[::1]"})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in hosts],
        allowed_origins=[f"http://{name}:*" for name in hosts],
    )
