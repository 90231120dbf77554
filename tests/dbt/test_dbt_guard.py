"""Real dbt runs (dbt-core + dbt-postgres) against PostgreSQL, every statement guarded.

The fixture project (tests/dbt/project) has a seed, a table model with a post-hook that deletes
every row when `wipe_orders` is set, a view, two incremental models (delete+insert; one keyed by
its contract, with a post-hook deleting one row when `trim_updates` is set), a snapshot, two data
tests and a macro that exports a table with COPY ... TO. Each test builds it in a schema of its
own.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, RecordKind
from guardrails_core.dbt_guard import run_dbt
from guardrails_core.guard import Guard
from guardrails_core.impact import BackupEntry, list_backups, purge, undo
from guardrails_core.model import Context, ImpactSource, Verdict
from guardrails_core.policy import parse_policy
from guardrails_core.settings import Settings
from tests.servers import require_postgres

PROJECT = Path(__file__).parent / "project"
DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


class Project:
    """The fixture project copied to a temporary folder, building into its own schema."""

    def __init__(self, tmp_path: Path) -> None:
        self.schema = f"dbt14_guard_{uuid.uuid4().hex[:8]}"
        self.folder = tmp_path / "project"
        shutil.copytree(PROJECT, self.folder)
        (self.folder / "profiles.yml").write_text(
            "guarded_shop:\n  target: dev\n  outputs:\n    dev:\n"
            "      {type: postgres, host: 127.0.0.1, port: 5432, user: postgres, password: '',"
            f" dbname: test, schema: {self.schema}, threads: 2}}\n"
        )
        self.audit_url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"

    def guard(self, policy: str | None = None) -> Guard:
        settings = Settings.load({"GUARDRAILS_AUDIT_URL": self.audit_url})
        return Guard(settings=settings, policy=parse_policy(policy) if policy else None)

    def dbt(self, *args: str, guard: Guard | None = None) -> Any:
        where = ["--project-dir", str(self.folder), "--profiles-dir", str(self.folder)]
        return run_dbt([*args, *where, "--quiet"], guard=guard or self.guard())

    def rows(self, relation: str) -> int:
        with psycopg.connect(DSN) as conn:
            found = conn.execute(f'select count(*) from "{self.schema}"."{relation}"').fetchone()
        assert found is not None
        return int(found[0])

    def decisions(self) -> list[AuditRecord]:
        with AuditStore(self.audit_url, create=False) as store:
            return store.query(AuditFilter(kind=RecordKind.DECISION, limit=100_000))

    def backups(self) -> list[BackupEntry]:
        with psycopg.connect(DSN, autocommit=True) as conn:
            return [entry for entry in list_backups(conn) if entry.table[0] == self.schema]

    def drop(self) -> None:
        with psycopg.connect(DSN, autocommit=True) as conn:
            purge(conn, older_than=timedelta(0), schema=self.schema)  # the kept pre-images
            for schema in (self.schema, f"{self.schema}_snapshots"):
                conn.execute(f'drop schema if exists "{schema}" cascade')


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    require_postgres()
    made = Project(tmp_path)
    yield made
    made.drop()


def _blocked(records: list[AuditRecord]) -> list[tuple[str, str]]:
    return [
        (record.decision.context.task or "", record.decision.command.text)
        for record in records
        if record.decision is not None and record.decision.decision is not Verdict.ALLOW
    ]


def test_ordinary_runs_have_no_false_block_under_the_dbt_pack(project: Project) -> None:
    for args in (["build"], ["build"], ["run", "--full-refresh"], ["seed", "--full-refresh"]):
        result = project.dbt(*args)
        assert result.success, (args, result.exception)
    assert project.rows("orders") == 3
    assert project.rows("orders_incremental") == 3
    assert project.rows("orders_snapshot") == 3
    records = project.decisions()
    assert _blocked(records) == []
    by_rule: dict[str, set[str]] = {}
    for record in records:
        assert record.decision is not None
        context = record.decision.context
        assert context.orchestrator == "dbt"
        reason = record.decision.deciding_reason
        assert reason is not None
        by_rule.setdefault(reason.rule_id, set()).add(context.task or "")
    # dbt's housekeeping is recognised for what it is, on the node that does it.
    assert "model.guarded_shop.orders" in by_rule["dbt.relation-swap"]
    assert "model.guarded_shop.customers" in by_rule["dbt.backup-drop"]
    assert by_rule["dbt.seed-reload"] == {"seed.guarded_shop.raw_orders"}
    assert by_rule["dbt.seed-full-refresh"] == {"seed.guarded_shop.raw_orders"}
    # The full refresh of the incremental models is named, and only there.
    incremental = {"model.guarded_shop.orders_incremental", "model.guarded_shop.order_updates"}
    assert by_rule["dbt.full-refresh"] == incremental
    # So is their delete+insert, measured on the node's connection: the tables were never
    # analysed, so the rows were counted (the planner guesses hundreds for three rows).
    assert by_rule["dbt.incremental-delete-insert"] == incremental
    measured = [
        record.decision.impact
        for record in records
        if record.decision is not None
        and record.decision.deciding_reason is not None
        and record.decision.deciding_reason.rule_id == "dbt.incremental-delete-insert"
    ]
    assert len(measured) == 2  # the second build's, one per model
    for [estimate] in measured:
        assert (estimate.source, estimate.estimated_rows, estimate.table_rows) == (
            ImpactSource.COUNT,
            1,
            3,
        ), estimate
    # The keyed model's delete kept a pre-image; the keyless one's could not.
    assert {entry.table[1] for entry in project.backups()} == {"order_updates"}
    # Seeds, snapshots and data tests went through the guard too.
    tasks = {record.decision.context.task for record in records if record.decision}
    assert {"snapshot.guarded_shop.orders_snapshot", "seed.guarded_shop.raw_orders"} <= tasks
    assert any(task and task.startswith("test.guarded_shop.unique_orders_id") for task in tasks)


def test_a_post_hook_deleting_every_row_fails_its_node_and_the_table_keeps_its_rows(
    project: Project,
) -> None:
    assert project.dbt("build").success
    result = project.dbt("run", "--vars", "{wipe_orders: true}")
    assert not result.success
    failed = [item for item in result.result if str(item.status) == "error"]
    assert [item.node.unique_id for item in failed] == ["model.guarded_shop.orders"]
    assert "mass mutation" in failed[0].message
    assert project.rows("orders") == 3  # dbt rolled back: the rebuilt table and its swap too
    [(task, text)] = _blocked(project.decisions())
    assert task == "model.guarded_shop.orders"
    assert text.startswith("delete from") and "where" in text
    [wipe] = [r.decision for r in project.decisions() if r.decision and r.decision.impact]
    assert wipe.impact[0].estimated_rows == 3 and wipe.impact[0].table_rows == 3  # measured


def test_an_allowed_scoped_delete_keeps_a_pre_image_that_undo_puts_back(project: Project) -> None:
    assert project.dbt("build").success and project.rows("order_updates") == 3
    assert project.backups() == []  # the first build only inserted
    assert project.dbt("run", "--select", "order_updates", "--vars", "{trim_updates: true}").success
    assert project.rows("order_updates") == 2
    hook = [
        r.decision
        for r in project.decisions()
        if r.decision and '"order_updates" where id =' in r.decision.command.text
    ]
    [decision] = hook
    assert decision.decision is Verdict.ALLOW
    assert decision.context.task == "model.guarded_shop.order_updates"
    [entry] = [e for e in project.backups() if e.decision_id == decision.decision_id]
    assert (entry.operation, entry.row_count, entry.key_columns) == ("DELETE", 1, ("id",))
    assert entry.database == "postgresql://postgres@127.0.0.1:5432/test"
    with psycopg.connect(DSN, autocommit=True) as conn:
        undo(conn, decision.decision_id)
    assert project.rows("order_updates") == 3


def test_an_operation_that_exports_is_blocked(project: Project, tmp_path: Path) -> None:
    assert project.dbt("seed").success and project.dbt("run", "--select", "orders").success
    target = tmp_path / "orders.csv"
    result = project.dbt("run-operation", "export_orders", "--args", f"{{path: '{target}'}}")
    assert not result.success
    assert not target.exists()
    [record] = [
        r for r in project.decisions() if r.decision and r.decision.decision is not Verdict.ALLOW
    ]
    assert record.decision is not None
    assert record.decision.deciding_reason is not None
    assert record.decision.deciding_reason.rule_id == "baseline.export"
    assert record.decision.context.task == "macro_export_orders"


def test_a_policy_can_make_full_refreshes_reviewable(project: Project) -> None:
    policy = (
        "version: 1\nrules:\n  - id: full-refresh-needs-approval\n"
        "    match: {orchestrator: dbt, object_actions: [rename, drop],\n"
        "            labels: {dbt.full_refresh: 'true', dbt.materialized: incremental}}\n"
        "    decision: review\n"
    )
    assert project.dbt("build").success
    result = project.dbt("run", "--full-refresh", guard=project.guard(policy))
    assert not result.success
    assert project.rows("orders_incremental") == 3
    blocked = {task for task, _ in _blocked(project.decisions())}
    assert "model.guarded_shop.orders_incremental" in blocked


def test_the_guard_context_reaches_every_statement(project: Project) -> None:
    guard = project.guard()
    context = Context(environment="ci", tickets=("CHG-7",))
    from guardrails_core.dbt_guard import guard_dbt

    with guard_dbt(guard, context=context):
        from dbt.cli.main import dbtRunner

        where = ["--project-dir", str(project.folder), "--profiles-dir", str(project.folder)]
        assert dbtRunner().invoke(["seed", *where, "--quiet"]).success
        with pytest.raises(RuntimeError, match="already active"), guard_dbt(guard):
            pass
    records = project.decisions()
    assert records
    seen = {
        (r.decision.context.environment, r.decision.context.tickets) for r in records if r.decision
    }
    assert seen == {("ci", ("CHG-7",))}
    # Once the guard is gone dbt runs unguarded: nothing more is recorded.
    from dbt.cli.main import dbtRunner

    where = ["--project-dir", str(project.folder), "--profiles-dir", str(project.folder)]
    assert dbtRunner().invoke(["seed", *where, "--quiet"]).success
    assert len(project.decisions()) == len(records)


def test_the_command_line_wrapper(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from guardrails_core.cli import main

    monkeypatch.setenv("GUARDRAILS_AUDIT_URL", project.audit_url)
    monkeypatch.delenv("GUARDRAILS_POLICY", raising=False)
    where = ["--project-dir", str(project.folder), "--profiles-dir", str(project.folder), "-q"]
    assert main(["dbt", "--context", "environment=ci", "--", "seed", *where]) == 0
    assert main(["dbt", "--", "run", "--select", "orders", *where]) == 0
    assert main(["dbt", "--", "run-operation", "export_orders", "--args", "{path: x}", *where]) == 1
    assert main(["dbt"]) == 2  # no dbt arguments
    assert main(["dbt", "--", "run", "--project-dir", str(project.folder / "missing")]) == 2
    environments = {r.decision.context.environment for r in project.decisions() if r.decision}
    assert environments == {"ci", None}


@pytest.fixture
def where(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The command line's audit trail and home for the project; dbt's arguments naming it."""
    monkeypatch.setenv("GUARDRAILS_AUDIT_URL", project.audit_url)
    monkeypatch.setenv("GUARDRAILS_HOME", str(tmp_path / "home"))
    return ["--project-dir", str(project.folder), "--profiles-dir", str(project.folder), "-q"]


