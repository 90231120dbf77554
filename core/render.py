"""Human-readable renderings of a Decision: the CLI's text output, task-log blocks, error messages.

One place, secrets masked, so the CLI, the Airflow task log and the Prefect failure message say
the same thing.
"""

from __future__ import annotations

from guardrails_core.audit.secrets import mask_secrets
from guardrails_core.model import Decision, Mode, Reason, StatementEffect, Verdict

_LABELS = {Verdict.ALLOW: "ALLOW", Verdict.REVIEW: "REVIEW", Verdict.DENY: "DENY"}
_COLOURS = {Verdict.ALLOW: "\033[32m", Verdict.REVIEW: "\033[33m", Verdict.DENY: "\033[31m"}
_RESET, _BOLD, _HIGHLIGHT = "\033[0m", "\033[1m", "\033[1;4;31m"


def headline(decision: Decision) -> str:
    """`DENY baseline.drop: DROP destroys a table ... (statement 2)`."""
    reason = decision.deciding_reason
    label = _LABELS[decision.decision]
    if reason is None:
        return label
    where = (
        f" (statement {reason.statement_index + 1})"
        if (reason.statement_index is not None and len(decision.statements) > 1)
        else ""
    )
    audit = (
        " [audit mode: not enforced]"
        if decision.mode is Mode.AUDIT and (decision.decision is not Verdict.ALLOW)
        else ""
    )
    return mask_secrets(f"{label} {reason.rule_id}: {reason.message}{where}{audit}")


def render_text(decision: Decision, *, colour: bool = False, verbose: bool = False) -> str:
    """The full text report: verdict, deciding rule, the statement with its span highlighted."""
    lines = [_paint(headline(decision), _COLOURS[decision.decision] + _BOLD, colour)]
    shown: set[int] = set()
    for reason in decision.reasons:
        if reason.decision is Verdict.ALLOW and not verbose:
            continue
        if reason is not decision.deciding_reason:
            lines.append(
                f"  also {_LABELS[reason.decision]} {reason.rule_id}: {reason.message}"
                + _where(reason, decision)
            )
        index = reason.statement_index
        if index is not None and index not in shown and index < len(decision.statements):
            shown.add(index)
            lines.extend(_statement_block(decision, decision.statements[index], colour))
    if decision.decision is Verdict.ALLOW:
        for statement in decision.statements if verbose else ():
            if statement.index not in shown:
                lines.extend(_statement_block(decision, statement, colour))
    lines.append(f"  intents: {', '.join(i.value for i in decision.intents) or 'none'}")
    objects = decision.objects
    if objects:
        lines.append(
            "  objects: "
            + "; ".join(str(ref) for ref in objects[:12])
            + (f"; ... {len(objects) - 12} more" if len(objects) > 12 else "")
        )
    for estimate in decision.impact:
        took = f" in {estimate.elapsed_ms:.1f} ms" if estimate.elapsed_ms else ""
        lines.append(
            f"  impact (statement {estimate.statement_index + 1}): {estimate.describe()}{took}"
        )
    for reversal in decision.reversals:
        lines.append(
            f"  way back (statement {reversal.statement_index + 1}): {reversal.kind.value} of "
            f"{reversal.table} at {reversal.location} until "
            f"{reversal.expires_at:%Y-%m-%d %H:%M} UTC (access-guardrails undo "
            f"{decision.decision_id})"
        )
    lines.append(
        f"  policy: {decision.policy.id} ({decision.policy.sha256[:12]})"
        f"  mode: {decision.mode.value}  fingerprint: {decision.fingerprint[:23]}..."
    )
    hint = next_step(decision)
    if hint:
        lines.append(f"  next: {hint}")
    if decision.deciding_reason is not None:
        lines.append(f"  rule: {rule_page(decision.deciding_reason.rule_id)}")
    return mask_secrets("\n".join(lines))


def rule_page(rule_id: str) -> str:
    """Where a rule is explained: its `access-guardrails rules ID` page (scopes share one)."""
    return f"access-guardrails rules {'scope' if rule_id.startswith('scope:') else rule_id}"


