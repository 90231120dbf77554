"""Airflow deployed for real (tests/e2e/airflow_stack.py): DAG runs triggered through the REST
API, scheduled by the scheduler, executed by LocalExecutor worker processes. The guard blocks the
destructive steps, the allowed ones succeed, the audit store on PostgreSQL holds the records the
plugin shows, and the warehouse data is intact. The plugin's pages in headless Chromium are saved
as screenshots under the artifacts folder the tests print."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.e2e.airflow_stack import (
    PG_SERVER,
    ROOT,
    AirflowStack,
    airflow_stack,
    secured_url,
)
from tests.servers import require_postgres
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "artifacts" / "e2e"
NIGHT = "2026-11-23T00:00:00Z"
FINISHED = {"success", "failed"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    require_postgres()
    with airflow_stack(tmp_path_factory.mktemp("e2e-airflow")) as running:
        yield running


@pytest.fixture(scope="module")
def pg_table(stack: AirflowStack) -> Iterator[str]:
    import psycopg

    from tests.impact.conftest import drop_backups

    table = f"e2e17_orders_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER} dbname=test", autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int primary key, total numeric)")
        conn.execute(f"INSERT INTO {table} VALUES (1, 10), (2, 20), (3, 30)")
    yield table
    with psycopg.connect(f"{PG_SERVER} dbname=test", autocommit=True) as conn:
        drop_backups(conn, [table])  # the allowed UPDATE kept a pre-image
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _trigger(client: Any, dag_id: str, conf: dict[str, Any] | None = None) -> str:
    response = client.post(
        f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": NIGHT, "conf": conf or {}}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["dag_run_id"])


@pytest.fixture(scope="module")
def runs(stack: AirflowStack, pg_table: str) -> dict[str, str]:
    """Both DAGs triggered through the REST API at once, waited on until they finish:
    dag_id -> run_id."""
    with stack.client() as client:
        started = {
            "nightly_orders": _trigger(client, "nightly_orders"),
            "pg_guarded": _trigger(client, "pg_guarded", {"table": pg_table}),
        }

        def finished() -> bool:
            stack.check_alive()
            return all(
                client.get(f"/api/v2/dags/{dag}/dagRuns/{run}").json()["state"] in FINISHED
                for dag, run in started.items()
            )

        wait_until(finished, timeout=300, interval=1, what="both DAG runs to finish")
    return started


def _task_states(stack: AirflowStack, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
    with stack.client() as client:
        listed = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
    return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in listed["task_instances"]}


def _records(stack: AirflowStack, dag_id: str, run_id: str) -> list[Any]:
    from guardrails_core.audit import AuditFilter, AuditStore

    with AuditStore(stack.database_url, create=False) as store:
        return store.query(AuditFilter(pipeline=dag_id, run_id=run_id))


def test_nightly_etl_blocked_step_fails_the_rest_succeed(
    stack: AirflowStack, runs: dict[str, str]
) -> None:
    import sqlite3

    run_id = runs["nightly_orders"]
    states = _task_states(stack, "nightly_orders", run_id)
    assert states == {
        "prepare_warehouse": ("success", 1),
        "rebuild_staging": ("success", 1),
        "aggregate_revenue": ("success", 1),
        "drop_old_mart": ("failed", 1),  # blocked: no retry although the DAG has retries=2
    }, stack.logs_tail()
    with sqlite3.connect(stack.home / "warehouse.db") as conn:
        assert conn.execute("SELECT day, total FROM mart_revenue").fetchall() == [
            ("2026-11-23", 200.5)
        ]

    records = _records(stack, "nightly_orders", run_id)
    decisions = [r for r in records if r.decision is not None]
    assert {r.subject.task for r in decisions} == set(states)
    (blocked,) = [r for r in decisions if r.subject.verdict.value == "deny"]
    assert blocked.subject.task == "drop_old_mart"
    assert blocked.subject.rules[0] == "baseline.drop"
    assert blocked.decision.command.text == "DROP TABLE mart_revenue"
    latest = {r.decision_record_id: r.state.value for r in records}
    assert latest[blocked.record_id] == "blocked"
    allowed = {r.subject.task for r in decisions if r.subject.verdict.value == "allow"}
    assert allowed == {"prepare_warehouse", "rebuild_staging", "aggregate_revenue"}


def test_postgres_data_intact_after_blocked_steps(
    stack: AirflowStack, runs: dict[str, str], pg_table: str
) -> None:
    import psycopg

    run_id = runs["pg_guarded"]
    states = _task_states(stack, "pg_guarded", run_id)
    assert states == {
        "fix_one_order": ("success", 1),
        "empty_table": ("failed", 1),
        "drop_through_engine": ("failed", 1),
    }, stack.logs_tail()
    with psycopg.connect(f"{PG_SERVER} dbname=test") as conn:
        rows = conn.execute(f"SELECT id, total FROM {pg_table} ORDER BY id").fetchall()
    assert [(i, float(t)) for i, t in rows] == [(1, 11.0), (2, 20.0), (3, 30.0)]

    records = _records(stack, "pg_guarded", run_id)
    latest = {r.decision_record_id: r.state.value for r in records}
    decisions = [r for r in records if r.decision is not None]
    (emptying,) = [r for r in decisions if r.subject.task == "empty_table"]
    assert emptying.decision.command.text == f"DELETE FROM {pg_table}"  # rendered
    assert latest[emptying.record_id] == "blocked"
    drop = next(
        r
        for r in decisions
        if r.subject.task == "drop_through_engine" and r.decision.command.text.startswith("DROP")
    )
    assert (latest[drop.record_id], drop.subject.rules[0]) == ("blocked", "baseline.drop")
    assert any(
        r.subject.task == "fix_one_order" and r.subject.verdict.value == "allow" for r in decisions
    )


def test_plugin_json_matches_the_audit_store(stack: AirflowStack, runs: dict[str, str]) -> None:
    run_id = runs["nightly_orders"]
    with stack.client() as client:
        listed = client.get(
            "/guardrails/api/decisions",
            params={"dag_id": "nightly_orders", "run_id": run_id, "verdict": "deny"},
        )
    assert listed.status_code == 200, listed.text
    (blocked,) = listed.json()["decisions"]
    assert (blocked["subject"]["task"], blocked["latest_state"]) == ("drop_old_mart", "blocked")


# --- the UI, in headless Chromium -------------------------------------------------------------


def _chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        message = "chromium is not installed; run `make browser` (.ci/install_chromium.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return chromium


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {ARTIFACTS}")
    return ARTIFACTS


def _logged_in(stack: AirflowStack, page: str) -> str:
    """``page`` behind the all-admins login, which sets Airflow's session cookie and redirects,
    as a person's browser would after signing in."""
    return f"{stack.url}/auth/token/login?next={quote(page, safe='')}"


