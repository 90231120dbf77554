"""Fixtures of the deployed-Airflow tests: each module brings its own `stack` (LocalExecutor,
CeleryExecutor); the warehouse table and the runs of both DAGs on it are made the same way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.airflow_stack import AirflowStack
from tests.e2e.outcomes import warehouse_table


@pytest.fixture(scope="module")
def pg_table(stack: AirflowStack) -> Iterator[str]:
    with warehouse_table() as table:
        yield table


@pytest.fixture(scope="module")
def runs(stack: AirflowStack, pg_table: str) -> dict[str, str]:
    """Both DAGs triggered through the REST API at once, waited on until they finish:
    dag_id -> run_id."""
    return stack.run_all({"nightly_orders": {}, "pg_guarded": {"table": pg_table}})
