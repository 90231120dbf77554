"""Proof that a change to the analyzer changed no decision: every decision on every table, saved
and compared.

    python benchmarks/same_decisions.py --write before.json   # on the commit before the change
    python benchmarks/same_decisions.py --compare before.json # after: lists every difference

The inputs are the red-team tables, the SQL and shell catalogues, the benign corpora
(tests/benign/), the red-team findings of tests/core/test_redteam.py, the benchmark corpus and
its scripts and deep inputs. Each is checked with no cache, and the whole decision is kept
(verdict, intents, every statement's operation, objects and findings, reasons) except what
differs on every call (decision id and time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analyzer import deep_inputs  # noqa: E402
from corpus import corpus, script  # noqa: E402

from guardrails_core import Actor, Context, check  # noqa: E402

_Input = tuple[str, str, str | None, str, str]  # label, kind, dialect, actor, text


def inputs() -> Iterator[_Input]:
    from tests.redteam.cases import CASES_DIR, CATALOGUE_DIR, load_cases

    benign = ROOT / "tests" / "benign"
    files = [
        *sorted(CASES_DIR.glob("*.yaml")),
        *sorted(CATALOGUE_DIR.glob("*.yaml")),
        *sorted(benign.glob("*.yaml")),
    ]
    for path in files:
        for case in load_cases([path]):
            yield f"{path.name}:{case.id}", case.kind, case.dialect, case.actor, case.text
    from tests.core.test_redteam import FINDINGS

    for param in FINDINGS:
        dialect, sql, _, _ = param.values  # type: ignore[attr-defined]
        yield f"finding:{param.id}", "sql", dialect, "service", sql  # type: ignore[attr-defined]
    for index, (dialect, sql) in enumerate(corpus(2400)):
        yield f"corpus:{index}", "sql", dialect, "service", sql
    yield "script:64k", "sql", "postgres", "service", script(64 * 1024)
    for label, sql, dialect in deep_inputs():
        yield f"deep:{label}", "sql", dialect, "service", sql


def decision_of(kind: str, dialect: str | None, actor: str, text: str) -> dict[str, Any]:
    decision = check(
        text,
        kind=kind,
        dialect=dialect,
        context=Context(actor=Actor(kind=actor)),
        analysis_cache=None,
        decision_cache=None,
        max_input_bytes=max(len(text) * 4, 1_000_000),
    )
    found = decision.to_dict()
    found.pop("decision_id")
    found.pop("decided_at")
    return found


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # sqlglot names missing arguments in set order in its parse errors: one hash seed for
        # both runs keeps those messages comparable.
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--write", type=Path, help="save every decision to this file")
    side.add_argument("--compare", type=Path, help="compare every decision with this file")
    args = parser.parse_args()
    now = {
        label: decision_of(kind, dialect, actor, text)
        for label, kind, dialect, actor, text in inputs()
    }
    if args.write:
        args.write.write_text(json.dumps(now, sort_keys=True), encoding="utf-8")
        print(f"{len(now)} decisions written to {args.write}")
        return 0
    before: dict[str, Any] = json.loads(args.compare.read_text(encoding="utf-8"))
    changed = [label for label in now if label in before and before[label] != now[label]]
    added = [label for label in now if label not in before]
    removed = [label for label in before if label not in now]
    for label in changed:
        was, now_is = before[label], now[label]
        print(f"CHANGED {label}: {was['decision']} {was['intents']} -> ")
        print(f"        {now_is['decision']} {now_is['intents']}")
    print(
        f"{len(now)} decisions: {len(now) - len(changed) - len(added)} identical, "
        f"{len(changed)} changed, {len(added)} new, {len(removed)} gone"
    )
    return 1 if changed or removed else 0


if __name__ == "__main__":
    sys.exit(main())
