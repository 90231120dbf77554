"""The audit store on real databases (SQLite, PostgreSQL): record, link, query, count, verify."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from guardrails_core.audit import (
    AuditFilter,
    AuditStore,
    AuditUnavailable,
    Outcome,
    ProblemKind,
    RecordKind,
    RecordNotFound,
    TextForm,
    shared_store,
)
from guardrails_core.audit.schema import SCHEMA_VERSION
from guardrails_core.model import ActorKind, Context, Intent, Mode, Verdict, fingerprint_text
from guardrails_core.settings import Settings
from tests.audit_fixtures import (
    BACKENDS,
    StoreFactory,
    TickingClock,
    execute_sql,
    make_decision,
    store_factory,
)

# A fixed day for the clock-dependent tests: the last minutes of a UTC day, so a bucket computed
# from the wall clock instead of the records' own times would be caught.
LATE_EVENING = datetime(2026, 11, 24, 23, 59, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    with store_factory(request.param, tmp_path) as factory:
        yield factory


def test_record_is_durable_redacted_and_linked(stores: StoreFactory) -> None:
    store = stores.open()
    decision = make_decision("DELETE FROM orders WHERE customer = 'bob@example.com'")
    record_id = store.record(decision)

    record = store.get(record_id)
    assert record.kind is RecordKind.DECISION
    assert record.state is Outcome.PENDING
    assert record.decision is not None
    assert record.decision.command.text == "DELETE FROM orders WHERE customer = ?"
    assert record.decision.fingerprint == fingerprint_text(
        "DELETE FROM orders WHERE customer = 'bob@example.com'"
    )
    assert record.decision.decision_id == decision.decision_id
    assert record.text_form is TextForm.NORMALIZED
    assert record.subject.pipeline == "billing"

    outcome_id = store.record_outcome(
        record_id, Outcome.SUCCEEDED, detail="deleted 3 rows; PGPASSWORD=x"
    )
    outcome = store.get(outcome_id)
    assert outcome.kind is RecordKind.OUTCOME
    assert outcome.decision_record_id == record_id
    assert outcome.subject == record.subject
    assert outcome.detail == "deleted 3 rows; PGPASSWORD=***"
    assert [item.state for item in store.history(outcome_id)] == [
        Outcome.PENDING,
        Outcome.SUCCEEDED,
    ]
    assert store.verify().ok


def test_full_text_setting_keeps_literals(stores: StoreFactory) -> None:
    store = stores.open(full_text=True)
    record = store.get(store.record(make_decision("DELETE FROM t WHERE name = 'keep'")))
    assert (
        record.decision is not None
        and record.decision.command.text == "DELETE FROM t WHERE name = 'keep'"
    )
    assert record.text_form is TextForm.FULL


@pytest.mark.parametrize(
    ("verdict", "mode", "state"),
    [
        (Verdict.ALLOW, Mode.ENFORCE, Outcome.PENDING),
        (Verdict.DENY, Mode.ENFORCE, Outcome.BLOCKED),
        (Verdict.REVIEW, Mode.ENFORCE, Outcome.AWAITING_APPROVAL),
        (Verdict.DENY, Mode.AUDIT, Outcome.PENDING),
    ],
)
def test_initial_state_is_recorded(
    stores: StoreFactory, verdict: Verdict, mode: Mode, state: Outcome
) -> None:
    store = stores.open()
    assert store.get(store.record(make_decision(verdict=verdict, mode=mode))).state is state


def test_approval_then_result(stores: StoreFactory) -> None:
    store = stores.open()
    record_id = store.record(make_decision(verdict=Verdict.REVIEW))
    store.record_outcome(record_id, "approved", actor="alice")
    store.record_outcome(record_id, Outcome.FAILED, detail="relation does not exist")
    history = store.history(record_id)
    assert [(item.state, item.actor) for item in history] == [
        (Outcome.AWAITING_APPROVAL, None),
        (Outcome.APPROVED, "alice"),
        (Outcome.FAILED, None),
    ]


def test_outcome_errors(stores: StoreFactory) -> None:
    store = stores.open()
    record_id = store.record(make_decision())
    with pytest.raises(ValueError, match="initial state"):
        store.record_outcome(record_id, Outcome.PENDING)
    with pytest.raises(RecordNotFound):
        store.record_outcome("0" * 32, Outcome.SUCCEEDED)
    outcome_id = store.record_outcome(record_id, Outcome.SUCCEEDED)
    with pytest.raises(ValueError, match="outcome record"):
        store.record_outcome(outcome_id, Outcome.FAILED)


def test_context_argument_overrides_the_decisions(stores: StoreFactory) -> None:
    store = stores.open()
    record = store.get(store.record(make_decision(), context=Context(pipeline="other", task="t2")))
    assert (record.subject.pipeline, record.subject.task) == ("other", "t2")


def test_record_many_keeps_order_in_one_chain_run(stores: StoreFactory) -> None:
    store = stores.open()
    decisions = [
        make_decision(f"DELETE FROM t WHERE id = {i}", run_id=f"run-{i}") for i in range(5)
    ]
    ids = store.record_many(decisions)
    records = [store.get(record_id) for record_id in ids]
    assert [record.subject.run_id for record in records] == [f"run-{i}" for i in range(5)]
    assert len({record.chain for record in records}) == 1
    assert [record.seq for record in records] == list(range(records[0].seq, records[0].seq + 5))
    assert store.record_many([]) == []
    assert store.verify().ok


def _trail(store: AuditStore) -> dict[str, str]:
    """Five decisions of different shapes and one outcome; name -> record id."""
    ids = {
        "delete": store.record(make_decision(pipeline="billing", task="purge", run_id="r1")),
        "drop": store.record(
            make_decision(
                "DROP TABLE prod.orders",
                verdict=Verdict.DENY,
                intents=(Intent.SCHEMA_CHANGE,),
                rule_id="prod.no-drop",
                actor_kind=ActorKind.AI_AGENT,
                pipeline="agents",
                task="fix",
                run_id="r2",
                environment="staging",
            )
        ),
        "mass": store.record(
            make_decision(
                "UPDATE t SET a = 1",
                verdict=Verdict.REVIEW,
                intents=(Intent.WRITE, Intent.MASS_MUTATION),
                rule_id="review.mass",
                pipeline="billing",
                task="fix",
                run_id="r3",
            )
        ),
        "read": store.record(
            make_decision(
                "SELECT 1",
                intents=(Intent.READ,),
                rule_id="baseline.read",
                pipeline=None,
                task=None,
                run_id=None,
                actor_kind=ActorKind.HUMAN,
            )
        ),
    }
    ids["approval"] = store.record_outcome(ids["mass"], Outcome.APPROVED, actor="alice")
    return ids


SELECT_1 = "<the fingerprint of SELECT 1>"
FILTERS = [
    (AuditFilter(), {"delete", "drop", "mass", "read", "approval"}),
    (AuditFilter(kind=RecordKind.DECISION), {"delete", "drop", "mass", "read"}),
    (AuditFilter(kind=RecordKind.OUTCOME), {"approval"}),
    (AuditFilter(verdicts=(Verdict.DENY,)), {"drop"}),
    (AuditFilter(verdicts=(Verdict.DENY, Verdict.REVIEW)), {"drop", "mass", "approval"}),
    (AuditFilter(states=(Outcome.APPROVED,)), {"approval"}),
    (AuditFilter(states=(Outcome.BLOCKED, Outcome.AWAITING_APPROVAL)), {"drop", "mass"}),
    (AuditFilter(intents=(Intent.MASS_MUTATION,)), {"mass", "approval"}),
    (AuditFilter(intents=(Intent.READ, Intent.SCHEMA_CHANGE)), {"read", "drop"}),
    (AuditFilter(intents=(Intent.WRITE,), kind=RecordKind.DECISION), {"mass"}),
    (AuditFilter(rule="prod.no-drop"), {"drop"}),
    (AuditFilter(rule="prod"), set()),
    (AuditFilter(pipeline="billing"), {"delete", "mass", "approval"}),
    (AuditFilter(pipeline="billing", task="fix"), {"mass", "approval"}),
    (AuditFilter(run_id="r2"), {"drop"}),
    (AuditFilter(actor_kind=ActorKind.AI_AGENT), {"drop"}),
    (AuditFilter(actor_kind=ActorKind.HUMAN), {"read"}),
    (AuditFilter(environment="staging"), {"drop"}),
    (AuditFilter(fingerprint=SELECT_1), {"read"}),
]


@pytest.mark.parametrize(("filters", "expected"), FILTERS)
def test_query_filters(stores: StoreFactory, filters: AuditFilter, expected: set[str]) -> None:
    store = stores.open()
    ids = _trail(store)
    names = {record_id: name for name, record_id in ids.items()}
    if filters.fingerprint == SELECT_1:  # keyed: computed with the key the records were made with
        filters = filters.model_copy(update={"fingerprint": fingerprint_text("SELECT 1")})
    assert {names[record.record_id] for record in store.query(filters)} == expected


def test_query_by_ids_time_order_and_limit(stores: StoreFactory) -> None:
    clock = TickingClock(LATE_EVENING)
    store = stores.open(clock=clock)
    ids = _trail(store)
    drop = store.get(ids["drop"])
    assert [r.record_id for r in store.query(AuditFilter(decision_id=drop.decision_id))] == [
        ids["drop"]
    ]
    assert {r.record_id for r in store.query(AuditFilter(decision_record_id=ids["mass"]))} == {
        ids["mass"],
        ids["approval"],
    }
    everything = store.query()
    assert [r.recorded_at for r in everything] == sorted(r.recorded_at for r in everything)
    newest = store.query(AuditFilter(newest_first=True, limit=2))
    assert [r.record_id for r in newest] == [r.record_id for r in reversed(everything)][:2]
    now = clock.start
    assert len(store.query(AuditFilter(since=now - timedelta(minutes=5)))) == 5
    assert store.query(AuditFilter(since=now + timedelta(minutes=5))) == []
    assert store.query(AuditFilter(until=now - timedelta(minutes=5))) == []
    middle = everything[2].recorded_at
    assert {r.record_id for r in store.query(AuditFilter(until=middle))} == {
        r.record_id for r in everything[:2]
    }


def test_find_by_prefix_and_decision_id(stores: StoreFactory) -> None:
    store = stores.open()
    ids = _trail(store)
    assert store.find(ids["drop"][:10]).record_id == ids["drop"]
    assert store.find(store.get(ids["mass"]).decision_id).record_id == ids["mass"]
    with pytest.raises(RecordNotFound):
        store.find("zzzzzzzz")


def test_stats(stores: StoreFactory) -> None:
    store = stores.open(clock=lambda: LATE_EVENING)
    _trail(store)
    stats = store.stats()
    assert (stats.decisions, stats.outcomes) == (4, 1)
    assert stats.by_verdict == {"allow": 2, "deny": 1, "review": 1}
    assert stats.by_state == {"approved": 1, "awaiting_approval": 1, "blocked": 1, "pending": 2}
    assert stats.by_intent == {
        "delete": 1,
        "mass_mutation": 1,
        "read": 1,
        "schema_change": 1,
        "write": 1,
    }
    assert stats.by_rule["prod.no-drop"] == 1
    assert stats.by_pipeline == {"billing": 2, "-": 1, "agents": 1}
    assert stats.by_actor_kind == {"service": 2, "ai_agent": 1, "human": 1}
    assert stats.timeline == {"2026-11-24T00:00:00Z": {"allow": 2, "deny": 1, "review": 1}}
    assert store.stats(AuditFilter(pipeline="billing"), bucket="hour").decisions == 2


def test_reopen_keeps_store_identity_and_chain(stores: StoreFactory) -> None:
    options = stores.options()
    first = stores.open(**options)
    first.record(make_decision())
    second = stores.open(**options)
    assert (second.store_id, second.chains, second.schema_version) == (
        first.store_id,
        first.chains,
        SCHEMA_VERSION,
    )
    second.record(make_decision())
    first.record(make_decision())  # its cached head is stale: falls back to the locked path
    assert first.verify().ok
    assert len(first.query()) == 3


def test_newer_schema_is_refused(stores: StoreFactory) -> None:
    options = stores.options()
    store = stores.open(**options)
    execute_sql(store, "UPDATE {meta} SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(AuditUnavailable, match="schema version 99"):
        stores.open(**options)


def test_keyed_store(stores: StoreFactory) -> None:
    options = stores.options()
    store = stores.open(**options, key="k1")
    store.record(make_decision())
    assert store.keyed and store.verify().ok and store.verify().keyed

    no_key = stores.open(**options)
    with pytest.raises(AuditUnavailable, match="GUARDRAILS_AUDIT_KEY is not set"):
        no_key.record(make_decision())
    result = no_key.verify()
    assert not result.ok and result.problems[0].kind is ProblemKind.KEY

    wrong_key = stores.open(**options, key="k2")
    with pytest.raises(AuditUnavailable, match="is not the key"):
        wrong_key.record(make_decision())
    assert not wrong_key.verify().ok


def test_key_on_an_unkeyed_store_is_refused(stores: StoreFactory) -> None:
    options = stores.options()
    stores.open(**options).record(make_decision())
    keyed = stores.open(**options, key="late")
    with pytest.raises(AuditUnavailable, match="created without a key"):
        keyed.record(make_decision())


def test_threads_share_one_store(stores: StoreFactory) -> None:
    store = stores.open()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(25):
                store.record(make_decision(f"DELETE FROM t WHERE id = {i}", run_id=f"{worker}-{i}"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = store.verify()
    assert result.ok and result.records == 100


def test_open_from_settings_and_shared_store(tmp_path: Path) -> None:
    settings = Settings.load(
        {"GUARDRAILS_HOME": str(tmp_path / "home"), "GUARDRAILS_AUDIT_FULL_TEXT": "true"}
    )
    with AuditStore.open(settings) as store:
        assert (tmp_path / "home" / "audit.sqlite3").exists()
        record = store.get(store.record(make_decision("DELETE FROM t WHERE a = 'x'")))
        assert record.text_form is TextForm.FULL
    assert shared_store(settings) is shared_store(settings)
    shared_store(settings).close()


def test_in_memory_sqlite_for_unit_tests() -> None:
    with AuditStore("sqlite://") as store:
        store.record(make_decision())
        assert store.verify().ok


def test_retry_after_a_lost_reply_does_not_write_twice(
    stores: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server committed, then the connection broke before the reply: the retry finds the
    record by its id instead of appending it a second time."""
    store = stores.open()
    store.record(make_decision())  # warm: the next append takes the one-statement path
    statement = store._link.fast_append
    dbapi = store._engine.dialect.loaded_dbapi
    original = statement.run

    def commit_then_drop(conn: object, values: dict[str, object]) -> int:
        original(conn, values)  # type: ignore[arg-type]
        monkeypatch.setattr(statement, "run", original)
        raise dbapi.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(statement, "run", commit_then_drop)
    monkeypatch.setattr(store, "_is_disconnect", lambda error, conn: True)
    record_id = store.record(make_decision("DELETE FROM t WHERE id = 7"))
    assert [r.record_id for r in store.query()].count(record_id) == 1
    assert store.verify().ok


