"""Many writers at once, and writers killed with SIGKILL mid-append: every acknowledged decision is
kept, no record is partial, and the chain verifies."""

from __future__ import annotations

import multiprocessing
import os
import random
import select
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guardrails_core.audit import AuditFilter, AuditStore, Outcome, RecordKind
from tests.audit_fixtures import BACKENDS, StoreFactory, make_decision, store_factory

FORK = multiprocessing.get_context("fork")
WRITERS = 8
PER_WRITER = 500
KILL_ROUNDS = 50


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    with store_factory(request.param, tmp_path) as factory:
        yield factory


def _write(options: dict[str, Any], writer: int, count: int) -> None:
    store = AuditStore(**options)
    for index in range(count):
        store.record(
            make_decision(f"DELETE FROM t WHERE id = {index}", run_id=f"w{writer}-{index}")
        )
    store.close()


def _run(target: Any, args_per_process: list[tuple[Any, ...]], timeout: float = 120) -> None:
    processes = [FORK.Process(target=target, args=args) for args in args_per_process]
    for process in processes:
        process.start()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.1, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_concurrent_writers_lose_nothing(stores: StoreFactory) -> None:
    options = stores.options()
    AuditStore(**options).close()
    _run(_write, [(options, writer, PER_WRITER) for writer in range(WRITERS)])

    store = stores.open(**options)
    result = store.verify()
    assert result.ok, result.summary()
    assert result.records == WRITERS * PER_WRITER
    run_ids = {
        record.subject.run_id
        for record in store.iter_records(AuditFilter(kind=RecordKind.DECISION))
    }
    assert run_ids == {f"w{w}-{i}" for w in range(WRITERS) for i in range(PER_WRITER)}


def _open_and_record(options: dict[str, Any], queue: Any) -> None:
    store = AuditStore(**options)
    store.record(make_decision())
    queue.put(store.store_id)
    store.close()


def test_concurrent_first_open_creates_one_store(stores: StoreFactory) -> None:
    options = stores.options()
    queue = FORK.Queue()
    _run(_open_and_record, [(options, queue)] * 6)
    store_ids = {queue.get(timeout=10) for _ in range(6)}
    assert len(store_ids) == 1
    result = stores.open(**options).verify()
    assert result.ok and result.records == 6


def _append_until_killed(options: dict[str, Any], ack_fd: int, seed: int) -> None:
    """Append forever in random shapes; report each id once its append returned (= acknowledged)."""
    rng = random.Random(seed)
    store = AuditStore(**options)
    last: str | None = None
    index = 0
    while True:
        index += 1
        shape = rng.random()
        if shape < 0.6 or last is None:
            ids = [
                store.record(
                    make_decision(f"DELETE FROM t WHERE id = {index}", run_id=f"{seed}-{index}")
                )
            ]
        elif shape < 0.85:
            batch = [
                make_decision(f"DELETE FROM t WHERE id = {index}", run_id=f"{seed}-{index}-{i}")
                for i in range(5)
            ]
            ids = store.record_many(batch)
        else:
            ids = [store.record_outcome(last, Outcome.SUCCEEDED, detail=f"round {seed}")]
        last = ids[0] if shape < 0.85 else last
        os.write(
            ack_fd, "".join(f"{record_id}\n" for record_id in ids).encode()
        )  # atomic: < PIPE_BUF


def _read_acks(fd: int, *, until_one: bool = False, timeout: float = 10.0) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            if until_one and data:
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:  # every writer is gone
            break
        data += chunk
        if until_one:
            break
    return data.decode()


def test_writers_killed_mid_append_leave_a_sound_chain(stores: StoreFactory) -> None:
    options = stores.options()
    store = stores.open(**options)
    rng = random.Random(20240601)
    acknowledged: set[str] = set()
    for round_number in range(KILL_ROUNDS):
        read_fd, write_fd = os.pipe()
        writers = [
            FORK.Process(
                target=_append_until_killed, args=(options, write_fd, round_number * 10 + w)
            )
            for w in range(2)
        ]
        for writer in writers:
            writer.start()
        os.close(write_fd)
        acks = _read_acks(read_fd, until_one=True)  # they are appending now
        time.sleep(rng.uniform(0, 0.02))
        for writer in rng.sample(writers, len(writers)):
            os.kill(writer.pid or 0, signal.SIGKILL)
            time.sleep(rng.uniform(0, 0.003))
        for writer in writers:
            writer.join(10)
            assert writer.exitcode == -signal.SIGKILL
        acks += _read_acks(read_fd)
        os.close(read_fd)
        acknowledged.update(line for line in acks.splitlines() if line)

        result = store.verify()
        assert result.ok, f"round {round_number}: {result.summary()}"
    present = {record.record_id for record in store.iter_records()}
    assert acknowledged, "the writers never got to append"
    assert acknowledged <= present, (
        f"{len(acknowledged - present)} acknowledged records are missing"
    )
