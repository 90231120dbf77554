"""The `access-guardrails` command, run in-process and as a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from guardrails_core.cli import main
from guardrails_core.schema import decision_json_schema, published_decision_schema


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["check", "SELECT 1"], 0),
        (["check", "DROP TABLE orders"], 1),
        (["check", "CALL refresh()"], 3),
        (["check", "CALL refresh()", "--context", "approved_by=ann"], 0),
        (["check", "DROP TABLE orders", "--mode", "audit"], 0),
        (["check", "rm -rf /data", "--kind", "shell"], 1),
        (["check", "SELECT 1", "--dialect", "nope"], 2),
        (["check", "SELECT 1", "--context", "enviroment=prod"], 2),
        (["check", "SELECT 1", "--context", "no-equals-sign"], 2),
        (["check", "SELECT 1", "--policy", "/does/not/exist.yaml"], 2),
    ],
)
def test_exit_codes(argv: list[str], code: int) -> None:
    assert run(*argv)[0] == code


def test_json_output_has_the_documented_keys() -> None:
    code, output = run(
        "check", "DELETE FROM t; SELECT 1", "--format", "json", "--dialect", "postgres"
    )
    assert code == 1
    decision = json.loads(output)
    for key in ("decision", "intents", "statements", "reasons", "fingerprint"):
        assert key in decision
    assert decision["decision"] == "deny"
    assert decision["intents"] == ["read", "delete", "mass_mutation"]
    first = decision["statements"][0]
    assert {"index", "text", "operation", "intents", "objects"} <= set(first)
    assert first["text"] == "DELETE FROM t"
    assert first["objects"][0] == {
        "kind": "table",
        "action": "delete",
        "name": "t",
        "schema": None,
        "catalog": None,
        "column": None,
        "qualified": "t",
    }
    assert decision["reasons"][0]["statement_index"] == 0
    assert decision["fingerprint"].startswith("hmac-sha256:")


def test_text_output_highlights_the_offending_statement() -> None:
    _, output = run("check", "SELECT 1;\nDROP TABLE orders;\nSELECT 2", "--dialect", "postgres")
    lines = output.splitlines()
    assert lines[0].startswith("DENY baseline.drop")
    marked = lines.index("    DROP TABLE orders;")
    assert lines[marked + 1] == "    " + "^" * len("DROP TABLE orders")


def test_stdin_and_context() -> None:
    code, output = run(
        "check",
        "-",
        "--format",
        "json",
        "--context",
        "actor=ai_agent",
        "--context",
        "environment=prod",
        "--context",
        "tags=etl,pii",
        stdin="SELECT 1",
    )
    assert code == 0
    context = json.loads(output)["context"]
    assert context["actor"]["kind"] == "ai_agent"
    assert context["environment"] == "prod"
    assert context["tags"] == ["etl", "pii"]
    assert context["orchestrator"] == "cli"


def test_batch_keeps_order_and_reports_bad_lines_in_place(tmp_path: Path) -> None:
    lines = [
        {"text": "SELECT 1", "kind": "sql", "dialect": "postgres"},
        {"text": "DROP TABLE x", "kind": "sql", "dialect": "mysql"},
        "not json",
        {"text": "rm -rf /", "kind": "shell"},
        {"text": "CALL p()", "context": {"actor": "ai_agent", "approved_by": "ann"}},
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    code, output = run("check", "--batch", str(path))
    results = [json.loads(line) for line in output.splitlines()]
    assert [r.get("decision") for r in results] == ["allow", "deny", None, "deny", "allow"]
    assert results[2] == {"line": 3, "error": results[2]["error"]}
    assert results[4]["context"]["actor"]["kind"] == "ai_agent"
    assert code == 2  # a bad line makes the batch a usage error


def test_batch_from_stdin_exit_code_is_the_worst_verdict() -> None:
    stdin = "\n".join(json.dumps({"text": text}) for text in ["SELECT 1", "CALL p()"])
    code, output = run("check", "--batch", "-", stdin=stdin)
    assert code == 3 and len(output.splitlines()) == 2


def test_policy_validate_reports_each_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("rules: [{id: a, decision: allow}]\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: a\n    decision: allow\n    match: {objects: ['a..b']}\n")
    code, output = run("policy", "validate", str(good), str(bad))
    assert code == 2
    assert f"ok: {good}" in output
    assert f"{bad}:4 rules[0].match.objects[0]: 'a..b' is not a valid table pattern" in output


def test_policy_explain_names_the_deciding_rule() -> None:
    code, output = run("policy", "explain", "TRUNCATE orders", "-v")
    assert code == 1
    assert "MATCH baseline.truncate (baseline) -> deny" in output
    assert "skip baseline.unparseable: intents delete, mass_mutation not in unparseable" in output


def test_the_baseline_passes_its_own_examples() -> None:
    code, output = run("policy", "test")
    assert code == 0, output


def test_published_schema_matches_the_model() -> None:
    assert published_decision_schema() == decision_json_schema(), (
        "regenerate core/schemas/decision.v1.json with `access-guardrails schema`"
    )


def test_published_policy_schema_matches_the_file_format() -> None:
    from guardrails_core.schema import policy_json_schema, published_policy_schema

    assert published_policy_schema() == policy_json_schema(), (
        "regenerate core/schemas/policy.v1.json with `access-guardrails schema --policy`"
    )
    code, output = run("schema", "--policy")
    assert code == 0 and "rules" in json.loads(output)["properties"]


def test_every_policy_file_in_the_repository_validates_against_the_policy_schema() -> None:
    import jsonschema
    import yaml

    from guardrails_core.schema import policy_json_schema

    root = Path(__file__).resolve().parents[2]
    candidates = [
        root / "core" / "policy" / "baseline.yaml",
        *root.glob("dags_examples/*.yaml"),
        *root.glob("tests/**/*.yaml"),
    ]
    # Policies are mappings with rules; other YAML in tests (case tables, corpora) is data.
    loaded = {path: yaml.safe_load(path.read_text()) for path in candidates}
    policies = {p: data for p, data in loaded.items() if isinstance(data, dict) and "rules" in data}
    assert len(policies) >= 3
    validator = jsonschema.Draft202012Validator(policy_json_schema())
    for path, data in policies.items():
        errors = [error.message for error in validator.iter_errors(data)]
        assert errors == [], (path, errors)
    # ...and it still rejects what the loader rejects.
    assert list(validator.iter_errors({"rules": [{"id": "a", "decision": "block"}]}))


def test_installed_console_script() -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("access-guardrails")), "check", "TRUNCATE t"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout.startswith("DENY baseline.truncate")
