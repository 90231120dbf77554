"""Test DAG for the common-ai operators under the guard: an agent with the SQL toolset fixes a
row (its model is scripted by the test), and an LLM-SQL operator writes a query."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.ai.operators.agent import AgentOperator
from airflow.providers.common.ai.operators.llm_sql import LLMSQLQueryOperator
from airflow.providers.common.ai.toolsets.sql import SQLToolset
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

with DAG("ai_sql_agent", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
    GuardedOperator(
        AgentOperator(
            task_id="copilot_fix",
            prompt="The total of order 1 is wrong: it should be 10. Fix it.",
            llm_conn_id="guardrails_llm",
            model_id="openai:gpt-5",
            # Writes are the policy's call, not the toolset's read-only switch.
            toolsets=[SQLToolset("guardrails_demo", allow_writes=True)],
        )
    )

with DAG("ai_sql_query", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as query:
    GuardedOperator(
        LLMSQLQueryOperator(
            task_id="copilot_query",
            prompt="How many orders are there?",
            llm_conn_id="guardrails_llm",
            model_id="anthropic:claude-sonnet-4-5",
            db_conn_id="guardrails_demo",
            dialect="sqlite",
        )
    )

with DAG("ai_sql_reader", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as reader:
    GuardedOperator(
        AgentOperator(
            task_id="copilot_read",
            prompt="What is the total of order 1?",
            llm_conn_id="guardrails_llm",
            model_id="openai:gpt-5",
            toolsets=[SQLToolset("guardrails_demo")],  # the toolset's own read-only switch on
        )
    )
