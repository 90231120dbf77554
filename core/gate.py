"""`access-guardrails gate PATH...`: judge every statement of SQL and shell files in one process.

Each blocked statement is reported with its file, line and column and the deciding reason, as
text, JSON, SARIF 2.1.0 (code scanning) or GitHub workflow annotations. Folders are searched for
`*.sql` (dbt's `target/compiled` included) and shell scripts (`*.sh`, `*.bash`); a file is judged
as shell when its extension says so, else as SQL. An unreadable file is a failure, never a pass
(fail closed).
"""

from __future__ import annotations

import glob
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from guardrails_core.check import check
from guardrails_core.model import CommandKind, Context, Decision, Mode, Verdict
from guardrails_core.policy import Policy
from guardrails_core.render import rule_page

UNREADABLE_RULE = "gate:unreadable"


@dataclass(frozen=True)
class Finding:
    """One statement that the policy does not allow, located in its file."""

    path: str
    line: int
    column: int
    verdict: Verdict
    rule_id: str
    message: str
    statement: str

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "verdict": self.verdict.value,
            "rule": self.rule_id,
            "message": self.message,
            "statement": self.statement,
        }


SHELL_SUFFIXES = frozenset({".sh", ".bash"})
_SEARCHED = frozenset({".sql"}) | SHELL_SUFFIXES


def kind_of(path: str) -> CommandKind:
    """Shell for `*.sh` and `*.bash`, SQL for anything else."""
    return CommandKind.SHELL if Path(path).suffix.lower() in SHELL_SUFFIXES else CommandKind.SQL


def sql_files(paths: Iterable[str]) -> Iterator[Path]:
    """The files named, the files a glob names, and the SQL and shell files under the folders
    named, in a stable order. A name that matches nothing is kept (it fails as unreadable)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(
                found
                for found in path.rglob("*")
                if found.suffix.lower() in _SEARCHED and found.is_file()
            )
        elif any(char in raw for char in "*?[") and not path.exists():
            matched = sorted(Path(found) for found in glob.glob(raw, recursive=True))
            yield from (found for found in matched if found.is_file()) if matched else (path,)
        else:
            yield path


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def _first_token(text: str, start: int) -> int:
    while start < len(text) and text[start].isspace():
        start += 1
    return start


def gate_file(
    path: Path, *, policy: Policy, dialect: str | None, context: Context
) -> tuple[Decision | None, list[Finding]]:
    """The decision on one file and its blocked statements (an unreadable file is one finding)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [unreadable(str(path), error)]
    return gate_text(str(path), text, policy=policy, dialect=dialect, context=context)


def unreadable(name: str, error: Exception) -> Finding:
    why = f"cannot read the file, so it is not allowed (fail closed): {error}"
    return Finding(name, 1, 1, Verdict.DENY, UNREADABLE_RULE, why, "")


def gate_text(
    path: str, text: str, *, policy: Policy, dialect: str | None, context: Context
) -> tuple[Decision, list[Finding]]:
    """The decision on the text of file `path` (read elsewhere, e.g. stdin) and its blocks."""
    decision = check(
        text,
        kind=kind_of(path),
        dialect=dialect,
        policy=policy,
        context=context,
        mode=Mode.ENFORCE,
    )
    findings: list[Finding] = []
    for reason in decision.reasons:
        if reason.decision is Verdict.ALLOW:
            continue
        offset, statement = 0, ""
        if reason.statement_index is not None and reason.statement_index < len(decision.statements):
            effect = decision.statements[reason.statement_index]
            offset, statement = _first_token(text, effect.span[0]), effect.text
        line, column = _position(text, offset)
        findings.append(
            Finding(path, line, column, reason.decision, reason.rule_id, reason.message, statement)
        )
    return decision, findings


def render(findings: list[Finding], files: int, output: str) -> str:
    if output == "sarif":
        from guardrails_core.sarif import sarif_log

        return json.dumps(sarif_log(findings), indent=2)
    if output == "json":
        return json.dumps(
            {"files": files, "blocked": [finding.to_dict() for finding in findings]}, indent=2
        )
    lines = []
    for finding in findings:
        if output == "github":
            level = "error" if finding.verdict is Verdict.DENY else "warning"
            message = (
                f"{finding.verdict.value} by {finding.rule_id}: {finding.message} "
                f"(see `{rule_page(finding.rule_id)}`)"
            )
            message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            lines.append(
                f"::{level} file={finding.path},line={finding.line},col={finding.column},"
                f"title=access-guardrails {finding.rule_id}::{message}"
            )
        else:
            lines.append(
                f"{finding.path}:{finding.line}:{finding.column}: {finding.verdict.value.upper()} "
                f"{finding.rule_id}: {finding.message}"
            )
    lines.append(f"{files} file{'s' * (files != 1)} checked, {len(findings)} blocked statements")
    if findings and output == "text":
        lines.append("what a rule catches and how to allow it: access-guardrails rules RULE")
    return "\n".join(lines)


__all__ = ["Finding", "gate_file", "gate_text", "kind_of", "render", "sql_files", "unreadable"]
