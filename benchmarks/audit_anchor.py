"""Cost of the anchor: AuditStore.record() per second with and without GUARDRAILS_AUDIT_ANCHOR,
measured in the same run on fresh SQLite stores (durable commits), keyed.

Each append with an anchor also appends one signed checkpoint line to the anchor file (one
open/write/close, no fsync: the anchor may lag the database, never lead it).

    .venv/bin/python benchmarks/audit_anchor.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from guardrails_core.audit import AuditStore
from guardrails_core.check import check


def _rate(folder: Path, name: str, rows: int, anchor: Path | None) -> float:
    decision = check("DELETE FROM orders WHERE id = 42", dialect="postgres")
    store = AuditStore(f"sqlite:///{folder / name}", key="benchmark-key", anchor=anchor)
    try:
        store.record(decision)  # warm: schema, statements, caches
        start = time.perf_counter()
        for _ in range(rows):
            store.record(decision)
        elapsed = time.perf_counter() - start
        if anchor is not None:
            assert store.verify(anchor).ok
    finally:
        store.close()
    return rows / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        plain = _rate(folder, "plain.sqlite3", args.rows, None)
        anchored = _rate(folder, "anchored.sqlite3", args.rows, folder / "anchor.jsonl")
        plain_again = _rate(folder, "plain2.sqlite3", args.rows, None)
    baseline = (plain + plain_again) / 2
    print(f"record() without anchor: {baseline:,.0f}/s (runs {plain:,.0f}, {plain_again:,.0f})")
    print(f"record() with anchor:    {anchored:,.0f}/s")
    print(f"anchor cost ratio (without/with): {baseline / anchored:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
