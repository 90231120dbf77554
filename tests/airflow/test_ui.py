"""The plugin in the real Airflow API server: authentication, the decision pages and JSON API,
and (marked `browser`) the page as headless Chromium renders it, with a screenshot artifact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from tests.airflow.auth_manager import HIDDEN_DAG, OUTSIDER
from tests.airflow.conftest import ROOT, ApiServer, start_api_server, stop_api_server
from tests.airflow.helpers import audit_records, run_dag

pytestmark = pytest.mark.airflow

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def blocked_run(api_server: ApiServer, warehouse_module: Path) -> object:
    """A nightly run whose destructive step was blocked, recorded in the shared audit store."""
    return run_dag("nightly_orders", "airflow_nightly_etl.py")


@pytest.fixture(scope="module")
def warehouse_module(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ui") / "warehouse.db"
    saved = os.environ.get("AIRFLOW_CONN_GUARDRAILS_DEMO")
    os.environ["AIRFLOW_CONN_GUARDRAILS_DEMO"] = json.dumps(
        {"conn_type": "sqlite", "host": str(path)}
    )
    yield path
    if saved is not None:
        os.environ["AIRFLOW_CONN_GUARDRAILS_DEMO"] = saved


@pytest.fixture(scope="module")
def secured_api_server(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    """An API server with passwords and per-DAG permissions (tests/airflow/auth_manager.py)."""
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin-pass", OUTSIDER: "outsider-pass"}))
    server = start_api_server(
        "api-server-secured.log",
        {
            "AIRFLOW__CORE__AUTH_MANAGER": "tests.airflow.auth_manager.OneHiddenDagAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"admin:admin,{OUTSIDER}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        },
    )
    yield server
    stop_api_server(server)


def test_airflow_authentication_and_dag_permissions(
    blocked_run: object, secured_api_server: ApiServer
) -> None:
    # blocked_run first: the run writes the SQLite metadata DB while only one server is up.
    server = secured_api_server
    run_id = blocked_run.run_id  # type: ignore[attr-defined]
    task_page = f"/guardrails/task?dag_id={HIDDEN_DAG}&run_id={run_id}&task_id=drop_old_mart"
    with server.client(authenticated=False) as anonymous:
        for path in ("/guardrails/decisions", "/guardrails/api/decisions", task_page):
            assert anonymous.get(path).status_code == 401, path
            _assert_sent_to_login(server, anonymous, path)
    with server.client(username="admin", password="admin-pass") as admin:
        seen = admin.get("/guardrails/api/decisions", params={"run_id": run_id}).json()
        assert {d["subject"]["pipeline"] for d in seen["decisions"]} == {HIDDEN_DAG}
        assert admin.get(task_page).status_code == 200
    with server.client(username=OUTSIDER, password="outsider-pass") as outsider:
        hidden = outsider.get("/guardrails/api/decisions", params={"run_id": run_id}).json()
        assert hidden["decisions"] == []
        assert outsider.get(task_page).status_code == 403


def _assert_sent_to_login(server: ApiServer, browser: Any, path: str) -> None:
    """A person (asking for HTML) without a login is sent to Airflow's login page, and back."""
    sent = browser.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert sent.status_code == 303, (path, sent.status_code, sent.text)
    login = httpx.URL(sent.headers["location"])
    assert login.path == "/api/v2/auth/login"
    assert login.params["next"] == f"{server.url}{path}"
    onward = browser.get(login)  # Airflow's own route: on to its auth manager's login form
    assert onward.status_code == 307 and "login" in onward.headers["location"], onward.text