def test_a_held_statement_is_approved_from_the_command_line_and_then_runs_once(
    project: Project, where: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from guardrails_core.cli import main

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - id: deletes-in-hooks-need-approval\n"
        "    match: {orchestrator: dbt, operations: [DELETE], every_object: true,\n"
        "            objects: ['*.order_updates']}\n"
        "    decision: review\n"
    )
    trim = ["run", "--select", "order_updates", "--vars", "{trim_updates: true}", *where]
    dbt = ["dbt", "--policy", str(policy), "--"]
    assert main([*dbt, "build", *where]) == 0
    capsys.readouterr()

    assert main([*dbt, *trim]) == 1  # the hook's delete is held; dbt rolls the node back
    held = capsys.readouterr().err
    [approval_id] = re.findall(r"`access-guardrails approve (\w+)`", held)
    assert "held for review at model.guarded_shop.order_updates" in held
    assert project.rows("order_updates") == 3

    assert main(["approve", approval_id, "--by", "ada"]) == 0
    assert main([*dbt, *trim]) == 0  # the same statement, approved: it runs
    assert project.rows("order_updates") == 2
    [approved] = [
        r.decision
        for r in project.decisions()
        if r.decision and any(a.comment == approval_id for a in r.decision.context.approvals)
    ]
    assert approved.decision is Verdict.ALLOW and approved.context.approvals[0].approver == "ada"

    assert main([*dbt, *trim]) == 1  # once: the next run is held again
    assert project.rows("order_updates") == 2


