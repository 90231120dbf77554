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
from urllib.parse import quote, urlencode

import pytest

from tests.e2e.airflow_stack import (
    ROOT,
    AirflowStack,
    airflow_stack,
    secured_url,
)
from tests.e2e.outcomes import (
    assert_nightly_outcome,
    assert_one_row_per_command,
    assert_pg_outcome,
    assert_task_inherits_the_preloaded_guard,
)
from tests.servers import require_postgres

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "artifacts" / "e2e"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    require_postgres()
    with airflow_stack(tmp_path_factory.mktemp("e2e-airflow")) as running:
        yield running


def test_nightly_etl_blocked_step_fails_the_rest_succeed(
    stack: AirflowStack, runs: dict[str, str]
) -> None:
    assert_nightly_outcome(stack, runs["nightly_orders"])


def test_postgres_data_intact_after_blocked_steps(
    stack: AirflowStack, runs: dict[str, str], pg_table: str
) -> None:
    assert_pg_outcome(stack, runs["pg_guarded"], pg_table)


def test_task_processes_inherit_the_guard_preloaded_by_local_settings(
    stack: AirflowStack,
) -> None:
    assert_task_inherits_the_preloaded_guard(stack)


def test_plugin_shows_each_command_once(stack: AirflowStack, runs: dict[str, str]) -> None:
    assert_one_row_per_command(stack, "pg_guarded", runs["pg_guarded"])
    assert_one_row_per_command(stack, "nightly_orders", runs["nightly_orders"])


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


def test_plugin_page_shows_a_refined_command_as_one_row(
    stack: AirflowStack, runs: dict[str, str], artifacts: Path
) -> None:
    """pg_guarded's fix was judged as rendered, then measured at its connection: one row, both
    judgements listed inside it."""
    page = "/guardrails/decisions?" + urlencode(
        {"dag_id": "pg_guarded", "run_id": runs["pg_guarded"], "task_id": "fix_one_order"}
    )
    screenshot = artifacts / "airflow_decisions_page_refined.png"
    dom = _browse(_logged_in(stack, page), screenshot, stack.home)
    assert dom.count('class="decision"') == 1, dom[-3000:]
    assert "measured at connection pg_warehouse" in dom


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
# engine sent the blocked statement, and an allowed UPDATE judged again at its connection (one
# card, both judgements inside).
TASK_TABS = [
    ("nightly_orders", "drop_old_mart", ("DROP TABLE mart_revenue", "baseline.drop")),
    ("nightly_orders", "aggregate_revenue", ("INSERT INTO mart_revenue", "baseline.allow")),
    ("pg_guarded", "drop_through_engine", ("DROP TABLE e2e17_orders_", "baseline.drop")),
    ("pg_guarded", "fix_one_order", ("1 command(s)", "measured at connection pg_warehouse")),
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
