"""The anchored trail: tampering that leaves a self-consistent database (the tail cut and the head
reset, an older copy restored, a reset to genesis, chains dropped, a recomputed chain, the store
dropped and re-created) passes a plain ``verify`` and is caught against the anchor's signed
checkpoints, keyed or not."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from guardrails_core.audit import AuditStore, AuditUnavailable, ProblemKind
from tests.audit_fixtures import BACKENDS, StoreFactory, execute_sql, make_decision, store_factory

_CLI = str(Path(sys.executable).with_name("access-guardrails"))
KEYS = {"keyed": "the-audit-key-0123456789", "unkeyed": None}


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    with store_factory(request.param, tmp_path) as factory:
        yield factory


@pytest.fixture(params=list(KEYS))
def key(request: pytest.FixtureRequest) -> str | None:
    return KEYS[request.param]


def _fill(store: AuditStore, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        store.record(make_decision(f"DELETE FROM t WHERE id = {i}", run_id=f"r{i}"))


def _anchored(
    stores: StoreFactory, key: str | None, count: int = 6, **options: Any
) -> tuple[AuditStore, Path]:
    anchor = stores.tmp_path / f"anchor-{len(stores.stores)}.jsonl"
    store = stores.open(key=key, anchor=anchor, **options)
    _fill(store, count)
    assert store.verify(anchor).ok
    return store, anchor


def _rows(store: AuditStore, table: sqlalchemy.Table) -> list[dict[str, Any]]:
    with store._engine.connect() as conn:
        return [dict(row) for row in conn.execute(table.select()).mappings()]


def _caught(store: AuditStore, anchor: Path, kind: ProblemKind, words: str) -> None:
    result = store.verify(anchor)
    assert not result.ok
    assert any(p.kind is kind and words in p.message for p in result.problems), result.problems


def test_an_untouched_anchored_store_verifies(stores: StoreFactory, key: str | None) -> None:
    store, anchor = _anchored(stores, key)
    schema = {"schema": store._schema} if store._schema else {}
    other = stores.open(url=_url(stores, store), key=key, **schema)
    _fill(other, 3, start=100)  # a second handle without the anchor setting appends too
    _fill(store, 3, start=200)
    result = store.verify(anchor)
    assert result.ok, result.problems
    lines = anchor.read_text().splitlines()
    assert len(lines) == 1 + 6 + 3  # genesis, then one checkpoint per append with the anchor
    assert all(json.loads(line)["store"] == store.store_id for line in lines)


def _url(stores: StoreFactory, store: AuditStore) -> str:
    return str(store._engine.url.render_as_string(hide_password=False))


def test_deleting_the_tail_and_resetting_the_head(stores: StoreFactory, key: str | None) -> None:
    store, anchor = _anchored(stores, key)
    rows = sorted(_rows(store, store._tables.record), key=lambda r: r["seq"])
    keep = rows[2]
    execute_sql(store, "DELETE FROM {record} WHERE seq > :s", s=keep["seq"])
    execute_sql(
        store,
        "UPDATE {head} SET last_seq = :s, last_hash = :h WHERE chain = :c",
        s=keep["seq"],
        h=keep["hash"],
        c=keep["chain"],
    )
    assert store.verify().ok  # self-consistent: the plain check cannot see it
    _caught(store, anchor, ProblemKind.MISSING, "records were deleted and the head reset")


def test_restoring_an_older_copy(stores: StoreFactory, key: str | None) -> None:
    store, anchor = _anchored(stores, key, count=3)
    tables = store._tables
    saved = {table: _rows(store, table) for table in (tables.record, tables.head, tables.meta)}
    _fill(store, 4, start=10)
    with store._engine.connect() as conn:  # put the old copy back, as a restore would
        for table in (tables.record, tables.head, tables.meta):
            conn.execute(table.delete())
            conn.execute(table.insert(), saved[table])
    assert store.verify().ok
    _caught(store, anchor, ProblemKind.MISSING, "an older copy of the store was restored")


def test_deleting_everything_and_resetting_to_genesis(
    stores: StoreFactory, key: str | None
) -> None:
    store, anchor = _anchored(stores, key)
    execute_sql(store, "DELETE FROM {record}")
    for chain in range(store.chains):
        execute_sql(
            store,
            "UPDATE {head} SET last_seq = 0, last_hash = :h WHERE chain = :c",
            h=store._key.genesis(store.store_id, chain),
            c=chain,
        )
    assert store.verify().ok
    _caught(store, anchor, ProblemKind.MISSING, "no such record")


def test_dropping_whole_chains_and_lowering_the_count(
    stores: StoreFactory, key: str | None
) -> None:
    store, anchor = _anchored(stores, key, count=2, chains=3)
    url = _url(stores, store)
    schema = {"schema": store._schema} if store._schema else {}
    for attempt in range(60):  # new handles start on another chain until chain 2 has records
        if any(row["chain"] == 2 for row in _rows(store, store._tables.record)):
            break
        handle = stores.open(url=url, key=key, anchor=anchor, **schema)
        _fill(handle, 1, start=1000 + attempt)
    assert any(row["chain"] == 2 for row in _rows(store, store._tables.record))
    execute_sql(store, "DELETE FROM {record} WHERE chain = 2")
    execute_sql(store, "DELETE FROM {head} WHERE chain = 2")
    execute_sql(store, "UPDATE {meta} SET value = '2' WHERE key = 'chains'")
    dropped = stores.open(url=url, key=key, **schema)
    assert dropped.verify().ok
    _caught(dropped, anchor, ProblemKind.ANCHOR, "chains were dropped")


def test_a_recomputed_chain(stores: StoreFactory) -> None:
    store, anchor = _anchored(stores, None)  # unkeyed: anyone can recompute the hashes
    rows = sorted(_rows(store, store._tables.record), key=lambda r: r["seq"])
    prev = store._key.genesis(store.store_id, rows[0]["chain"])
    for row in rows:
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
    execute_sql(
        store, "UPDATE {head} SET last_hash = :h WHERE chain = :c", h=prev, c=rows[0]["chain"]
    )
    assert store.verify().ok  # a forged, recomputed chain passes the unkeyed plain check
    _caught(store, anchor, ProblemKind.MODIFIED, "the chain was rewritten")


def _drop(store: AuditStore) -> None:
    tables = store._tables
    with store._engine.connect() as conn:
        for table in (tables.record, tables.head, tables.meta):
            conn.execute(sqlalchemy.text(f"DROP TABLE {table.fullname}"))


def test_dropping_the_store_is_not_silently_recreated(
    stores: StoreFactory, key: str | None
) -> None:
    store, anchor = _anchored(stores, key)
    url, schema = _url(stores, store), store._schema
    _drop(store)
    with pytest.raises(AuditUnavailable, match="the store was dropped"):
        AuditStore(url, key=key, anchor=anchor, schema=schema)
    # A store re-created without the anchor setting still fails against the anchor.
    recreated = stores.open(url=url, key=key, **({"schema": schema} if schema else {}))
    _fill(recreated, 6)
    assert recreated.verify().ok
    _caught(recreated, anchor, ProblemKind.ANCHOR, "dropped and re-created")


def test_check_record_refuses_a_dropped_store(tmp_path: Path) -> None:
    database, anchor = tmp_path / "audit.sqlite3", tmp_path / "anchor" / "heads.jsonl"
    env = {
        **os.environ,
        "GUARDRAILS_HOME": str(tmp_path),
        "GUARDRAILS_AUDIT_URL": f"sqlite:///{database}",
        "GUARDRAILS_AUDIT_ANCHOR": str(anchor),
    }
    command = [_CLI, "check", "--record", "SELECT 1"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    database.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0
    assert "dropped" in again.stdout + again.stderr
    assert not database.exists() or "store_id" not in database.read_bytes().decode("latin-1")
    verify = [_CLI, "audit", "verify", "--anchor", str(anchor)]
    checked = subprocess.run(verify, env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode != 0


def test_a_forged_checkpoint_fails_its_signature(stores: StoreFactory) -> None:
    store, anchor = _anchored(stores, KEYS["keyed"])
    last = json.loads(anchor.read_text().splitlines()[-1])
    last["heads"] = [[last["heads"][0][0], last["heads"][0][1] + 5, "0" * 64]]
    with anchor.open("a") as handle:
        handle.write(json.dumps(last) + "\n")
    _caught(store, anchor, ProblemKind.ANCHOR, "signature does not hold")


def test_verify_cli_with_anchor(stores: StoreFactory, key: str | None) -> None:
    from guardrails_core.audit.cli import main

    store, anchor = _anchored(stores, key)
    execute_sql(store, "DELETE FROM {record}")
    for chain in range(store.chains):
        execute_sql(
            store,
            "UPDATE {head} SET last_seq = 0, last_hash = :h WHERE chain = :c",
            h=store._key.genesis(store.store_id, chain),
            c=chain,
        )
    env_key = {"GUARDRAILS_AUDIT_KEY": key} if key else {}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env_key.items():
            patch.setenv(name, value)
        if store._schema:
            pytest.skip("the CLI opens stores by URL only")
        assert main(["audit", "verify", "--url", _url(stores, store)]) == 0
        assert main(["audit", "verify", "--url", _url(stores, store), "--anchor", str(anchor)]) == 1