def test_schema_upgrades_run_once_under_the_store_lock(
    stores: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guardrails_core.audit.schema as schema_module

    options = stores.options()
    stores.open(**options).record(make_decision())
    upgrades: list[int] = []
    monkeypatch.setattr(schema_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(
        schema_module.MIGRATIONS, SCHEMA_VERSION + 1, lambda conn, tables: upgrades.append(1)
    )
    with pytest.raises(AuditUnavailable, match="needs an upgrade"):
        stores.open(**options, create=False)
    upgraded = stores.open(**options)
    assert upgraded.schema_version == SCHEMA_VERSION + 1
    stores.open(**options)
    assert upgrades == [1]
    upgraded.record(make_decision())
    assert upgraded.verify().ok


def test_a_worker_recording_into_a_sqlite_store_never_imports_sqlalchemy(tmp_path: Path) -> None:
    """A fresh task process judges, records and appends the outcome through plain sqlite3 once
    the store exists: SQLAlchemy (hundreds of ms of import) stays out of the worker."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    AuditStore(url).close()  # created (through SQLAlchemy) by an earlier process
    worker = (
        "import sys\n"
        "from guardrails_core.guard import Guard\n"
        "from guardrails_core.settings import Settings\n"
        f"guard = Guard(settings=Settings.load({{'GUARDRAILS_AUDIT_URL': {url!r}}}))\n"
        "result = guard.check('UPDATE orders SET total = 1 WHERE id = 7', dialect='sqlite')\n"
        "assert result.proceed and result.record_id, result.decision\n"
        "guard.finish(result, 'succeeded')\n"
        "assert guard.flush()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'sqlalchemy'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", worker], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    with AuditStore(url, create=False) as store:
        [decision] = store.query(AuditFilter(kind=RecordKind.DECISION))
        assert [r.state for r in store.history(decision.record_id)][-1] is Outcome.SUCCEEDED
        assert store.verify().ok
