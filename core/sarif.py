"""SARIF 2.1.0 for the CI gate: one run, one result per blocked statement, for code-scanning
uploads (GitHub's `github/codeql-action/upload-sarif`). Each rule carries its documentation
(`access-guardrails rules ID`) as help text."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrails_core.model import Verdict
from guardrails_core.version import PACKAGE_VERSION

if TYPE_CHECKING:
    from guardrails_core.gate import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Verdict.DENY: "error", Verdict.REVIEW: "warning", Verdict.ALLOW: "note"}


def _uri(path: str) -> str:
    """A relative URI from the working directory where possible (what code scanning expects)."""
    from urllib.parse import quote

    location = Path(path)
    with contextlib.suppress(ValueError, OSError):
        location = location.resolve().relative_to(Path.cwd().resolve())
    return quote(location.as_posix())


def _rule(rule_id: str, verdict: Verdict) -> dict[str, Any]:
    from guardrails_core.rule_docs import doc_for

    doc = doc_for(rule_id)
    return {
        "id": rule_id,
        "name": rule_id.replace(".", "/").replace(":", "/"),
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": doc.catches},
        "help": {"text": doc.text(), "markdown": doc.markdown()},
        "defaultConfiguration": {"level": _LEVEL[verdict]},
    }


def sarif_log(findings: list[Finding]) -> dict[str, Any]:
    rules: dict[str, int] = {}
    descriptors: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for finding in findings:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = len(descriptors)
            descriptors.append(_rule(finding.rule_id, finding.verdict))
        results.append(
            {
                "ruleId": finding.rule_id,
                "ruleIndex": rules[finding.rule_id],
                "level": _LEVEL[finding.verdict],
                "message": {"text": f"{finding.verdict.value.upper()}: {finding.message}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(finding.path)},
                            "region": {
                                "startLine": finding.line,
                                "startColumn": finding.column,
                                **(
                                    {"snippet": {"text": finding.statement}}
                                    if finding.statement
                                    else {}
                                ),
                            },
                        }
                    }
                ],
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "access-guardrails",
                        "version": PACKAGE_VERSION,
                        "informationUri": "https://pypi.org/project/access-guardrails/",
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


__all__ = ["SARIF_SCHEMA", "sarif_log"]
