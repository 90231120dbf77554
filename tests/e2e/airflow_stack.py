"""Airflow deployed as a user runs it: `airflow api-server`, `airflow scheduler` and
`airflow dag-processor` as separate processes, LocalExecutor, the metadata database and the
guardrails audit store on PostgreSQL in a database of this test's own, the example DAGs in a
temporary DAG folder, and the guardrails plugin loaded through its entry point.

The processes get an environment built from scratch for AIRFLOW_* and GUARDRAILS_* (the Airflow
test conftest sets its own in os.environ when it is imported).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
NIGHT = "2026-11-23T00:00:00Z"
FINISHED = {"success", "failed"}
EXAMPLES = ROOT / "dags_examples"
POLICY = EXAMPLES / "guardrails_policy.yaml"
AIRFLOW_BIN = Path(sys.executable).parent / "airflow"
PG_SERVER = "host=127.0.0.1 port=5432 user=postgres"
# The example DAGs a deployment would ship, plus the PostgreSQL test DAG (its warehouse table is
# a param, so the data the guard protects is a real PostgreSQL table).
DAG_FILES = (
    EXAMPLES / "airflow_nightly_etl.py",
    ROOT / "tests/airflow/dags/pg_guarded.py",
    ROOT / "tests/e2e/dags/guard_probe.py",
)
DAG_IDS = {"nightly_orders", "pg_guarded", "guard_probe"}
# As the README deploys it: every Airflow process imports this first, so the processes that fork
# task processes (the LocalExecutor's workers, Celery's pool) hold the guard already imported.
LOCAL_SETTINGS = """\
from airflow_guardrails import preload_guard

