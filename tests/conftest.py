"""Every test outside tests/airflow, tests/prefect and tests/e2e judges with the settings it
sets itself.

Their session fixtures set GUARDRAILS_POLICY, the environment and the audit store for the whole
session, and `check()` without a policy reads the settings: left alone, a core test run after
them in the same session would judge with their policy and environment instead of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SESSION_CONFIGURED = ("airflow", "prefect", "e2e")
TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _own_policy_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(str(request.node.path)).resolve().relative_to(TESTS).parts[0]
    if folder not in SESSION_CONFIGURED:
        for variable in (
            "GUARDRAILS_CONFIG",
            "GUARDRAILS_POLICY",
            "GUARDRAILS_MODE",
            "GUARDRAILS_ENVIRONMENT",
        ):
            monkeypatch.delenv(variable, raising=False)
