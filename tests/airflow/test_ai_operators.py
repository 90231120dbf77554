"""The common-ai provider's agent and LLM-SQL operators under the guard, run with dag.test() and
an offline scripted model (pydantic-ai's FunctionModel): a denied statement comes back to the
model as a refusal it reads, a scoped fix runs with a pre-image, every call is recorded first."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from guardrails_core.audit import Outcome
from guardrails_core.model import ActorKind, Verdict
from tests.airflow.conftest import ApiServer
from tests.airflow.helpers import audit_records, run_dag, task_states, xcom
from tests.airflow.test_approval import run_until_answered

pytestmark = pytest.mark.airflow

DROP = "DROP TABLE orders"
FIX = "UPDATE orders SET total = 10 WHERE id = 1"
COUNT = "SELECT count(*) FROM orders"


class ScriptedModel:
    """A model that says the next line of its script, and keeps what it was told."""

    def __init__(self, script: list[Callable[[], ModelResponse]]) -> None:
        self.script = list(script)
        self.told: list[ModelMessage] = []

    def __call__(self, messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        self.told.append(messages[-1])
        return self.script.pop(0)()

    def told_after(self, turn: int) -> list[Any]:
        """The parts of the message the model received after its turn `turn` (1-based)."""
        message = self.told[turn]
        assert isinstance(message, ModelRequest)
        return list(message.parts)


def _tool(sql: str) -> Callable[[], ModelResponse]:
    return lambda: ModelResponse(parts=[ToolCallPart("query", {"sql": sql})])


def _says(text: str) -> Callable[[], ModelResponse]:
    return lambda: ModelResponse(parts=[TextPart(text)])


# The baseline alone: DROP is denied, an UPDATE by key allowed. (The example policy sends every
# model-written change to a person; the review path is tested with it below.)
POLICY = "version: 1\nid: ai-operators\nmode: enforce\ndefaults: {dialect: sqlite}\nrules: []\n"


def _seed(warehouse: Path) -> Path:
    with sqlite3.connect(warehouse) as conn:
        conn.executescript(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);"
            "INSERT INTO orders VALUES (1, 99.0), (2, 50.0), (3, 75.0);"
        )
    return warehouse


@pytest.fixture
def orders(warehouse: Path, guard_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    guard_env.setenv("GUARDRAILS_POLICY", str(policy))
    return _seed(warehouse)


@pytest.fixture
def model(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[list[Callable[[], ModelResponse]]], ScriptedModel]:
    """Script the LLM the operators' connection resolves to (the one thing mocked here)."""
    from airflow.providers.common.ai.hooks.pydantic_ai import PydanticAIHook

    monkeypatch.setenv("AIRFLOW_CONN_GUARDRAILS_LLM", json.dumps({"conn_type": "pydanticai"}))

    def scripted(script: list[Callable[[], ModelResponse]]) -> ScriptedModel:
        scripted_model = ScriptedModel(script)
        function_model = FunctionModel(scripted_model)
        monkeypatch.setattr(PydanticAIHook, "get_conn", lambda _self: function_model)
        return scripted_model

    return scripted


def _rows(database: Path) -> list[tuple[int, float]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute("SELECT id, total FROM orders ORDER BY id"))


def test_agent_drop_is_refused_to_the_model_and_a_scoped_fix_runs_with_a_pre_image(
    orders: Path, model: Callable[..., ScriptedModel]
) -> None:
    agent = model([_tool(DROP), _tool(FIX), _says("Order 1 now totals 10.")])
    dag_run = run_dag("ai_sql_agent", "ai_operators.py")

    assert task_states(dag_run)["copilot_fix"] == ("success", 1)
    # The model read the refusal as the answer to its DROP, and changed course.
    [refusal] = agent.told_after(1)
    assert refusal.tool_name == "query" and _is_retry(refusal)
    assert "access-guardrails blocked" in str(refusal.content)
    assert "baseline.drop" in str(refusal.content)
    assert "do not resend it reworded" in str(refusal.content)
    [answer] = agent.told_after(2)
    assert isinstance(answer, ToolReturnPart) and not _is_retry(answer)  # the fix ran
    assert _rows(orders) == [(1, 10.0), (2, 50.0), (3, 75.0)]  # the table is still there

    records = audit_records(dag_run.run_id, "copilot_fix")
    [dropped] = _judged(records, "DROP TABLE")
    fixes = _judged(records, "UPDATE")  # judged when the tool was called, then at the connection
    assert dropped.decision.decision is Verdict.DENY
    assert "baseline.drop" in dropped.subject.rules
    for record in (dropped, *fixes):
        assert record.decision.context.actor.kind is ActorKind.AI_AGENT
        assert record.decision.context.actor.model == "openai:gpt-5"
    # Recorded before anything ran: the DROP's record says blocked, and nothing ran after it.
    assert _states(records, dropped) == [Outcome.BLOCKED]
    # The fix was measured at the connection and ran with a pre-image of the one row it changed.
    [measured] = [r for r in fixes if r.decision.impact]
    assert measured.decision.impact[0].estimated_rows == 1
    assert _states(records, measured) == [Outcome.PENDING, Outcome.BACKED_UP, Outcome.SUCCEEDED]


