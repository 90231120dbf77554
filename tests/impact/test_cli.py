"""`access-guardrails undo` and `trash` on real databases, recorded in the audit trail."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine

from guardrails_core.audit import AuditStore, Outcome
from guardrails_core.cli import main
from guardrails_core.guard import Guard
from guardrails_core.impact import ImpactProbe
from tests.impact.conftest import DEFAULT_SCHEMA, Database, guarded, orders, runner


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    capture = pytest.MonkeyPatch()
    capture.setattr("sys.stderr", err)
    try:
        code = main(list(argv), out=out)
    finally:
        capture.undo()
    return code, out.getvalue(), err.getvalue()


def test_undo_restores_and_is_recorded_in_the_audit_trail(
    db: Database, guard: Guard, audit_url: str
) -> None:
    table = orders(db)
    before = db.checksum(table)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE v IN (1, 2)")
    code, out, err = cli(
        "undo", decision_id, "--url", db.url, "--audit-url", audit_url, "--actor", "alice"
    )
    assert code == 0, err
    assert out.startswith(f"undone {decision_id}: ") and "40 rows re-inserted" in out
    assert db.checksum(table) == before
    with AuditStore(audit_url, create=False) as store:
        history = store.history(store.find(decision_id).record_id)
    assert [record.state for record in history][-1] is Outcome.UNDONE
    assert history[-1].actor == "alice" and "re-inserted" in (history[-1].detail or "")

    code, _, err = cli("undo", decision_id, "--url", db.url, "--audit-url", audit_url)
    assert code == 1 and "undo refused" in err and "already put back" in err


def test_undo_finds_the_database_recorded_with_the_backups(
    db: Database, guard: Guard, audit_url: str
) -> None:
    table = orders(db)
    before = db.checksum(table)
    engine = create_engine(db.url)
    try:
        with engine.begin() as connection:
            executed = guard.execute(
                f"DROP TABLE {table}", probe=ImpactProbe(connection), run=connection.exec_driver_sql
            )
    finally:
        engine.dispose()
    code, out, err = cli("undo", executed.decision.decision_id, "--audit-url", audit_url)
    assert code == 0, err
    assert f"back to {DEFAULT_SCHEMA[db.dialect]}.{table}" in out
    assert db.checksum(table) == before


def test_a_refused_undo_changes_nothing_and_says_why(
    db: Database, guard: Guard, audit_url: str
) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"UPDATE {table} SET v = 0 WHERE id <= 5")
    db.run(f"UPDATE {table} SET v = 1 WHERE id = 2")
    db.commit()
    after = db.checksum(table)
    code, out, err = cli("undo", decision_id, "--url", db.url, "--audit-url", audit_url)
    assert (code, out) == (1, "")
    assert "(id=2) was changed again" in err and "Nothing was changed" in err
    assert db.checksum(table) == after
    with AuditStore(audit_url, create=False) as store:
        states = [r.state for r in store.history(store.find(decision_id).record_id)]
    assert Outcome.UNDONE not in states


def test_no_undo_without_an_audit_trail_to_record_it(
    db: Database, guard: Guard, tmp_path: object
) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 5")
    missing = f"sqlite:///{tmp_path}/nowhere/audit.sqlite3"
    code, _, err = cli("undo", decision_id, "--url", db.url, "--audit-url", missing)
    assert code == 3 and "nothing was undone" in err
    assert db.scalar(f"SELECT count(*) FROM {table}") == 195

    code, _, err = cli("undo", "0" * 32, "--url", db.url, "--audit-url", _audit(guard))
    assert code == 1 and "not in the audit trail" in err


def test_the_undo_is_recorded_before_it_commits_or_not_at_all(
    db: Database, guard: Guard, audit_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardrails_core.audit import AuditUnavailable

    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 5")
    seen: list[int] = []

    def unrecordable(self: AuditStore, *args: object, **kwargs: object) -> None:
        # The restore has run inside the undo's transaction when the record is written.
        seen.append(1)
        raise AuditUnavailable(url=audit_url, action="record the undo", reason="it went away")

    monkeypatch.setattr(AuditStore, "record_outcome", unrecordable)
    code, _, err = cli("undo", decision_id, "--url", db.url, "--audit-url", audit_url)
    assert seen == [1]
    assert code == 3 and "nothing was undone" in err
    assert db.scalar(f"SELECT count(*) FROM {table}") == 195  # rolled back with the record
    monkeypatch.undo()
    code, _, err = cli("undo", decision_id, "--url", db.url, "--audit-url", audit_url)
    assert code == 0, err
    assert db.scalar(f"SELECT count(*) FROM {table}") == 200


def test_trash_list_and_purge(db: Database, guard: Guard, audit_url: str) -> None:
    table = orders(db)
    kept = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 5")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)  # expired on any day the suite runs
    connection = db.connection()
    expired = guard.execute_reversibly(
        guard.check(f"DELETE FROM {table} WHERE id > 190"),
        ImpactProbe(connection, clock=lambda: long_ago),
        runner(connection),
    ).decision.decision_id
    db.commit(connection)

    code, out, _ = cli("trash", "list", "--url", db.url)
    assert code == 0 and out.startswith("TAKEN (UTC)")
    assert kept in out and expired in out and f"DELETE {db.dialect}" not in out
    code, out, _ = cli("trash", "list", "--url", db.url, "--json")
    listed = {item["decision_id"]: item for item in map(json.loads, out.splitlines())}
    assert listed[kept]["kind"] == "pre_image" and listed[kept]["row_count"] == 5
    assert listed[kept]["table"].endswith(table)

    code, out, _ = cli("trash", "purge", "--url", db.url, "--dry-run")
    assert code == 0 and "would purge" in out and expired in out and kept not in out
    code, out, _ = cli("trash", "purge", "--url", db.url)
    assert code == 0 and f"decision {expired}" in out
    code, out, _ = cli("trash", "list", "--url", db.url, "--json")
    remaining = {json.loads(line)["decision_id"] for line in out.splitlines()}
    assert kept in remaining and expired not in remaining


def test_usage_errors(db: Database) -> None:
    code, _, err = cli("trash", "purge", "--url", db.url, "--older-than", "soon")
    assert code == 2 and "--older-than 'soon'" in err
    code, _, err = cli("trash", "list", "--url", "nosuchdb://x")
    assert code == 2 and "cannot use --url" in err


def _audit(guard: Guard) -> str:
    return guard.settings.resolved_audit_url
