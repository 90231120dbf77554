"""The guard seam: every decision is recorded before the command runs, or the command is denied."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from guardrails_core import Context, Verdict, check
from guardrails_core.audit import AuditFilter, AuditStore, Outcome, RecordKind
from guardrails_core.guard import ApprovalRequired, CommandBlocked, Guard, GuardResult
from guardrails_core.settings import Settings, SettingsError


def settings_for(url: str, **extra: str) -> Settings:
    return Settings.load({"GUARDRAILS_AUDIT_URL": url, **extra})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.sqlite3'}"


def test_allowed_command_is_recorded_before_it_runs_and_its_outcome_after(sqlite_url: str) -> None:
    guard = Guard(settings=settings_for(sqlite_url))
    ran: list[str] = []
    with guard.guarded(
        "INSERT INTO t VALUES (1)", dialect="sqlite", context=Context(pipeline="etl", task="load")
    ) as result:
        # The decision is already durable while the command runs.
        with AuditStore(sqlite_url, create=False) as reader:
            records = reader.query(AuditFilter(decision_id=result.decision.decision_id))
            assert [r.state for r in records] == [Outcome.PENDING]
        ran.append("executed")
    assert ran == ["executed"]
    with AuditStore(sqlite_url, create=False) as reader:
        history = reader.history(result.record_id or "")
        assert [r.state for r in history] == [Outcome.PENDING, Outcome.SUCCEEDED]
        assert reader.verify().ok


def test_failure_inside_the_block_is_recorded_as_failed(sqlite_url: str) -> None:
    guard = Guard(settings=settings_for(sqlite_url))
    with pytest.raises(RuntimeError), guard.guarded("SELECT 1") as result:
        raise RuntimeError("database went away")
    with AuditStore(sqlite_url, create=False) as reader:
        last = reader.history(result.record_id or "")[-1]
        assert last.state is Outcome.FAILED


def test_denied_command_never_runs_and_is_recorded_as_blocked(sqlite_url: str) -> None:
    guard = Guard(settings=settings_for(sqlite_url))
    ran = []
    with pytest.raises(CommandBlocked) as caught, guard.guarded("DROP TABLE orders"):
        ran.append("executed")
    assert ran == []
    assert "baseline.drop" in str(caught.value) and "DROP TABLE orders" in str(caught.value)
    with AuditStore(sqlite_url, create=False) as reader:
        assert reader.get(caught.value.record_id or "").state is Outcome.BLOCKED


def test_review_raises_approval_required(sqlite_url: str) -> None:
    guard = Guard(settings=settings_for(sqlite_url))
    with pytest.raises(ApprovalRequired) as caught:
        guard.enforce("CALL refresh_marts()")
    assert caught.value.decision.decision is Verdict.REVIEW
    with AuditStore(sqlite_url, create=False) as reader:
        assert reader.get(caught.value.record_id or "").state is Outcome.AWAITING_APPROVAL


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test",  # nothing listens on port 1
        "sqlite:////proc/not-a-directory/audit.sqlite3",
    ],
)
def test_unreachable_store_denies_and_nothing_executes(url: str) -> None:
    guard = Guard(settings=settings_for(url))
    ran = []
    with pytest.raises(CommandBlocked) as caught, guard.guarded("SELECT 1"):
        ran.append("executed")
    assert ran == []
    decision = caught.value.decision
    assert decision.decision is Verdict.DENY
    assert decision.reasons[0].rule_id == "audit:unavailable"
    assert "could not be recorded" in str(caught.value)


def test_read_only_sqlite_store_denies(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions; the audit tests cover chattr +i instead")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    guard = Guard(settings=settings_for(f"sqlite:///{folder / 'audit.sqlite3'}"))
    assert guard.check("SELECT 1").decision.decision is Verdict.DENY


def test_audit_on_failure_lets_commands_run_unrecorded_when_chosen() -> None:
    guard = Guard(
        settings=settings_for(
            "postgresql+psycopg://postgres@127.0.0.1:1/test", GUARDRAILS_AUDIT_ON_FAILURE="audit"
        )
    )
    result = guard.check("SELECT 1")
    assert result.proceed and result.record_id is None
    assert result.decision.reasons[-1].rule_id == "audit:unavailable"
    # ...but what the policy blocks stays blocked.
    assert not guard.check("DROP TABLE t").proceed


def test_cli_record_writes_the_trail(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from guardrails_core.cli import main

    monkeypatch.setenv("GUARDRAILS_AUDIT_URL", sqlite_url)
    assert main(["check", "DROP TABLE t", "--record"], out=io.StringIO()) == 1
    with AuditStore(sqlite_url, create=False) as reader:
        (record,) = reader.query(AuditFilter())
        assert record.state is Outcome.BLOCKED
    monkeypatch.setenv("GUARDRAILS_AUDIT_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    assert main(["check", "SELECT 1", "--record"], out=io.StringIO()) == 1


def test_queued_outcomes_are_written_in_batches_and_flushed(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = Guard(settings=settings_for(sqlite_url))
    results = [guard.check(f"SELECT {n}") for n in range(50)]
    store = guard._open_store()
    batches: list[int] = []
    write = store.record_outcomes

    def counting(items):  # type: ignore[no-untyped-def]
        items = list(items)
        batches.append(len(items))
        return write(items)

    monkeypatch.setattr(store, "record_outcomes", counting)
    for result in results:
        guard.finish(result, "succeeded", wait=False)
    assert guard.flush(timeout=10)
    assert sum(batches) == 50 and len(batches) < 10  # a few commits, not one per statement
    with AuditStore(sqlite_url, create=False) as reader:
        outcomes = reader.query(AuditFilter(kind=RecordKind.OUTCOME))
        assert {record.decision_record_id for record in outcomes} == {
            result.record_id for result in results
        }
        assert reader.verify().ok


def test_a_queued_outcome_for_an_unknown_record_is_dropped_with_a_warning(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    guard = Guard(settings=settings_for(sqlite_url))
    real = guard.check("SELECT 1")
    fake = GuardResult(real.decision, "0" * 32)
    guard.finish(fake, "succeeded", wait=False)
    assert guard.flush(timeout=10)
    assert "could not record" in caplog.text


def test_cache_size_setting_sizes_the_process_caches() -> None:
    from guardrails_core.check import DEFAULT_DECISIONS, configure_caches
    from guardrails_core.intent import DEFAULT_CACHE

    try:
        Guard(settings=Settings(cache_size=2), record=False)
        assert (DEFAULT_CACHE.max_entries, DEFAULT_DECISIONS.max_entries) == (2, 2)
        for number in range(5):
            check(f"SELECT {number}")
        assert (len(DEFAULT_CACHE), len(DEFAULT_DECISIONS)) == (2, 2)
    finally:
        configure_caches(Settings().cache_size)


def test_cache_size_comes_from_the_environment() -> None:
    assert Settings.load({"GUARDRAILS_CACHE_SIZE": "0"}).cache_size == 0
    with pytest.raises(SettingsError, match="GUARDRAILS_CACHE_SIZE"):
        Settings.load({"GUARDRAILS_CACHE_SIZE": "-1"})