def test_agent_that_insists_on_a_denied_statement_runs_out_of_retries(
    orders: Path, model: Callable[..., ScriptedModel]
) -> None:
    model([_tool(DROP)] * 5)
    dag_run = run_dag("ai_sql_agent", "ai_operators.py")
    assert task_states(dag_run)["copilot_fix"][0] in ("failed", "up_for_retry")
    assert len(_rows(orders)) == 3


def test_llm_sql_output_is_judged_and_a_denied_query_is_regenerated(
    orders: Path, model: Callable[..., ScriptedModel]
) -> None:
    writer = model([_says(f"```sql\n{DROP}\n```"), _says(COUNT)])
    dag_run = run_dag("ai_sql_query", "ai_operators.py")

    assert task_states(dag_run)["copilot_query"] == ("success", 1)
    [refusal] = writer.told_after(1)  # an output retry: the model is asked for another answer
    assert "access-guardrails blocked" in str(refusal.content)
    assert "baseline.drop" in str(refusal.content)
    assert xcom(dag_run, "copilot_query", "return_value") == COUNT
    records = audit_records(dag_run.run_id, "copilot_query")
    [dropped] = _judged(records, "DROP TABLE")
    [counted] = _judged(records, "SELECT")
    assert dropped.decision.decision is Verdict.DENY
    assert counted.decision.decision is Verdict.ALLOW
    assert counted.decision.context.actor.model == "anthropic:claude-sonnet-4-5"
    assert len(_rows(orders)) == 3


def test_a_statement_the_toolset_refuses_itself_is_recorded_as_not_run(
    orders: Path, model: Callable[..., ScriptedModel]
) -> None:
    """Judged and recorded first (the policy allows it), then refused by the read-only toolset:
    its record says it failed, never that it succeeded."""
    reader = model([_tool(FIX), _says("I may only read.")])
    dag_run = run_dag("ai_sql_reader", "ai_operators.py")

    assert task_states(dag_run)["copilot_read"] == ("success", 1)
    [refusal] = reader.told_after(1)
    assert _is_retry(refusal) and "access-guardrails" not in str(refusal.content)
    assert _rows(orders) == [(1, 99.0), (2, 50.0), (3, 75.0)]
    records = audit_records(dag_run.run_id, "copilot_read")
    [fix] = _judged(records, "UPDATE")
    assert _states(records, fix) == [Outcome.PENDING, Outcome.FAILED]


def test_agent_statement_under_review_waits_for_a_person_in_airflow(
    warehouse: Path, model: Callable[..., ScriptedModel], api_server: ApiServer
) -> None:
    """The example policy sends every model-written change to a person: the task parks in
    Airflow's HITL; approved, it runs again and the model's same statement (the fingerprint the
    person approved) runs."""
    _seed(warehouse)
    model([_tool(FIX), _tool(FIX), _says("Order 1 now totals 10.")])
    dag_run, detail = run_until_answered(
        api_server, "Approve", "ai_sql_agent", "ai_operators.py", task_id="copilot_fix"
    )

    assert "ai-changes-need-review" in detail["body"] and "UPDATE orders" in detail["body"]
    assert task_states(dag_run)["copilot_fix"][0] == "success"
    assert _rows(warehouse) == [(1, 10.0), (2, 50.0), (3, 75.0)]
    records = audit_records(dag_run.run_id, "copilot_fix")
    reviewed, *after = _judged(records, "UPDATE")
    assert _states(records, reviewed) == [Outcome.AWAITING_APPROVAL, Outcome.APPROVED]
    assert reviewed.decision.context.actor.model == "openai:gpt-5"
    approvals = [a for r in after for a in r.decision.context.approvals]
    assert approvals and {a.fingerprint for a in approvals} == {reviewed.subject.fingerprint}


def _is_retry(part: Any) -> bool:
    """A part that asks the model to try again (pydantic-ai 2 sends a tool's retry as a tool
    return whose outcome is `retried`)."""
    return isinstance(part, RetryPromptPart) or getattr(part, "outcome", None) == "retried"


def _judged(records: list[Any], operation: str) -> list[Any]:
    """Decision records (in trail order) of the statements with this operation."""
    return [
        r
        for r in records
        if r.decision is not None and r.decision.statements[0].operation == operation
    ]


def _states(records: list[Any], decision: Any) -> list[Outcome]:
    return [r.state for r in records if r.decision_record_id == decision.record_id]
