"""Nightly ETL on Prefect, guarded: safe steps run, the destructive step is blocked.

Each task declares which argument holds its SQL; the check runs inside the task on the real
argument values, before the body. `drop_old_mart` drops a table: the baseline denies it, the task
run ends `Blocked` without a retry (though it has retries), and the table and its rows are
untouched. The nightly steps may only touch the policy's `nightly_etl` scope.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from prefect import flow, task
from sqlalchemy import create_engine

from prefect_guardrails import guarded

WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", "sqlite:///warehouse.sqlite3")


def prepare_statements(day: str) -> list[str]:
    """The demo warehouse, with orders on `day` and the day after: the aggregate finds rows
    whatever day the flow runs for."""
    next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return [
        "CREATE TABLE IF NOT EXISTS raw_orders (id INTEGER PRIMARY KEY, day TEXT, total REAL)",
        "CREATE TABLE IF NOT EXISTS stg_orders (id INTEGER, day TEXT, total REAL)",
        "CREATE TABLE IF NOT EXISTS mart_revenue (day TEXT, total REAL)",
        f"INSERT OR IGNORE INTO raw_orders VALUES (1, '{day}', 120.0), "
        f"(2, '{day}', 80.5), (3, '{next_day}', 42.0)",
    ]


def execute(url: str, statements: str | list[str]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in [statements] if isinstance(statements, str) else statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


# Setting up the demo warehouse writes raw_*, outside the nightly scope: guarded, no scope.
@task
@guarded(sql="statements")
def prepare_warehouse(url: str, statements: list[str]) -> None:
    execute(url, statements)


@task(retries=2, retry_delay_seconds=1)
@guarded(sql="statements", data_scope="nightly_etl")
def run_step(url: str, statements: list[str]) -> None:
    execute(url, statements)


@flow(name="nightly_orders")
def nightly_orders(url: str = WAREHOUSE_URL, day: str = "2026-11-23") -> None:
    prepare_warehouse(url, prepare_statements(day))
    rebuild = run_step.with_options(name="rebuild_staging")
    rebuild(url, ["DELETE FROM stg_orders", "INSERT INTO stg_orders SELECT * FROM raw_orders"])
    aggregate = run_step.with_options(name="aggregate_revenue")
    aggregate(
        url,
        [
            "INSERT INTO mart_revenue (day, total) "
            f"SELECT day, sum(total) FROM stg_orders WHERE day = '{day}' GROUP BY day"
        ],
    )
    drop_old = run_step.with_options(name="drop_old_mart")
    drop_old(url, ["DROP TABLE mart_revenue"], return_state=True)


if __name__ == "__main__":
    nightly_orders()