def _browse(url: str, screenshot: Path, home: Path) -> str:
    """The DOM Chromium renders for ``url`` in a fresh profile, and a screenshot of it."""
    profile = home / f"chromium-{uuid.uuid4().hex[:8]}"
    flags = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--window-size=1400,900",
    ]
    screenshot.unlink(missing_ok=True)
    subprocess.run(
        [*flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=True
    )
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    shutil.rmtree(profile, ignore_errors=True)
    return dom


def test_plugin_page_logged_in(stack: AirflowStack, runs: dict[str, str], artifacts: Path) -> None:
    page = "/guardrails/decisions?" + urlencode(
        {"dag_id": "nightly_orders", "run_id": runs["nightly_orders"]}
    )
    screenshot = artifacts / "airflow_decisions_page.png"
    dom = _browse(_logged_in(stack, page), screenshot, stack.home)
    assert "Guardrails decisions" in dom
    assert "drop_old_mart" in dom and "baseline.drop" in dom
    assert screenshot.stat().st_size > 10_000


def _task_tab_href(stack: AirflowStack, dag_id: str, run_id: str, task_id: str) -> str:
    """The task-instance tab's URL as the Airflow UI fills it on a non-mapped task's page: the
    DAG, run and task placeholders, and {MAP_INDEX} left as it is."""
    with stack.client() as client:
        plugins = client.get("/api/v2/plugins").json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "access_guardrails")
    (tab,) = [v for v in ours["external_views"] if v["destination"] == "task_instance"]
    href = str(tab["href"])
    for placeholder, value in (("{DAG_ID}", dag_id), ("{RUN_ID}", run_id), ("{TASK_ID}", task_id)):
        href = href.replace(placeholder, quote(value, safe=""))
    return href


