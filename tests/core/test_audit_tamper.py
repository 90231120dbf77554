"""Tampering done directly in SQL, by someone with write access to the database: verify must fail
and name the first bad record."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails_core.audit import AuditRecord, AuditStore, ProblemKind, VerifyResult
from tests.audit_fixtures import BACKENDS, StoreFactory, execute_sql, make_decision, store_factory


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    with store_factory(request.param, tmp_path) as factory:
        yield factory


def _filled(
    stores: StoreFactory, count: int = 6, **options: object
) -> tuple[AuditStore, list[AuditRecord]]:
    store = stores.open(**options)
    ids = [
        store.record(make_decision(f"DELETE FROM t WHERE id = {i}", run_id=f"r{i}"))
        for i in range(count)
    ]
    records = sorted((store.get(record_id) for record_id in ids), key=lambda r: (r.chain, r.seq))
    assert len({record.chain for record in records}) == 1, "one writer appends to one chain"
    assert store.verify().ok
    return store, records


def _failed_at(result: VerifyResult, record: AuditRecord | None, kind: ProblemKind) -> None:
    assert not result.ok, "verify must notice"
    first = result.first_problem
    assert first is not None
    assert first.kind is kind, first
    if record is not None:
        assert (first.chain, first.seq) == (record.chain, record.seq), first
    assert "FAILED" in result.summary()


def _rows(store: AuditStore, chain: int) -> list[dict[str, object]]:
    tables = store._tables
    with store._engine.connect() as conn:
        query = (
            tables.record.select()
            .where(tables.record.c.chain == chain)
            .order_by(tables.record.c.seq)
        )
        return [dict(row) for row in conn.execute(query).mappings()]


def test_modified_payload(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    target = records[2]
    execute_sql(
        store,
        "UPDATE {record} SET payload = REPLACE(payload, 'DELETE', 'SELECT') WHERE record_id = :id",
        id=target.record_id,
    )
    result = store.verify()
    _failed_at(result, target, ProblemKind.MODIFIED)
    assert result.first_problem is not None and result.first_problem.record_id == target.record_id


def test_modified_column(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    target = records[3]
    execute_sql(
        store, "UPDATE {record} SET verdict = 'deny' WHERE record_id = :id", id=target.record_id
    )
    result = store.verify()
    _failed_at(result, target, ProblemKind.MODIFIED)
    assert result.first_problem is not None and "'verdict'" in result.first_problem.message


def test_modified_record_with_recomputed_hash_breaks_the_next_link(stores: StoreFactory) -> None:
    """Without a key an attacker can rehash one record; the next record no longer links to it."""
    store, records = _filled(stores)
    target, following = records[1], records[2]
    row = next(r for r in _rows(store, target.chain) if r["record_id"] == target.record_id)
    forged = str(row["payload"]).replace("DELETE", "SELECT")
    forged_hash = hashlib.sha256((str(row["prev_hash"]) + forged).encode()).hexdigest()
    execute_sql(
        store,
        "UPDATE {record} SET payload = :p, hash = :h WHERE record_id = :id",
        p=forged,
        h=forged_hash,
        id=target.record_id,
    )
    _failed_at(store.verify(), following, ProblemKind.INSERTED)


def test_deleted_record(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    execute_sql(store, "DELETE FROM {record} WHERE record_id = :id", id=records[2].record_id)
    result = store.verify()
    _failed_at(result, records[3], ProblemKind.MISSING)
    assert result.first_problem is not None and "expected seq" in result.first_problem.message


def test_deleted_last_record(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    last = records[-1]
    execute_sql(store, "DELETE FROM {record} WHERE record_id = :id", id=last.record_id)
    result = store.verify()
    _failed_at(result, last, ProblemKind.MISSING)
    assert result.first_problem is not None and "deleted" in result.first_problem.message


def _insert_copy(store: AuditStore, row: dict[str, object], **changes: object) -> None:
    values = {**row, **changes}
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    execute_sql(store, f"INSERT INTO {{record}} ({columns}) VALUES ({placeholders})", **values)


def _shift_from(store: AuditStore, chain: int, seq: int) -> None:
    """Make room at ``seq`` by moving every later record one place up (two steps: unique keys)."""
    execute_sql(
        store,
        "UPDATE {record} SET seq = seq + 1000000 WHERE chain = :c AND seq >= :s",
        c=chain,
        s=seq,
    )
    execute_sql(
        store, "UPDATE {record} SET seq = seq - 999999 WHERE chain = :c AND seq >= 1000000", c=chain
    )


def test_inserted_record(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    place = records[2]
    row = next(r for r in _rows(store, place.chain) if r["record_id"] == place.record_id)
    _shift_from(store, place.chain, place.seq)
    forged = str(row["payload"]).replace("DELETE", "TRUNCATE")
    _insert_copy(store, row, record_id=uuid.uuid4().hex, payload=forged, hash="f" * 64)
    result = store.verify()
    _failed_at(result, place, ProblemKind.MODIFIED)
    assert result.first_problem is not None and result.first_problem.record_id != place.record_id


def test_inserted_record_with_valid_hash_is_caught_at_the_next_one(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    place = records[2]
    row = next(r for r in _rows(store, place.chain) if r["record_id"] == place.record_id)
    _shift_from(store, place.chain, place.seq)
    envelope = json.loads(str(row["payload"]))
    envelope["record"]["record_id"] = uuid.uuid4().hex
    forged = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    forged_hash = hashlib.sha256((str(row["prev_hash"]) + forged).encode()).hexdigest()
    forged_id = envelope["record"]["record_id"]
    _insert_copy(
        store,
        row,
        record_id=forged_id,
        decision_record_id=forged_id,
        payload=forged,
        hash=forged_hash,
    )
    result = store.verify()
    assert not result.ok and result.first_problem is not None
    assert (result.first_problem.chain, result.first_problem.seq) == (place.chain, place.seq + 1)
    assert result.first_problem.record_id == place.record_id  # the displaced original


def test_appended_record(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    last = records[-1]
    row = next(r for r in _rows(store, last.chain) if r["record_id"] == last.record_id)
    _insert_copy(
        store, row, record_id=uuid.uuid4().hex, seq=last.seq + 1, prev_hash=last.hash, hash="e" * 64
    )
    result = store.verify()
    assert not result.ok and result.first_problem is not None
    assert (result.first_problem.chain, result.first_problem.seq) == (last.chain, last.seq + 1)


def test_reordered_records(stores: StoreFactory) -> None:
    store, records = _filled(stores)
    first, second = records[1], records[2]
    chain = first.chain
    execute_sql(
        store, "UPDATE {record} SET seq = -1 WHERE chain = :c AND seq = :s", c=chain, s=first.seq
    )
    execute_sql(
        store,
        "UPDATE {record} SET seq = :t WHERE chain = :c AND seq = :s",
        c=chain,
        s=second.seq,
        t=first.seq,
    )
    execute_sql(
        store, "UPDATE {record} SET seq = :t WHERE chain = :c AND seq = -1", c=chain, t=second.seq
    )
    result = store.verify()
    _failed_at(result, first, ProblemKind.REORDERED)
    assert result.first_problem is not None and result.first_problem.record_id == second.record_id


def test_record_moved_to_another_chain(stores: StoreFactory) -> None:
    if stores.backend == "sqlite":
        pytest.skip("SQLite stores have one chain")
    store, records = _filled(stores)
    target = records[-1]
    other = (target.chain + 1) % store.chains
    execute_sql(
        store,
        "UPDATE {record} SET chain = :o, seq = 1 WHERE record_id = :id",
        o=other,
        id=target.record_id,
    )
    result = store.verify()
    assert not result.ok
    assert {(p.chain, p.kind) for p in result.problems} >= {
        (other, ProblemKind.REORDERED),
        (target.chain, ProblemKind.MISSING),
    }


def test_chain_recomputed_without_the_key_is_detected(stores: StoreFactory) -> None:
    store, records = _filled(stores, key="the-audit-key")
    chain = records[0].chain
    prev = hashlib.sha256(b"whatever genesis").hexdigest()
    for row in _rows(store, chain):  # rewrite every record and the head, as a DBA could
        payload = str(row["payload"]).replace("DELETE", "SELECT")
        digest = hashlib.sha256((prev + payload).encode()).hexdigest()
        execute_sql(
            store,
            "UPDATE {record} SET payload = :p, prev_hash = :v, hash = :h WHERE record_id = :id",
            p=payload,
            v=prev,
            h=digest,
            id=row["record_id"],
        )
        prev = digest
    execute_sql(store, "UPDATE {head} SET last_hash = :h WHERE chain = :c", h=prev, c=chain)
    execute_sql(store, "UPDATE {meta} SET value = '' WHERE key = 'key_id'")
    result = store.verify()
    assert not result.ok
    assert result.first_problem is not None
    assert (result.first_problem.chain, result.first_problem.seq) == (chain, records[0].seq)
    assert (
        "without the audit key" in result.first_problem.message
        or result.first_problem.kind is ProblemKind.INSERTED
    )
    assert any(problem.kind is ProblemKind.KEY for problem in result.problems)
