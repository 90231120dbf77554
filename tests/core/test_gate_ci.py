"""The CI gate beyond files: stdin, shell scripts, globs, SARIF, configuration discovery, rule
pages, the pre-commit hook, and a --help that imports nothing heavy."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from guardrails_core.cli import build_parser, main
from guardrails_core.policy import baseline_policy
from guardrails_core.policy.packs import pack_policy
from guardrails_core.rule_docs import rule_docs

REPO = Path(__file__).resolve().parents[2]


def _run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out, stdin=io.StringIO(stdin)), out.getvalue()


def test_stdin_is_judged_as_the_named_file() -> None:
    sql = "select 1;\n\n   delete from orders;\n"
    code, text = _run("gate", "-", "--stdin-filename", "migrations/003.sql", stdin=sql)
    assert code == 1
    assert text.startswith("migrations/003.sql:3:4: DENY baseline.mass-mutation")
    code, text = _run("check", "-", "--stdin-filename", "x.sql", "--format", "json", stdin=sql)
    assert code == 1 and json.loads(text)["blocked"][0]["line"] == 3
    # By extension, stdin can be a shell script.
    code, text = _run("check", "-", "--stdin-filename", "deploy.sh", stdin="ls\nrm -rf /\n")
    assert code == 1 and text.startswith("deploy.sh:2:1: DENY")


def test_shell_scripts_and_globs(tmp_path: Path) -> None:
    (tmp_path / "ok.sql").write_text("select 1;\n")
    (tmp_path / "clean.sh").write_text("#!/bin/sh\necho hello\n")
    (tmp_path / "notes.txt").write_text("DROP TABLE orders;\n")  # not searched in folders
    code, text = _run("gate", str(tmp_path))
    assert (code, text.splitlines()[-1]) == (0, "2 files checked, 0 blocked statements")
    (tmp_path / "wipe.sh").write_text("#!/bin/sh\necho start\nrm -rf /var/lib/data\n")
    code, text = _run("gate", str(tmp_path / "*.sh"), "--format", "json")
    report = json.loads(text)
    assert code == 1 and report["files"] == 2
    assert [(b["path"], b["line"]) for b in report["blocked"]] == [(str(tmp_path / "wipe.sh"), 3)]


# The parts of SARIF 2.1.0 (OASIS, sarif-schema-2.1.0.json) that code scanning reads: a minimal
# schema, since the official one is not available offline here.
SARIF_SHAPE = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "help"],
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "ruleIndex", "level", "message", "locations"],
                            "properties": {
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {"type": "object", "required": ["text"]},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine", "startColumn"],
                                                        "properties": {
                                                            "startLine": {"minimum": 1},
                                                            "startColumn": {"minimum": 1},
                                                        },
                                                    }
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "a b.sql").write_text("select 1;\nTRUNCATE orders;\nDROP TABLE t;\n")
    (tmp_path / "sql" / "c.sql").write_text("\n  TRUNCATE events;\n")
    code, text = _run("gate", "sql", "--format", "sarif")
    log = json.loads(text)
    jsonschema.validate(log, SARIF_SHAPE)
    [run] = log["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert code == 1 and rules == ["baseline.truncate", "baseline.drop"]
    located = [
        (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            result["locations"][0]["physicalLocation"]["region"]["startColumn"],
            rules[result["ruleIndex"]],
            result["level"],
        )
        for result in run["results"]
    ]
    assert located == [
        ("sql/a%20b.sql", 2, 1, "baseline.truncate", "error"),
        ("sql/a%20b.sql", 3, 1, "baseline.drop", "error"),
        ("sql/c.sql", 2, 3, "baseline.truncate", "error"),
    ]
    assert "How to allow it" in run["tool"]["driver"]["rules"][0]["help"]["text"]


def test_the_policy_is_found_from_the_working_directory_upward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUARDRAILS_POLICY", raising=False)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "policy.yaml").write_text(
        "version: 1\nrules:\n  - id: staging-reloads\n"
        "    match: {operations: ['TRUNCATE*'], objects: ['staging.*']}\n    decision: allow\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.access-guardrails]\npolicy = "ci/policy.yaml"\n'
        'dialect = "postgres"\n'
    )
    deep = tmp_path / "models" / "marts"
    deep.mkdir(parents=True)
    (deep / "reload.sql").write_text("TRUNCATE staging.orders;\n")
    monkeypatch.chdir(deep)
    assert _run("gate", "reload.sql")[0] == 0  # allowed by the discovered policy
    assert _run("gate", "reload.sql", "--policy", str(REPO / "core/policy/baseline.yaml"))[0] == 1
    # A policy file beside the work wins over a pyproject.toml further up.
    (deep / "access-guardrails.yaml").write_text("version: 1\n")
    assert _run("gate", "reload.sql")[0] == 1
    (deep / "access-guardrails.yaml").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.access-guardrails]\npolicies = "x.yaml"\n')
    code, _ = _run("gate", "reload.sql")
    assert code == 2


def test_rule_pages(capsys: pytest.CaptureFixture[str]) -> None:
    built_in = {rule.id for rule in (*baseline_policy().rules, *pack_policy("dbt").rules)}
    assert built_in <= set(rule_docs())
    code, text = _run("rules")
    assert code == 0 and "baseline.drop" in text and "dbt.relation-swap" in text
    code, text = _run("rules", "baseline.drop")
    assert code == 0
    assert "DROP TABLE orders" in text and "How to allow it:" in text
    assert _run("rules", "baseline.dorp")[0] == 2
    assert "did you mean 'baseline.drop'" in capsys.readouterr().err
    # Every decision links to the page of the rule that decided it.
    code, text = _run("check", "DROP TABLE orders")
    assert code == 1 and "rule: access-guardrails rules baseline.drop" in text


def test_pre_commit_hook_runs_the_gate_on_the_files_it_is_given(tmp_path: Path) -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert set(hook["types_or"]) == {"sql", "shell"}
    program, *entry = shlex.split(hook["entry"])
    assert program == "access-guardrails"
    (tmp_path / "good.sql").write_text("select 1;\n")
    (tmp_path / "bad.sql").write_text("DELETE FROM orders;\n")
    assert _run(*entry, str(tmp_path / "good.sql"))[0] == 0
    assert _run(*entry, str(tmp_path / "good.sql"), str(tmp_path / "bad.sql"))[0] == 1


def test_help_and_version_import_nothing_heavy() -> None:
    probe = (
        "import sys\nfrom guardrails_core.cli import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "heavy = ('sqlglot', 'pydantic', 'yaml', 'sqlalchemy')\n"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"
    # The stubs --help shows say what the full commands say.
    assert build_parser("").format_help() == build_parser().format_help()


@pytest.mark.parametrize("name", ["access-guardrails", "sqlglot", "pydantic", "dbt-core"])
def test_versions_read_from_dist_info_names_match_the_metadata(name: str) -> None:
    from importlib.metadata import version

    from guardrails_core.version import _installed_version

    assert _installed_version(name) == version(name)