def test_a_delete_insert_held_for_review_is_approved_and_runs_on_the_next_run_once(
    project: Project, where: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from guardrails_core.cli import main

    strict = tmp_path / "strict.yaml"
    strict.write_text("version: 1\nimpact: {max_rows: 0}\n")  # any row is too many
    again = ["dbt", "--policy", str(strict), "--", "run", "--select", "orders_incremental", *where]
    assert main(["dbt", "--", "build", *where]) == 0
    capsys.readouterr()

    assert main(again) == 1  # the delete+insert's DELETE is measured over the limits: held
    [approval_id] = re.findall(r"`access-guardrails approve (\w+)`", capsys.readouterr().err)
    assert project.rows("orders_incremental") == 3  # dbt rolled the node back
    [held] = [r.decision for r in project.decisions() if r.record_id == approval_id]
    assert held is not None and held.decision is Verdict.REVIEW
    assert held.deciding_reason is not None
    assert held.deciding_reason.rule_id == "dbt.incremental-delete-insert-large"
    assert held.context.task == "model.guarded_shop.orders_incremental"
    assert held.impact[0].estimated_rows == 1 and held.impact[0].source is ImpactSource.COUNT
    held_text = held.command.text
    assert re.search(r"__dbt_tmp[0-9]{12}", held_text), held_text

    assert main(["approve", approval_id, "--by", "ada"]) == 0
    assert main(again) == 0  # the next run's DELETE names another temporary relation: approved
    [used] = [
        r.decision
        for r in project.decisions()
        if r.decision and any(a.comment == approval_id for a in r.decision.context.approvals)
    ]
    assert used.decision is Verdict.ALLOW and used.context.approvals[0].approver == "ada"
    assert used.context.task == held.context.task
    assert used.command.text != held_text  # the run-specific suffix differs ...
    suffix = re.compile(r"__dbt_tmp[0-9]{12}")
    assert suffix.sub("", used.command.text) == suffix.sub("", held_text)  # ... and nothing else

    assert main(again) == 1  # used once: the run after is held again
    assert "access-guardrails approve" in capsys.readouterr().err


def test_an_approval_binds_to_the_text_but_for_dbts_temporary_suffix() -> None:
    from guardrails_core.dbt_guard import statement_key

    held = 'delete from "s"."events" where (id) in (select id from "events__dbt_tmp221503123456")'
    assert statement_key(held) == statement_key(held.replace("221503123456", "070000000001"))
    for other in (
        held.replace("events__dbt_tmp", "orders__dbt_tmp"),  # another model's temporary
        held.replace('"s"."events"', '"s"."orders"'),  # another target
        held.replace("(id)", "(user_id)"),
        held.replace("221503123456", "2215031234567"),  # not dbt's suffix: 13 digits
        held.replace("__dbt_tmp221503123456", "__dbt_tmp221503123456x"),  # another name
        held.replace("__dbt_tmp221503123456", "_copy221503123456"),
    ):
        assert statement_key(other) != statement_key(held), other
    plain = 'delete from "s"."events" where id = 1'
    from guardrails_core.model import fingerprint_text

    assert statement_key(plain) == fingerprint_text(plain)  # no suffix: the exact text
