"""CLI start-up: `access-guardrails --help` and `--version` against `python -c pass`.

Each is run as a fresh process N times (the installed console script, as users run it), in the
same run and interleaved so machine load hits all alike; medians and the ratio to bare Python.
The target is under 150 ms wall for --help and --version.

    .venv/bin/python benchmarks/cli_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    cli = str(BIN / "access-guardrails")
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "access-guardrails --help": [cli, "--help"],
        "access-guardrails --version": [cli, "--version"],
        "access-guardrails rules": [cli, "rules"],
        "access-guardrails check 'SELECT 1'": [cli, "check", "SELECT 1"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for argv in cases.values():
        _once(argv)  # warm the file cache
    for _ in range(args.runs):
        for name, argv in cases.items():
            times[name].append(_once(argv))
    base = statistics.median(times["python -c pass"])
    print(f"{'command':40} {'median ms':>10} {'min ms':>8} {'x python':>9}")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:40} {median * 1000:10.1f} {min(found) * 1000:8.1f} {median / base:9.2f}")


if __name__ == "__main__":
    main()
