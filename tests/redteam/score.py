"""Score the analyzer and the built-in baseline on the red-team tables.

    .venv/bin/python -m tests.redteam.score              # summary per file, then every miss
    .venv/bin/python -m tests.redteam.score --json out.json
    .venv/bin/python -m tests.redteam.score tests/redteam/cases/tsql.yaml

A row passes when the verdict is what it expects (`block` accepts deny or review) and the
decision names every intent the row lists. Unsafe rows measure what is caught; benign rows
(expect: allow) measure false positives.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from guardrails_core import Actor, Context, check
from guardrails_core.cli import context_from_mapping
from guardrails_core.intent import analyze
from guardrails_core.model import ObjectRef, fingerprint_text
from guardrails_core.policy import Policy, baseline_policy
from guardrails_core.policy.packs import with_packs
from tests.redteam.cases import Case, load_cases


def judge(case: Case) -> dict[str, Any]:
    context = Context(actor=Actor(kind=case.actor))
    if case.context:
        values = {**dict(case.context), "actor": case.actor}
        context = context_from_mapping(values, fingerprint=fingerprint_text(case.text))
    policy = _with_packs(case.packs) if case.packs else None
    try:
        decision = check(
            case.text, kind=case.kind, dialect=case.dialect, context=context, policy=policy
        )
    except Exception as error:  # a crash is scored as a miss, never as a pass
        return {"verdict": "crash", "intents": [], "rule": type(error).__name__, "ok": False}
    verdict = str(decision.decision)
    intents = sorted(str(intent) for intent in decision.intents)
    objects = sorted(describe_object(ref) for ref in decision.objects)
    named = set(case.intents) == set(intents) if case.exact else set(case.intents) <= set(intents)
    ok = case.accepts(verdict) and named
    if case.objects is not None:
        ok = ok and sorted(case.objects) == objects
    if case.operation is not None:
        statements = analyze(case.text, kind=case.kind, dialect=case.dialect, cache=None).statements
        ok = ok and bool(statements) and statements[-1].operation == case.operation
    rule = decision.reasons[0].rule_id if decision.reasons else ""
    return {"verdict": verdict, "intents": intents, "objects": objects, "rule": rule, "ok": ok}


@cache
def _with_packs(packs: tuple[str, ...]) -> Policy:
    return with_packs(baseline_policy(), list(packs))


def describe_object(ref: ObjectRef) -> str:
    """How catalogue rows write an object: "action kind qualified-name"."""
    return f"{ref.action.value} {ref.kind.value} {ref.qualified}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--json", type=Path, help="write every row's result here")
    args = parser.parse_args(argv)
    cases = load_cases(args.files or None)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    results = []
    for case in cases:
        result = judge(case)
        results.append({"id": case.id, "source": case.source, "expect": case.expect, **result})
        group = totals[case.source]
        side = "unsafe" if case.unsafe else "benign"
        group[side] += 1
        group[f"{side}_ok"] += int(result["ok"])
    print(f"{'file':<22} {'unsafe caught':>16} {'benign allowed':>16}")
    overall: dict[str, int] = defaultdict(int)
    for source, group in sorted(totals.items()):
        for key, value in group.items():
            overall[key] += value
        print(
            f"{source:<22} {group['unsafe_ok']:>7}/{group['unsafe']:<8} "
            f"{group['benign_ok']:>7}/{group['benign']:<8}"
        )
    print(
        f"{'TOTAL':<22} {overall['unsafe_ok']:>7}/{overall['unsafe']:<8} "
        f"{overall['benign_ok']:>7}/{overall['benign']:<8}"
    )
    paired = zip(cases, results, strict=True)
    misses = [(case, result) for case, result in paired if not result["ok"]]
    for case, result in misses:
        print(
            f"MISS {case.id} [{case.source}, {case.family or '-'}] expect {case.expect}"
            f"{' +' + ','.join(case.intents) if case.intents else ''}: "
            f"got {result['verdict']} {','.join(result['intents'])} ({result['rule']})"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
