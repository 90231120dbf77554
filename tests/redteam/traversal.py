"""The path and URL traversal table (traversal.yaml): load it, build its symlink folder, score it.

    .venv/bin/python -m tests.redteam.traversal        # per class, then every miss

A row passes when the verdict is what it expects (`block` accepts deny or review) and, when the
row names a rule, that rule decided.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from guardrails_core import check
from guardrails_core.policy import parse_policy

TABLE = Path(__file__).parent / "traversal.yaml"


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    kind: str
    dialect: str | None
    expect: str
    rule: str | None
    family: str
    baseline: bool


def load(tmp: Path) -> tuple[str, list[Row]]:
    """The table's policy text and rows, with `{tmp}` replaced by `tmp`."""
    data: dict[str, Any] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    rows = [
        Row(
            id=row["id"],
            text=row["text"].replace("{tmp}", str(tmp)),
            kind=row.get("kind", "sql"),
            dialect=row.get("dialect", "postgres") if row.get("kind", "sql") == "sql" else None,
            expect=row["expect"],
            rule=row.get("rule"),
            family=row.get("class", ""),
            baseline=bool(row.get("baseline", False)),
        )
        for row in data["cases"]
    ]
    return data["policy"].replace("{tmp}", str(tmp)), rows


def build_links(tmp: Path) -> None:
    exports = tmp / "exports"
    (exports / "sub").mkdir(parents=True, exist_ok=True)
    (tmp / "outside").mkdir(exist_ok=True)
    links = {
        "inner": exports / "sub",
        "etc": Path("/etc"),
        "out": tmp / "outside",
        "dangling": Path("/etc/guardrails-test-nonexistent"),
    }
    for name, target in links.items():
        link = exports / name
        if not link.is_symlink():
            link.symlink_to(target)


def judge(row: Row, policy_text: str) -> dict[str, Any]:
    policy = None if row.baseline else parse_policy(policy_text, source="traversal.yaml")
    try:
        decision = check(
            row.text,
            kind=row.kind,
            dialect=row.dialect,
            policy=policy,
            local_paths=True,
            analysis_cache=None,
            decision_cache=None,
        )
    except Exception as error:  # a crash is a miss, never a pass
        return {"verdict": "crash", "rule": repr(error), "ok": False}
    verdict = decision.decision.value
    rule = decision.reasons[0].rule_id if decision.reasons else ""
    accepted = verdict in {"deny", "review"} if row.expect == "block" else verdict == row.expect
    return {"verdict": verdict, "rule": rule, "ok": accepted and row.rule in (None, rule)}


def score(tmp: Path) -> tuple[dict[str, list[int]], list[str]]:
    """Per class [passed, total] and a line per miss."""
    build_links(tmp)
    policy_text, rows = load(tmp)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for row in rows:
        result = judge(row, policy_text)
        side = "benign" if row.expect == "allow" else "unsafe"
        for key in (side, f"{side}:{row.family}"):
            totals[key][0] += int(result["ok"])
            totals[key][1] += 1
        if not result["ok"]:
            wanted = row.expect + (f" by {row.rule}" if row.rule else "")
            shown = row.text.replace(str(tmp), "{tmp}")
            misses.append(
                f"MISS {row.id} [{row.family}] expect {wanted}: got {result['verdict']} "
                f"({result['rule']}) for {shown!r}"
            )
    return dict(totals), misses


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        totals, misses = score(Path(os.path.realpath(folder)))
    for key in sorted(totals, key=lambda k: (":" in k, k)):
        passed, total = totals[key]
        print(f"{key:<40} {passed:>3}/{total}")
    for line in misses:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
