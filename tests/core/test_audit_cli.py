"""`access-guardrails audit ...`: list, show, verify, export, stats, run in-process."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guardrails_core.audit import AuditStore, Outcome
from guardrails_core.audit.cli import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    main,
    parse_when,
    register,
    run,
)
from guardrails_core.model import ActorKind, Intent, Verdict
from tests.audit_fixtures import execute_sql, make_decision


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A store named by GUARDRAILS_AUDIT_URL, with three decisions and two outcomes."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    monkeypatch.setenv("GUARDRAILS_AUDIT_URL", url)
    with AuditStore(url) as store:
        ids = {
            "delete": store.record(make_decision("DELETE FROM orders WHERE id = 42")),
            "drop": store.record(
                make_decision(
                    "DROP TABLE prod.orders",
                    verdict=Verdict.DENY,
                    intents=(Intent.SCHEMA_CHANGE,),
                    rule_id="prod.no-drop",
                    actor_kind=ActorKind.AI_AGENT,
                    pipeline="agents",
                )
            ),
            "mass": store.record(
                make_decision(
                    "UPDATE t SET a = 1",
                    verdict=Verdict.REVIEW,
                    intents=(Intent.MASS_MUTATION,),
                    rule_id="review.mass",
                )
            ),
        }
        ids["done"] = store.record_outcome(ids["delete"], Outcome.SUCCEEDED, detail="1 row")
        ids["approved"] = store.record_outcome(ids["mass"], Outcome.APPROVED, actor="alice")
    ids["url"] = url
    return ids


def audit(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="access-guardrails")
    register(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    code = run(parser.parse_args(["audit", *argv]), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_list_newest_first(trail: dict[str, str]) -> None:
    code, out, _ = audit("list")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["RECORDED", "(UTC)", "RECORD"]
    assert len(lines) == 6
    assert trail["approved"][:12] in lines[1] and "approved" in lines[1] and "by alice" in lines[1]
    assert "DELETE FROM orders WHERE id = ?" in lines[-1]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--verdict", "deny"], {"drop"}),
        (["--verdict", "deny", "--verdict", "review"], {"drop", "mass", "approved"}),
        (["--intent", "mass_mutation"], {"mass", "approved"}),
        (["--rule", "prod.no-drop"], {"drop"}),
        (["--pipeline", "agents"], {"drop"}),
        (["--actor-kind", "ai_agent"], {"drop"}),
        (["--state", "succeeded"], {"done"}),
        (["--kind", "outcome"], {"done", "approved"}),
        (["--since", "1h"], {"delete", "drop", "mass", "done", "approved"}),
        (["--until", "2000-01-01"], set()),
    ],
)
def test_list_filters(trail: dict[str, str], argv: list[str], expected: set[str]) -> None:
    code, out, _ = audit("list", "--json", *argv)
    assert code == EXIT_OK
    names = {record_id: name for name, record_id in trail.items()}
    assert {names[json.loads(line)["record_id"]] for line in out.splitlines()} == expected


def test_show_by_prefix(trail: dict[str, str]) -> None:
    code, out, _ = audit("show", trail["mass"][:8])
    assert code == EXIT_OK
    assert "awaiting_approval -> approved" in out
    assert "review.mass" in out and "UPDATE t SET a = ?" in out
    assert "approved by alice" in out
    code, out, _ = audit("show", trail["approved"], "--json")
    assert [item["state"] for item in json.loads(out)] == ["awaiting_approval", "approved"]


def test_show_unknown(trail: dict[str, str]) -> None:
    code, _, err = audit("show", "ffffffff")
    assert code == EXIT_PROBLEM and "no audit record" in err


def test_verify(trail: dict[str, str]) -> None:
    code, out, _ = audit("verify")
    assert code == EXIT_OK and "ok: 5 records" in out
    with AuditStore(trail["url"]) as store:
        execute_sql(
            store,
            "UPDATE {record} SET pipeline = 'elsewhere' WHERE record_id = :id",
            id=trail["drop"],
        )
    code, out, _ = audit("verify")
    assert code == EXIT_PROBLEM
    assert "FAILED" in out and trail["drop"] in out and "'pipeline'" in out
    code, out, _ = audit("verify", "--json")
    assert json.loads(out)["problems"][0]["record_id"] == trail["drop"]


def test_export_jsonl_and_csv(trail: dict[str, str]) -> None:
    code, out, _ = audit("export", "--format", "jsonl", "--kind", "decision")
    assert code == EXIT_OK
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["record_id"] for r in records] == [trail["delete"], trail["drop"], trail["mass"]]
    assert records[0]["decision"]["command"]["text"] == "DELETE FROM orders WHERE id = ?"
    code, out, _ = audit("export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5
    assert rows[1]["state"] == "blocked" and rows[1]["rules"] == "prod.no-drop"
    assert rows[-1]["outcome_actor"] == "alice"


def test_export_to_file(trail: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, _, _ = audit("export", "--output", str(target))
    assert code == EXIT_OK and len(target.read_text().splitlines()) == 5


def test_export_openlineage(trail: dict[str, str]) -> None:
    code, out, _ = audit("export", "--format", "openlineage")
    assert code == EXIT_OK
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["eventType"] for e in events] == ["START", "ABORT", "OTHER", "COMPLETE", "OTHER"]
    start, done = events[0], events[3]
    assert start["run"]["runId"] == done["run"]["runId"]  # one run per decision
    facet = start["run"]["facets"]["guardrails"]
    assert facet["recordId"] == trail["delete"] and facet["verdict"] == "allow"
    assert facet["decision"]["command"]["text"] == "DELETE FROM orders WHERE id = ?"
    assert start["outputs"] == [{"namespace": "postgres", "name": "public.orders", "facets": {}}]
    assert start["job"] == {"namespace": "access-guardrails", "name": "billing.purge", "facets": {}}

    event_v2 = pytest.importorskip("openlineage.client.event_v2")
    for event in events:  # the OpenLineage client accepts every event
        event_v2.RunEvent(
            eventType=event_v2.RunState(event["eventType"]),
            eventTime=event["eventTime"],
            run=event_v2.Run(runId=event["run"]["runId"]),
            job=event_v2.Job(namespace=event["job"]["namespace"], name=event["job"]["name"]),
            producer=event["producer"],
        )


def test_stats(trail: dict[str, str]) -> None:
    code, out, _ = audit("stats", "--json")
    stats = json.loads(out)
    assert (stats["decisions"], stats["outcomes"]) == (3, 2)
    assert stats["by_verdict"] == {"allow": 1, "deny": 1, "review": 1}
    code, out, _ = audit("stats", "--bucket", "hour")
    assert code == EXIT_OK and "by deciding rule:" in out and "per hour" in out


def test_store_unavailable(tmp_path: Path) -> None:
    code, _, err = audit("list", "--url", f"sqlite:///{tmp_path / 'missing.sqlite3'}")
    assert code == EXIT_UNAVAILABLE and "no audit store exists there yet" in err
    assert not (tmp_path / "missing.sqlite3").exists()  # reading never creates a store


def test_bad_time(trail: dict[str, str]) -> None:
    code, _, err = audit("list", "--since", "yesterday")
    assert code == EXIT_USAGE and "--since 'yesterday'" in err


def test_main_needs_a_command() -> None:
    assert main(["audit"]) == EXIT_USAGE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-31", datetime(2025, 1, 31, tzinfo=UTC)),
        ("2025-01-31T12:30Z", datetime(2025, 1, 31, 12, 30, tzinfo=UTC)),
        ("2025-01-31T12:30+02:00", datetime(2025, 1, 31, 10, 30, tzinfo=UTC)),
        ("90m", datetime(2025, 6, 1, 10, 30, tzinfo=UTC)),
        ("2d", datetime(2025, 5, 30, 12, tzinfo=UTC)),
        ("1w", datetime(2025, 5, 25, 12, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, now=datetime(2025, 6, 1, 12, tzinfo=UTC)) == expected
    assert parse_when(text).tzinfo is not None