def _where(reason: Reason, decision: Decision) -> str:
    if reason.statement_index is None or len(decision.statements) <= 1:
        return ""
    return f" (statement {reason.statement_index + 1})"


def _statement_block(decision: Decision, statement: StatementEffect, colour: bool) -> list[str]:
    """The statement, shown in the line(s) of the command it sits in, with its span marked."""
    text = decision.command.text
    start, end = statement.span
    dialect = f", {statement.dialect}" if statement.dialect else ""
    header = (
        f"  statement {statement.index + 1} of {len(decision.statements)} "
        f"({statement.operation}{dialect}):"
    )
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    excerpt_lines = text[line_start:line_end].split("\n")
    block = [header]
    if len(excerpt_lines) > 6:
        excerpt_lines = [*excerpt_lines[:5], f"... ({len(excerpt_lines) - 5} more lines)"]
    offset = line_start
    for line in excerpt_lines:
        line_from, line_to = offset, offset + len(line)
        offset = line_to + 1
        mark_from, mark_to = max(start, line_from), min(end, line_to)
        shown = line if len(line) <= 160 else line[:157] + "..."
        if colour and mark_from < mark_to:
            a, b = mark_from - line_from, mark_to - line_from
            block.append("    " + shown[:a] + _HIGHLIGHT + shown[a:b] + _RESET + shown[b:])
            continue
        block.append("    " + shown)
        if (
            mark_from < mark_to
            and len(excerpt_lines) > 0
            and (len(decision.statements) > 1 or mark_to - mark_from < len(line.strip()))
        ):
            block.append(
                "    " + " " * (mark_from - line_from) + "^" * min(mark_to - mark_from, 160)
            )
    for finding in statement.findings[:6]:
        block.append(f"      - {finding.intent.value}: {finding.message}")
    for inner in statement.embedded[:6]:
        block.append(
            f"      > {inner.operation}: {mask_secrets(inner.text)[:100]!s}"
            f" [{', '.join(i.value for i in inner.intents)}]"
        )
    return block


def next_step(decision: Decision) -> str | None:
    """What a person can do to get this command through, or None when it is allowed."""
    if decision.decision is Verdict.ALLOW:
        return None
    reason = decision.deciding_reason
    rule = reason.rule_id if reason else "the deciding rule"
    if decision.mode is Mode.AUDIT:
        return "audit mode records this and lets it run; switch the policy to enforce to block it"
    if decision.decision is Verdict.REVIEW:
        return (
            f"ask an approver to approve fingerprint {decision.fingerprint} (the approval "
            "is bound to this exact command; a changed command needs a new approval)"
        )
    if rule.startswith("scope:"):
        return "widen the step's data scope in the policy, or touch only objects inside it"
    if reason is not None and reason.unmet:
        return "provide: " + "; ".join(reason.unmet)
    return (
        f"if this is intended, add a rule before {rule} in your policy that allows it "
        "(`access-guardrails policy explain` shows how each rule matched), or fix the step"
    )


def block_message(decision: Decision) -> str:
    """The one-paragraph message a blocked task fails with."""
    reason = decision.deciding_reason
    statement = None
    if (
        reason is not None
        and reason.statement_index is not None
        and (reason.statement_index < len(decision.statements))
    ):
        statement = decision.statements[reason.statement_index]
    verb = "blocked" if decision.decision is Verdict.DENY else "needs approval"
    parts = [f"access-guardrails {verb}: {headline(decision)}"]
    if statement is not None:
        text = " ".join(mask_secrets(statement.text).split())
        parts.append(f"statement: {text[:300]}{'...' if len(text) > 300 else ''}")
    hint = next_step(decision)
    if hint:
        parts.append(f"to proceed: {hint}")
    if reason is not None:
        parts.append(f"rule: {rule_page(reason.rule_id)}")
    parts.append(f"decision id: {decision.decision_id}")
    return mask_secrets("\n".join(parts))


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{_RESET}" if colour else text
