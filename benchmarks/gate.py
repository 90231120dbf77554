"""CI gate throughput: a folder of SQL files checked in one process vs one process per file.

The folder holds N files (default 500) made from the benign PostgreSQL corpus
(tests/benign/postgres.yaml), 3-8 statements each, one file in 25 with a blocked statement.
Measured in the same run:

  one process   `access-guardrails gate FOLDER --dialect postgres`, wall time
  per file      `access-guardrails gate FILE` in a loop (what a wrapper script did), timed on
                the first --sample files and scaled to N (each process pays the same start-up)
  sqlfluff      `sqlfluff lint FOLDER --dialect postgres`, when sqlfluff is on PATH
                (not a project dependency: `uv tool install sqlfluff`)

    .venv/bin/python benchmarks/gate.py [--files 500] [--sample 20]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BLOCKED = ["DELETE FROM sales.orders;", "TRUNCATE staging.events;", "DROP TABLE mart.revenue;"]


def make_folder(folder: Path, files: int) -> int:
    rows = yaml.safe_load((ROOT / "tests/benign/postgres.yaml").read_text())
    texts = [row["text"].rstrip().rstrip(";") + ";" for row in rows]
    chooser = random.Random(14)
    blocked = 0
    for number in range(files):
        statements = chooser.sample(texts, chooser.randint(3, 8))
        if number % 25 == 0:
            statements.insert(chooser.randint(0, len(statements)), BLOCKED[blocked % 3])
            blocked += 1
        (folder / f"{number:04d}_model.sql").write_text("\n\n".join(statements) + "\n")
    return blocked


def _wall(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()
    cli = str(BIN / "access-guardrails")
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as name:
        folder = Path(name)
        blocked = make_folder(folder, args.files)
        statements = sum(f.read_text().count(";") for f in folder.glob("*.sql"))
        print(f"{args.files} files, {statements} statements, {blocked} with a blocked statement")
        whole, code = _wall([cli, "gate", str(folder), "--dialect", "postgres"])
        print(
            f"one process:  {whole:8.2f} s  (exit {code}; {whole / args.files * 1000:.1f} ms/file)"
        )
        files = sorted(folder.glob("*.sql"))[: args.sample]
        sample = sum(_wall([cli, "gate", str(path), "--dialect", "postgres"])[0] for path in files)
        per_file = sample / len(files)
        loop = per_file * args.files
        print(
            f"per file:     {loop:8.2f} s  (scaled from {len(files)} files, "
            f"{per_file:.2f} s each)  -> one process is {loop / whole:.1f}x faster"
        )
        sqlfluff = shutil.which("sqlfluff") or (
            str(BIN / "sqlfluff") if (BIN / "sqlfluff").exists() else None
        )
        if sqlfluff is None:
            print("sqlfluff:     not installed here (pip install sqlfluff to compare)")
        else:
            lint, _ = _wall([sqlfluff, "lint", str(folder), "--dialect", "postgres"])
            print(f"sqlfluff:     {lint:8.2f} s  ({lint / whole:.1f}x the gate)")


if __name__ == "__main__":
    main()
