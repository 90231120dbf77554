"""Robustness harness: sqlglot's own dialect test statements through the analyzer.

sqlglot's tests hold thousands of statements in every dialect (`validate_identity`,
`validate_all`, tests/fixtures/identity.sql). Their text is theirs, so it is not copied here:
point this at a checkout of https://github.com/tobymao/sqlglot and it reports

  - analyzer crashes (a fail-closed DENY of SQL the parser reads: always a defect),
  - statements sqlglot parses that the analyzer calls unparseable (mostly bare expressions such
    as `ARRAY_CONCAT_AGG(x)`, which are not statements; the rest are worth a look),
  - the verdicts by first keyword, to eyeball open-world handlers (a kind of statement allowed
    with no intent at all).

Run: `.venv/bin/python -m tests.redteam.sqlglot_statements PATH/TO/sqlglot [--show N]`
"""

from __future__ import annotations

import argparse
import ast
import collections
import logging
from pathlib import Path

import sqlglot

from guardrails_core import check

DIALECTS = [
    "postgres",
    "mysql",
    "tsql",
    "oracle",
    "snowflake",
    "bigquery",
    "redshift",
    "databricks",
    "spark",
    "trino",
    "clickhouse",
    "duckdb",
    "sqlite",
]


def statements(repository: Path) -> list[tuple[str, str]]:
    """(dialect, text) of every literal first argument of validate_identity/validate_all, and
    every line of tests/fixtures/identity.sql (read as PostgreSQL)."""
    found: dict[tuple[str, str], None] = {}
    for dialect in DIALECTS:
        source = repository / "tests" / "dialects" / f"test_{dialect}.py"
        if not source.exists():
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("validate_identity", "validate_all")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[(dialect, node.args[0].value)] = None
    identity = repository / "tests" / "fixtures" / "identity.sql"
    if identity.exists():
        for line in identity.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("--"):
                found[("postgres", line.strip())] = None
    return list(found)


def _parses(text: str, dialect: str) -> bool:
    try:
        sqlglot.parse(text, read=dialect)
    except Exception:  # any parser failure: sqlglot does not read it either
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", type=Path, help="a checkout of tobymao/sqlglot")
    parser.add_argument("--show", type=int, default=20, help="examples to print per finding")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # sqlglot warns about unsupported syntax
    crashes, unread = [], []
    verdicts: collections.Counter[tuple[str, str]] = collections.Counter()
    rows = statements(args.repository)
    for dialect, text in rows:
        decision = check(text, kind="sql", dialect=dialect, analysis_cache=None)
        message = decision.reasons[0].message if decision.reasons else ""
        intents = {str(intent) for intent in decision.intents}
        verdicts[(text.split()[0].upper() if text.split() else "", str(decision.decision))] += 1
        if "analyzer error" in message:
            crashes.append((dialect, text, message))
        elif "unparseable" in intents and _parses(text, dialect):
            unread.append((dialect, text, message))
    print(f"{len(rows)} statements; {len(crashes)} analyzer crashes; {len(unread)} unparseable")
    for title, found in (("crashes", crashes), ("unparseable, parsed by sqlglot", unread)):
        print(f"-- {title}")
        for dialect, text, message in found[: args.show]:
            print(f"  {dialect}: {text[:100]!r}\n    {message[:160]}")
    print("-- verdicts by first keyword")
    for (keyword, verdict), count in sorted(verdicts.items(), key=lambda item: -item[1])[:40]:
        print(f"  {keyword:12} {verdict:7} {count}")


if __name__ == "__main__":
    main()
