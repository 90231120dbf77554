"""`check()` without a policy judges as the CLI does: with the policy and mode the settings name
(GUARDRAILS_POLICY, GUARDRAILS_MODE, the config file), else the built-in baseline."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails_core import Verdict, check
from guardrails_core.check import configure_fingerprints
from guardrails_core.cli import main
from guardrails_core.model import current_fingerprint_key

POLICY = """\
version: 1
id: no-audit-reads
rules:
  - id: audit-tables-are-private
    match:
      objects: ["audit_*"]
    decision: deny
    message: the audit tables are read by auditors only
"""
READ = "SELECT * FROM audit_log"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """cli.main keys the process's fingerprints from its settings: the key is put back after."""
    monkeypatch.setenv("GUARDRAILS_HOME", str(tmp_path / "home"))
    previous = current_fingerprint_key()
    yield
    if previous is not None:
        configure_fingerprints(previous)


def cli_decision(*argv: str) -> dict[str, object]:
    out = io.StringIO()
    main(["check", *argv, "--format", "json"], out=out, stdin=io.StringIO())
    decision: dict[str, object] = json.loads(out.getvalue())
    return decision


def write_policy(tmp_path: Path, text: str = POLICY) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


@pytest.mark.usefixtures("cli")
def test_check_and_the_cli_judge_with_the_policy_of_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check(READ).decision is Verdict.ALLOW  # the baseline: a read is fine
    monkeypatch.setenv("GUARDRAILS_POLICY", str(write_policy(tmp_path)))
    decision = check(READ)
    assert decision.decision is Verdict.DENY
    assert decision.reasons[0].rule_id == "audit-tables-are-private"
    assert cli_decision(READ)["decision"] == "deny"

    monkeypatch.setenv("GUARDRAILS_MODE", "audit")
    assert not check(READ).enforced
    assert check(READ).mode.value == "audit" == cli_decision(READ)["mode"]


@pytest.mark.usefixtures("cli")
def test_the_config_file_names_the_policy_and_an_edited_policy_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = write_policy(tmp_path)
    config = tmp_path / "guardrails.yaml"
    config.write_text(f"policy: {policy}\n")
    monkeypatch.setenv("GUARDRAILS_CONFIG", str(config))
    assert check(READ).decision is Verdict.DENY
    write_policy(tmp_path, POLICY.replace("decision: deny", "decision: review  # now"))
    assert check(READ).decision is Verdict.REVIEW
    assert cli_decision(READ)["decision"] == "review"


def test_a_broken_policy_named_by_the_settings_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARDRAILS_POLICY", str(tmp_path / "missing.yaml"))
    with pytest.raises(ValueError, match=r"missing\.yaml"):
        check(READ)