# One task of each kind: a blocked SQL operator, an allowed one, a Python callable whose hook's
# engine sent the blocked statement.
TASK_TABS = [
    ("nightly_orders", "drop_old_mart", ("DROP TABLE mart_revenue", "baseline.drop")),
    ("nightly_orders", "aggregate_revenue", ("INSERT INTO mart_revenue", "baseline.allow")),
    ("pg_guarded", "drop_through_engine", ("DROP TABLE e2e17_orders_", "baseline.drop")),
]


@pytest.mark.parametrize(("dag_id", "task_id", "shown"), TASK_TABS)
def test_task_page_of_each_kind_of_task_logged_in(
    stack: AirflowStack,
    runs: dict[str, str],
    artifacts: Path,
    dag_id: str,
    task_id: str,
    shown: tuple[str, ...],
) -> None:
    """The task page the tab frames, addressed without a map index (the tab's own URL, with
    the UI's literal {MAP_INDEX}, is the next test)."""
    page = "/guardrails/task?" + urlencode(
        {"dag_id": dag_id, "run_id": runs[dag_id], "task_id": task_id}
    )
    screenshot = artifacts / f"airflow_task_page_{dag_id}_{task_id}.png"
    dom = _browse(_logged_in(stack, page), screenshot, stack.home)
    assert task_id in dom
    assert all(text in dom for text in shown), dom[-2000:]


@pytest.mark.parametrize(("dag_id", "task_id", "shown"), TASK_TABS)
def test_task_tab_of_a_non_mapped_task_logged_in(
    stack: AirflowStack,
    runs: dict[str, str],
    artifacts: Path,
    dag_id: str,
    task_id: str,
    shown: tuple[str, ...],
) -> None:
    href = _task_tab_href(stack, dag_id, runs[dag_id], task_id)
    assert "{MAP_INDEX}" in href  # what the UI sends for a task that is not mapped
    with stack.client() as client:
        status = client.get(href).status_code
    screenshot = artifacts / f"airflow_task_tab_{dag_id}_{task_id}.png"
    dom = _browse(_logged_in(stack, href), screenshot, stack.home)
    assert status == 200
    assert all(text in dom for text in shown), dom[-2000:]


def test_plugin_pages_not_logged_in_redirect_to_login(
    stack: AirflowStack, runs: dict[str, str], artifacts: Path
) -> None:
    import httpx

    url = secured_url(stack)
    run_id = runs["nightly_orders"]
    pages = [
        "/guardrails/decisions?" + urlencode({"dag_id": "nightly_orders"}),
        _task_tab_href(stack, "nightly_orders", run_id, "drop_old_mart"),
        "/guardrails/task?"
        + urlencode({"dag_id": "nightly_orders", "run_id": run_id, "task_id": "drop_old_mart"}),
    ]
    dom = _browse(url + pages[0], artifacts / "airflow_decisions_not_logged_in.png", stack.home)
    assert "drop_old_mart" not in dom  # nothing shown without a login, before and after the fix
    browser = {"Accept": "text/html,application/xhtml+xml"}
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        for page in pages:
            answer = anonymous.get(page, headers=browser, follow_redirects=False)
            assert answer.status_code in (302, 303, 307), (page, answer.status_code, answer.text)
            assert "login" in answer.headers["location"], page
            # An API client (no HTML accepted) keeps its 401.
            assert anonymous.get(page, follow_redirects=False).status_code == 401, page
