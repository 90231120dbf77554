"""Real Airflow for the integration tests: one temporary AIRFLOW_HOME per session, a SQLite
metadata database migrated once, the example DAGs and test DAGs in its DAG folder, connections
from AIRFLOW_CONN_* variables, and a temporary audit store (tests never touch ~/.local).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "dags_examples"
TEST_DAGS = Path(__file__).resolve().parent / "dags"
POLICY = EXAMPLES / "guardrails_policy.yaml"
AIRFLOW_BIN = Path(sys.executable).parent / "airflow"

HOME = Path(tempfile.mkdtemp(prefix="guardrails-airflow-"))
atexit.register(shutil.rmtree, HOME, ignore_errors=True)
DAGS = HOME / "dags"
OPENLINEAGE_LOG = HOME / "openlineage.jsonl"
DEMO_CONN = "AIRFLOW_CONN_GUARDRAILS_DEMO"

# Airflow reads its configuration when it is first imported, so it is set here, before any
# test module imports airflow. Only AIRFLOW_* variables: other test folders are unaffected.
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(HOME / "airflow"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
        {"type": "file", "log_file_path": str(OPENLINEAGE_LOG), "append": True}
    ),
    "AIRFLOW__OPENLINEAGE__CUSTOM_RUN_FACETS": "airflow_guardrails.lineage.guardrails_run_facets",
    # dag.test() runs tasks in the pytest process: emitting from a thread rather than a forked
    # copy of it keeps forks holding this process's SQLite connections out of the way.
    "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    DEMO_CONN: json.dumps({"conn_type": "sqlite", "host": str(HOME / "warehouse.db")}),
}
os.environ.update(AIRFLOW_ENV)

GUARDRAILS_ENV = {
    "GUARDRAILS_HOME": str(HOME / "guardrails"),
    "GUARDRAILS_AUDIT_URL": f"sqlite:///{HOME / 'guardrails' / 'audit.sqlite3'}",
    "GUARDRAILS_POLICY": str(POLICY),
    "GUARDRAILS_ENVIRONMENT": "test",
}


def _link_dags() -> None:
    DAGS.mkdir(parents=True, exist_ok=True)
    for source in [*EXAMPLES.glob("airflow_*.py"), *TEST_DAGS.glob("*.py")]:
        target = DAGS / source.name
        if not target.exists():
            target.symlink_to(source)


@pytest.fixture(scope="session")
def airflow_home() -> Iterator[Path]:
    """Guardrails settings for this session, the DAG folder, and a migrated metadata DB."""
    saved = {name: os.environ.get(name) for name in GUARDRAILS_ENV}
    os.environ.update(GUARDRAILS_ENV)
    (HOME / "guardrails").mkdir(parents=True, exist_ok=True)
    _link_dags()
    subprocess.run(
        [str(AIRFLOW_BIN), "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=240,
    )
    from guardrails_core.guard import Guard

    Guard.reset_shared()
    yield HOME
    Guard.reset_shared()
    from airflow_guardrails.lineage import finish_lineage_events

    finish_lineage_events()  # the event file is in HOME: written out before HOME goes
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture
def warehouse(airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite target database behind the `guardrails_demo` connection."""
    path = tmp_path / "warehouse.db"
    monkeypatch.setenv(DEMO_CONN, json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


@pytest.fixture
def guard_env(airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change GUARDRAILS_* for one test; the shared guard is rebuilt before and after."""
    from guardrails_core.guard import Guard

    Guard.reset_shared()
    yield monkeypatch
    monkeypatch.undo()
    Guard.reset_shared()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiServer:
    """The Airflow API server on loopback, sharing this session's metadata DB."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port = port
        self.process = process
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def token(self, username: str | None = None, password: str | None = None) -> str:
        import httpx

        if username is None:  # all-admins mode
            response = httpx.get(f"{self.url}/auth/token", timeout=30)
        else:
            response = httpx.post(
                f"{self.url}/auth/token",
                json={"username": username, "password": password},
                timeout=30,
            )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def client(
        self, authenticated: bool = True, username: str | None = None, password: str | None = None
    ) -> Any:
        import httpx

        headers = (
            {"Authorization": f"Bearer {self.token(username, password)}"} if authenticated else {}
        )
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_api_server(log_name: str, extra_env: dict[str, str] | None = None) -> ApiServer:
    import httpx

    port = free_port()
    log = HOME / log_name
    env = {
        **os.environ,
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **(extra_env or {}),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(AIRFLOW_BIN), "api-server", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = ApiServer(port, process, log)
    deadline = time.monotonic() + 120
    while True:
        try:
            # Any answer means it is serving (the health route needs a login on some setups).
            if httpx.get(f"{server.url}/api/v2/monitor/health", timeout=2).status_code < 500:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_api_server(server)
            pytest.fail(f"the Airflow API server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def stop_api_server(server: ApiServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=20)


@pytest.fixture(scope="session")
def api_server(airflow_home: Path) -> Iterator[ApiServer]:
    """All users are admins here (SimpleAuthManager's all-admins mode): the HITL responses and
    the browser test sign in without a password."""
    server = start_api_server("api-server.log")
    yield server
    stop_api_server(server)