preload_guard(dialects=("postgres", "sqlite"))
"""
PROCESSES = ("api-server", "scheduler", "dag-processor")
SECURED_USERS = {"admin": "admin-pass"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AirflowStack:
    home: Path
    port: int
    database: str
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    secured_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}"

    def log(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def logs_tail(self, characters: int = 2000) -> str:
        return "\n".join(
            f"--- {name} ---\n{self.log(name).read_text(errors='replace')[-characters:]}"
            for name in self.processes
        )

    def client(self, authenticated: bool = True) -> Any:
        import httpx

        headers = {}
        if authenticated:  # all-admins mode: a token without a password
            token = httpx.get(f"{self.url}/auth/token", timeout=30).json()["access_token"]
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def trigger(self, client: Any, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Trigger a run of `dag_id` for the pinned night through the REST API: its run id."""
        response = client.post(
            f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": NIGHT, "conf": conf or {}}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["dag_run_id"])

    def run_all(self, confs: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Trigger a run of each DAG at once (dag_id -> conf), wait until all finish:
        dag_id -> run_id."""
        with self.client() as client:
            started = {dag_id: self.trigger(client, dag_id, conf) for dag_id, conf in confs.items()}

            def finished() -> bool:
                self.check_alive()
                return all(
                    client.get(f"/api/v2/dags/{dag}/dagRuns/{run}").json()["state"] in FINISHED
                    for dag, run in started.items()
                )

            wait_until(finished, timeout=300, interval=1, what="the DAG runs to finish")
        return started

    def task_states(self, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
        """task_id -> (state, try number) of a DAG run, as the REST API lists them."""
        with self.client() as client:
            listed = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
        return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in listed["task_instances"]}

    def return_value(self, dag_id: str, run_id: str, task_id: str) -> Any:
        """What a task returned (its `return_value` XCom), through the REST API."""
        with self.client() as client:
            response = client.get(
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
                "/xcomEntries/return_value",
                params={"deserialize": True},
            )
        assert response.status_code == 200, response.text
        return response.json()["value"]

    def records(self, dag_id: str, run_id: str) -> list[Any]:
        """The audit records of a DAG run, from the shared PostgreSQL audit store."""
        from guardrails_core.audit import AuditFilter, AuditStore

        with AuditStore(self.database_url, create=False) as store:
            return store.query(AuditFilter(pipeline=dag_id, run_id=run_id))

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"airflow {name} exited ({process.returncode}):\n{self.logs_tail()}"
                )


@dataclass(frozen=True)
class Celery:
    """CeleryExecutor instead of LocalExecutor: `workers` Celery workers (one task at a time
    each) on Redis, on a queue of this test's own (other runs may share the broker), with
    results in the metadata database."""

    workers: int = 2
    broker: str = REDIS_URL
    queue: str = field(default_factory=lambda: f"e2e17_{os.getpid()}")

    def environment(self, database: str) -> dict[str, str]:
        return {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": self.broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": (
                f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
            ),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
        }

    def worker_args(self, index: int) -> list[str]:
        return [
            "celery",
            "worker",
            "--queues",
            self.queue,
            "--celery-hostname",
            f"worker{index}@{self.queue}",
            "--skip-serve-logs",  # two workers on one machine: no log server port for each
            "--without-gossip",
            "--without-mingle",
        ]


def _environment(
    home: Path, port: int, database: str, celery: Celery | None = None
) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GUARDRAILS_"))}
    metadata = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
    return {
        **base,
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",  # two cores
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_GUARDRAILS_DEMO": json.dumps(
            {"conn_type": "sqlite", "host": str(home / "warehouse.db")}
        ),
        "AIRFLOW_CONN_PG_WAREHOUSE": json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": 5432,
                "login": "postgres",
                "schema": "test",
            }
        ),
        "GUARDRAILS_POLICY": str(POLICY),
        "GUARDRAILS_HOME": str(home / "guardrails"),
        # The audit store every worker process writes and the API server reads: PostgreSQL.
        "GUARDRAILS_AUDIT_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        "GUARDRAILS_ENVIRONMENT": "test",
        **(celery.environment(database) if celery is not None else {}),
    }


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER} dbname=test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER} dbname=test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every process group at once (servers, executor children), then wait."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.killpg(process.pid, 15)
    for process in running:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=30)


def _serving(stack: AirflowStack, url: str) -> bool:
    import httpx

    stack.check_alive()
    try:
        return httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def start_process(stack: AirflowStack, name: str, args: list[str], **env: str) -> None:
    with stack.log(name).open("wb") as out:
        stack.processes[name] = subprocess.Popen(
            [str(AIRFLOW_BIN), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**stack.env, **env},
            start_new_session=True,
        )


def _start_secured_api_server(stack: AirflowStack, users: dict[str, str]) -> None:
    """One more API server on the same metadata DB, with passwords: all-admins mode logs every
    request in, so "not logged in" exists only here. Started with the others, waited on when a
    test needs it (`secured_url`)."""
    passwords = stack.home / "passwords.json"
    passwords.write_text(json.dumps(users))
    start_process(
        stack,
        "api-server-secured",
        ["api-server", "--host", "127.0.0.1", "--port", str(stack.secured_port)],
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=",".join(f"{u}:admin" for u in users),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{stack.secured_port}",
    )


def secured_url(stack: AirflowStack) -> str:
    """The password-protected API server's URL, once it serves."""
    url = f"http://127.0.0.1:{stack.secured_port}"
    wait_until(lambda: _serving(stack, url), timeout=180, what="the secured API server")
    return url


@contextmanager
def airflow_stack(
    home: Path, *, celery: Celery | None = None, secured: bool = True
) -> Iterator[AirflowStack]:
    """Migrate a fresh PostgreSQL metadata database, start the three processes (and the Celery
    workers, with `celery`; the password-protected API server, with `secured`), wait until the
    API server answers and both DAGs are parsed; stop everything and drop the database after."""
    database = f"e2e17_airflow_{os.getpid()}_{'celery' if celery else 'local'}"
    port = free_port()
    stack = AirflowStack(home, port, database, _environment(home, port, database, celery))
    (home / "dags").mkdir(parents=True)
    (home / "guardrails").mkdir()
    (home / "airflow" / "config").mkdir(parents=True)
    (home / "airflow" / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    for source in DAG_FILES:
        (home / "dags" / source.name).symlink_to(source)
    _create_database(database)
    try:
        migrated = subprocess.run(
            [str(AIRFLOW_BIN), "db", "migrate"],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-3000:]
        for name in PROCESSES:
            serving = ["--host", "127.0.0.1", "--port", str(port)] if name == "api-server" else []
            start_process(stack, name, [name, *serving])
        for index in range(1, celery.workers + 1) if celery is not None else ():
            start_process(stack, f"celery-worker-{index}", celery.worker_args(index))
        if secured:
            _start_secured_api_server(stack, SECURED_USERS)
        wait_until(lambda: _serving(stack, stack.url), timeout=180, what="the Airflow API server")
        with stack.client() as client:

            def parsed() -> bool:
                stack.check_alive()
                dags = client.get("/api/v2/dags").json().get("dags", [])
                return {d["dag_id"] for d in dags} >= DAG_IDS

            wait_until(parsed, timeout=180, interval=1, what="the dag-processor to parse the DAGs")
        yield stack
    finally:
        stop_all(list(stack.processes.values()))
        _drop_database(database)