def test_decisions_api_and_pages(api_server: ApiServer, blocked_run: object) -> None:
    run_id = blocked_run.run_id  # type: ignore[attr-defined]
    with api_server.client() as client:
        listed = client.get(
            "/guardrails/api/decisions",
            params={"dag_id": "nightly_orders", "run_id": run_id, "verdict": "deny"},
        )
        assert listed.status_code == 200, listed.text
        (blocked,) = listed.json()["decisions"]
        assert blocked["subject"]["task"] == "drop_old_mart"
        assert blocked["subject"]["rules"][0] == "baseline.drop"
        assert blocked["latest_state"] == "blocked"

        everything = client.get("/guardrails/api/decisions", params={"run_id": run_id}).json()
        times = [d["recorded_at"] for d in everything["decisions"]]
        assert times == sorted(times, reverse=True)  # newest first
        assert_one_entry_per_command(everything["decisions"], run_id)
        reads = client.get(
            "/guardrails/api/decisions", params={"run_id": run_id, "intent": "schema_change"}
        ).json()["decisions"]
        assert {d["subject"]["task"] for d in reads} >= {"drop_old_mart", "prepare_warehouse"}
        assert (
            client.get("/guardrails/api/decisions", params={"verdict": "maybe"}).status_code == 400
        )

        page = client.get(
            "/guardrails/task",
            params={"dag_id": "nightly_orders", "run_id": run_id, "task_id": "drop_old_mart"},
        )
        assert page.status_code == 200
        assert "baseline.drop" in page.text and "DROP TABLE mart_revenue" in page.text
        # The task-instance tab of a task that is not mapped, as Airflow's UI opens it.
        tab = client.get(
            "/guardrails/task",
            params={
                "dag_id": "nightly_orders",
                "run_id": run_id,
                "task_id": "drop_old_mart",
                "map_index": "{MAP_INDEX}",
            },
        )
        assert tab.status_code == 200, tab.text
        assert tab.text == page.text
        wrong = client.get(page.url.copy_add_param("map_index", "first"))
        assert wrong.status_code == 422 and "map_index='first'" in wrong.text

        plugins = client.get("/api/v2/plugins").json()["plugins"]
        ours = next(p for p in plugins if p["name"] == "access_guardrails")
        destinations = {view["destination"] for view in ours["external_views"]}
        assert destinations == {"nav", "task_instance"}


def assert_one_entry_per_command(entries: list[dict[str, Any]], run_id: str) -> None:
    """As on the pages: one entry per command per task run, a later judgement (measured at the
    connection) inside its first one's entry, the verdict that stands being the last one's."""
    from guardrails_core.session import REFINES_LABEL, refinement_of

    decisions = [r for r in audit_records(run_id) if r.decision is not None]
    first = [r for r in decisions if refinement_of(r.decision) is None]
    assert [e["record_id"] for e in entries] == [r.record_id for r in reversed(first)]
    judged = [j["record_id"] for e in entries for j in e["judgements"]]
    assert sorted(judged) == sorted(r.record_id for r in decisions)  # each record once
    chains = [e for e in entries if len(e["judgements"]) > 1]
    assert chains, "the run measures its DELETE at the connection: a two-judgement chain"
    for entry in chains:
        root, *later = entry["judgements"]
        assert root["judgement"] == "judged"
        for judgement in later:
            labels = dict(judgement["decision"]["context"]["labels"])
            assert labels[REFINES_LABEL] == root["decision"]["decision_id"]
            assert judgement["judgement"].startswith("measured at connection")
        standing = entry["judgements"][-1]
        assert entry["verdict"] == standing["decision"]["decision"]
        assert entry["latest_state"] == standing["latest_state"]
        assert entry["subject"] == standing["subject"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
def test_blocked_task_in_the_browser(api_server: ApiServer, blocked_run: object) -> None:
    chromium = _chromium()
    if chromium is None:
        message = "chromium is not installed; run `make browser` (.ci/install_chromium.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    run_id = blocked_run.run_id  # type: ignore[attr-defined]
    page = "/guardrails/decisions?" + urlencode({"dag_id": "nightly_orders", "run_id": run_id})
    # The all-admins login sets Airflow's session cookie and redirects to the page, as a
    # person's browser would after signing in.
    url = f"{api_server.url}/auth/token/login?next={quote(page, safe='')}"
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"guardrails-chromium-{os.getpid()}"
    flags = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "Guardrails decisions" in dom
    assert "drop_old_mart" in dom
    assert "baseline.drop" in dom
    assert "DROP TABLE mart_revenue" in dom

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "airflow_guardrails_decisions.png"
    screenshot.unlink(missing_ok=True)
    subprocess.run(
        [*flags, "--window-size=1400,900", f"--screenshot={screenshot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 10_000
    shutil.rmtree(profile, ignore_errors=True)
