"""Undo refuses what it cannot put back as it was, and changes nothing when it refuses; what
cannot be made reversible says why, and stops under `impact.require_backup`."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from guardrails_core.guard import Guard
from guardrails_core.impact import (
    BackupState,
    ImpactProbe,
    ReversibilityError,
    UndoRefused,
    list_backups,
    purge,
    undo,
)
from tests.impact.conftest import (
    Database,
    guard_for,
    guarded,
    orders,
    orders_columns,
    policy_for,
    runner,
)
from tests.waiting import wait_until


def refused(db: Database, decision_id: str, match: str, table: str | None = None) -> None:
    """Undo is refused with `match` in its message, and the table is left as it was."""
    before = db.checksum(table) if table else None
    with pytest.raises(UndoRefused, match=match):
        undo(db.connection(autocommit=True), decision_id)
    if table:
        assert db.checksum(table) == before


def test_rows_changed_again_since_the_update_are_a_conflict(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"UPDATE {table} SET v = 42 WHERE id <= 10")
    db.run(f"UPDATE {table} SET note = 'later work' WHERE id = 7")
    db.commit()
    refused(db, decision_id, r"1 row\(s\) of .* changed since .*\(id=7\) was changed again", table)


def test_a_float_changed_in_its_last_digits_is_a_conflict(db: Database, guard: Guard) -> None:
    # MariaDB's QUOTE() prints FLOAT with 6 significant digits: 123456.7 and 123456.9 both read
    # '123457', so a hash over QUOTE() saw no change and undo overwrote the later work.
    table = db.create(
        "floats", "id integer primary key, f float, note varchar(20)", 10, values="123456.7, 'x'"
    )
    decision_id = guarded(db, guard, f"UPDATE {table} SET note = 'fixed' WHERE id <= 5")
    db.run(f"UPDATE {table} SET f = 123456.9 WHERE id = 2")
    db.commit()
    refused(db, decision_id, r"\(id=2\) was changed again", table)


def test_deleted_rows_that_came_back_are_a_conflict(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 10")
    db.run(f"INSERT INTO {table} (id, v) VALUES (3, 0)")
    db.commit()
    refused(db, decision_id, r"\(id=3\) was inserted again", table)


def test_rows_deleted_after_an_update_are_a_conflict(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"UPDATE {table} SET v = 42 WHERE id <= 10")
    db.run(f"DELETE FROM {table} WHERE id = 4")
    db.commit()
    refused(db, decision_id, r"\(id=4\) was deleted", table)


def test_a_table_with_other_columns_is_refused(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 10")
    db.run(f"ALTER TABLE {table} ADD extra integer")
    db.commit()
    refused(db, decision_id, "columns of .* changed", table)


def test_a_table_dropped_and_created_again_is_refused(db: Database, guard: Guard) -> None:
    if db.dialect == "sqlite":
        pytest.skip("SQLite has no table identity beyond its definition (documented)")
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 10")
    if db.dialect == "mysql":
        created = db.scalar(
            "SELECT CREATE_TIME FROM information_schema.TABLES"
            f" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
        )
    db.run(f"DROP TABLE {table}")
    if db.dialect == "mysql":
        # MariaDB tells tables apart by creation time, to the second, read from the table file's
        # timestamp. The kernel stamps files with a coarse clock that can trail NOW() by some
        # milliseconds, so wait for a whole second more than "a later second" of NOW().
        wait_until(
            lambda: db.scalar(f"SELECT NOW() > TIMESTAMP '{created}' + INTERVAL 1 SECOND") == 1
        )
    db.run(f"CREATE TABLE {table} ({orders_columns(db.dialect)})")
    db.commit()
    refused(db, decision_id, "dropped and created again", table)


def taken_at(db: Database, decision_id: str) -> datetime:
    """When the backup of `decision_id` was taken, as its catalog entry says."""
    [entry] = [e for e in list_backups(db.admin) if e.decision_id == decision_id]
    return entry.created_at


def test_expired_backups_are_refused_then_purged(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 10")
    # Times relative to the backup's own: the test policy keeps backups 7 days.
    taken = taken_at(db, decision_id)
    later = taken + timedelta(days=8)
    with pytest.raises(UndoRefused, match=r"expired on .* still at .*trash purge"):
        undo(db.connection(autocommit=True), decision_id, now=later)

    assert decision_id not in {p.entry.decision_id for p in purge(db.admin, now=taken)}  # kept
    [purged] = [p for p in purge(db.admin, now=later) if p.entry.decision_id == decision_id]
    assert purged.dropped and purged.problem is None
    assert not db.exists(purged.entry.location[1])
    assert decision_id not in {e.decision_id for e in list_backups(db.admin)}
    states = {e.decision_id: e.state for e in list_backups(db.admin, include_done=True)}
    assert states[decision_id] is BackupState.PURGED
    refused(db, decision_id, "was purged on", table)


def test_purge_older_than_and_dry_run(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 10")
    soon = taken_at(db, decision_id) + timedelta(hours=2)
    planned = purge(db.admin, older_than=timedelta(hours=1), now=soon, dry_run=True)
    assert decision_id in {item.entry.decision_id for item in planned}
    assert decision_id in {e.decision_id for e in list_backups(db.admin)}  # dry run: kept
    purge(db.admin, older_than=timedelta(hours=1), now=soon)
    assert decision_id not in {e.decision_id for e in list_backups(db.admin)}


def test_an_undo_is_done_once(db: Database, guard: Guard) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 10")
    undo(db.connection(autocommit=True), decision_id)
    refused(db, decision_id, "already put back", table)


def test_a_table_created_again_under_a_dropped_name_is_a_conflict(
    db: Database, guard: Guard
) -> None:
    table = orders(db)
    before = db.checksum(table)
    decision_id = guarded(db, guard, f"DROP TABLE {table}")
    assert not db.exists(table)
    db.run(f"CREATE TABLE {table} (id integer primary key)")
    db.commit()
    refused(db, decision_id, "exists again .* rename or drop it")
    db.run(f"DROP TABLE {table}")
    db.commit()
    undo(db.connection(autocommit=True), decision_id)
    assert db.checksum(table) == before


def test_a_table_others_depend_on_is_not_soft_dropped(db: Database, guard: Guard) -> None:
    parent = db.create("parent", "id integer primary key", 3)
    child = db.create(
        "child",
        f"id integer primary key, parent_id integer references {parent} (id)",
    )
    if db.dialect == "sqlite":
        db.run("PRAGMA foreign_keys = ON")
    connection = db.admin
    with pytest.raises(ReversibilityError, match=f"cannot soft-drop .*{parent}.*foreign key"):
        guard.execute(f"DROP TABLE {parent}", probe=ImpactProbe(connection), run=runner(connection))
    assert db.exists(parent) and db.exists(child)


def test_statements_without_a_way_back_run_with_a_note_or_stop_when_required(
    db: Database, audit_url: str
) -> None:
    keyless = db.create("keyless", "v integer, note varchar(10)", 20, values="'x'")
    connection = db.connection()
    lenient = guard_for(audit_url, policy_for(db.dialect))
    executed = lenient.execute(
        f"DELETE FROM {keyless} WHERE v < 5", probe=ImpactProbe(connection), run=runner(connection)
    )
    db.commit(connection)
    assert executed.reversals == ()
    assert "no primary key or NOT NULL unique key" in executed.notes[0]

    strict = guard_for(audit_url, policy_for(db.dialect, "{require_backup: true}"))
    with pytest.raises(ReversibilityError, match="must not run without a way back"):
        strict.execute(
            f"DELETE FROM {keyless} WHERE v < 10",
            probe=ImpactProbe(connection),
            run=runner(connection),
        )
    db.commit(connection)
    assert db.scalar(f"SELECT count(*) FROM {keyless}") == 16  # the second DELETE never ran


def test_more_rows_than_the_pre_image_limit_get_no_copy(db: Database, audit_url: str) -> None:
    table = orders(db)
    connection = db.connection()
    capped = guard_for(audit_url, policy_for(db.dialect, "{pre_image_max_rows: 50}"))
    executed = capped.execute(
        f"DELETE FROM {table} WHERE id <= 60", probe=ImpactProbe(connection), run=runner(connection)
    )
    db.commit(connection)
    assert executed.reversals == ()
    assert "more than impact.pre_image_max_rows (50)" in " ".join(executed.notes)
    assert db.scalar(f"SELECT count(*) FROM {table}") == 140


def test_drop_cascade_is_not_soft_dropped_and_stops_when_a_backup_is_required(
    db: Database, audit_url: str
) -> None:
    if db.dialect == "sqlite":
        pytest.skip("SQLite has no DROP ... CASCADE")
    table = orders(db)
    strict = guard_for(audit_url, policy_for(db.dialect, "{require_backup: true}"))
    with pytest.raises(ReversibilityError, match="CASCADE also destroys"):
        strict.execute(
            f"DROP TABLE {table} CASCADE", probe=ImpactProbe(db.admin), run=runner(db.admin)
        )
    assert db.exists(table)


def test_predicates_with_side_effects_are_never_copied(db: Database, guard: Guard) -> None:
    if db.dialect != "postgres":
        pytest.skip("nextval() in a predicate: PostgreSQL")
    table = orders(db)
    sequence = f"impact_seq_{db.token}"
    db.run(f"CREATE SEQUENCE {sequence}")
    try:
        connection = db.connection()
        executed = guard.execute(
            f"DELETE FROM {table} WHERE id = nextval('{sequence}')",
            probe=ImpactProbe(connection),
            run=runner(connection),
        )
        db.commit(connection)
        assert executed.reversals == () and "nextval()" in executed.notes[0]
        # The DELETE calls nextval() once per row it scans (200); counting or copying the rows
        # first would have called it 200 more times each, and deleted other rows.
        assert db.scalar(f"SELECT last_value FROM {sequence}") == 200
    finally:
        db.run(f"DROP SEQUENCE {sequence}")
