"""A page per built-in rule: what it catches, examples, how to allow it (`access-guardrails rules
[ID]`). Texts are data (policy/rule_docs.yaml); examples come from the rules themselves."""

from __future__ import annotations

import argparse
import difflib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, TextIO

import yaml

DOCS_COMMAND = "access-guardrails rules"


@dataclass(frozen=True)
class RuleDoc:
    id: str
    summary: str
    catches: str
    allow: str
    decision: str | None = None
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"{self.id}" + (f" ({self.decision})" if self.decision else "")]
        lines += ["", f"  {self.summary}", "", "What it catches:", f"  {self.catches}"]
        for verdict, texts in self.examples.items():
            if texts:
                lines += ["", f"Examples ({verdict}):", *(f"  {text}" for text in texts)]
        lines += ["", "How to allow it:", f"  {self.allow}"]
        return "\n".join(lines)

    def markdown(self) -> str:
        parts = [f"**{self.id}**: {self.summary}", "", self.catches]
        for verdict, texts in self.examples.items():
            if texts:
                parts += ["", f"Examples ({verdict}):", "", *(f"    {text}" for text in texts)]
        parts += ["", f"How to allow it: {self.allow}"]
        return "\n".join(parts)


def _examples(spec: Any) -> dict[str, tuple[str, ...]]:
    return {
        verdict: tuple(example.text for example in getattr(spec.examples, verdict))
        for verdict in ("deny", "review", "allow")
    }


@cache
def rule_docs() -> dict[str, RuleDoc]:
    """Every built-in rule id (baseline, dbt pack, and the rules outside policies) -> its page."""
    from guardrails_core.policy import baseline_policy
    from guardrails_core.policy.packs import pack_policy

    texts = yaml.safe_load(
        resources.files("guardrails_core.policy").joinpath("rule_docs.yaml").read_text("utf-8")
    )
    rules = {rule.id: rule for rule in (*baseline_policy().rules, *pack_policy("dbt").rules)}
    docs: dict[str, RuleDoc] = {}
    for rule_id, entry in texts.items():
        rule = rules.get(rule_id)
        examples = (
            _examples(rule.spec)
            if rule is not None
            else {verdict: tuple(items) for verdict, items in entry.get("examples", {}).items()}
        )
        summary = (rule.spec.message or "") if rule is not None else entry["catches"]
        docs[rule_id] = RuleDoc(
            id=rule_id,
            summary=summary.split(". ")[0],
            catches=entry["catches"],
            allow=entry["allow"],
            decision=rule.decision.value if rule is not None else None,
            examples=examples,
        )
    return docs


def doc_for(rule_id: str) -> RuleDoc:
    """The page of `rule_id`; for a rule of a user's policy, a page pointing at that policy."""
    docs = rule_docs()
    found = docs.get(rule_id) or docs.get(rule_id.partition(":")[0])
    if found is not None:
        return found
    return RuleDoc(
        id=rule_id,
        summary=f"rule {rule_id} of your policy",
        catches=f"See rule {rule_id!r} in your policy file (`access-guardrails policy explain`).",
        allow=f"Change rule {rule_id!r}, or add a rule before it that allows the command.",
    )


def cmd_rules(args: argparse.Namespace, settings: Any, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.cli_commands import UsageError

    docs = rule_docs()
    if args.rule_id is None:
        width = max(len(rule_id) for rule_id in docs)
        for rule_id, doc in docs.items():
            out.write(f"{rule_id:<{width}}  {doc.decision or '-':<6}  {doc.summary}\n")
        out.write(f"\n{DOCS_COMMAND} ID shows what a rule catches and how to allow it\n")
        return 0
    key = args.rule_id if args.rule_id in docs else args.rule_id.partition(":")[0]
    if key not in docs:
        close = difflib.get_close_matches(args.rule_id, list(docs), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"no built-in rule {args.rule_id!r}{hint}; `{DOCS_COMMAND}` lists them")
    out.write(docs[key].text() + "\n")
    return 0


__all__ = ["RuleDoc", "cmd_rules", "doc_for", "rule_docs"]
