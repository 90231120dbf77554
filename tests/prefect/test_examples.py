"""The example Prefect flows (dags_examples/prefect_*.py) in real flow runs with the example
policy, as `make demo` runs them, for a day the test chooses: nothing in them reads the clock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dags_examples.prefect_ai_fixup import revenue_fixups
from dags_examples.prefect_nightly_etl import nightly_orders
from dags_examples.prefect_shell_export import orders_export
from guardrails_core import Verdict
from guardrails_core.audit import Outcome
from guardrails_core.guard import Guard

from .conftest import Approver, Audit, unique_name

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
DAY = "2031-02-28"  # far from the examples' own default and from today


@pytest.fixture
def example_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo's policy and environment for the shared guard, for one test."""
    monkeypatch.setenv("GUARDRAILS_POLICY", str(EXAMPLES / "guardrails_policy.yaml"))
    monkeypatch.setenv("GUARDRAILS_ENVIRONMENT", "prod")
    Guard.reset_shared()
    yield
    monkeypatch.undo()
    Guard.reset_shared()


def verdicts(audit: Audit, flow_run_id: object) -> list[tuple[str | None, Verdict]]:
    return [
        (record.subject.task, record.subject.verdict)
        for record in audit.decisions(run_id=str(flow_run_id))
    ]


@pytest.mark.usefixtures("example_policy")
def test_nightly_orders_aggregates_its_day_and_the_fix_waits_for_approval(
    tmp_path: Path, audit: Audit
) -> None:
    warehouse = tmp_path / "warehouse.sqlite3"
    url = f"sqlite:///{warehouse}"

    nightly = nightly_orders(url=url, day=DAY, return_state=True)
    assert verdicts(audit, nightly.state_details.flow_run_id) == [
        ("prepare_warehouse", Verdict.ALLOW),
        ("rebuild_staging", Verdict.ALLOW),
        ("aggregate_revenue", Verdict.ALLOW),
        ("drop_old_mart", Verdict.DENY),
    ]
    with sqlite3.connect(warehouse) as conn:  # the drop was blocked: the day's total is there
        assert conn.execute("SELECT day, total FROM mart_revenue").fetchall() == [(DAY, 200.5)]

    name = unique_name("fixup")
    approver = Approver(name, {"approve": True, "approver": "alice", "comment": "checked"})
    approver.start()
    fixed = revenue_fixups.with_options(flow_run_name=name)(url=url, day=DAY, return_state=True)
    approver.join(5)
    assert approver.error is None and fixed.is_completed()
    review, allowed = audit.decisions(run_id=str(fixed.state_details.flow_run_id))
    assert [r.state for r in audit.history(review.record_id)] == [
        Outcome.AWAITING_APPROVAL,
        Outcome.APPROVED,
    ]
    assert allowed.subject.verdict is Verdict.ALLOW
    with sqlite3.connect(warehouse) as conn:
        totals = conn.execute("SELECT total FROM raw_orders ORDER BY id").fetchall()
    assert totals == [(pytest.approx(132.0),), (pytest.approx(88.55),), (42.0,)]


@pytest.mark.usefixtures("example_policy")
def test_orders_export_upload_is_blocked_before_a_shell_starts(audit: Audit) -> None:
    day = DAY.replace("-", "")
    export = Path(f"/tmp/orders_{day}.csv")
    export.unlink(missing_ok=True)
    state = orders_export(day=day, return_state=True)
    [(task, verdict)] = verdicts(audit, state.state_details.flow_run_id)
    assert (task, verdict) == ("upload_orders_export", Verdict.DENY)
    assert not export.exists()  # the export itself never ran
