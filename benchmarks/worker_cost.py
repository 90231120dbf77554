"""What the guard costs a fresh worker process: every Airflow task (and every Prefect flow run
from a worker) starts a new Python process, so imports and first-use set-up are paid per task.

For each orchestrator, two scripts run as fresh `python -c` processes, alternating, N rounds:
  - unguarded: import what the task imports anyway (Airflow's Task SDK and SQL operator, or
    Prefect), then run one statement on a SQLite warehouse;
  - guarded: the same, plus importing the adapter and making its first decision with its audit
    record (`Guard.shared().check`, the call the adapters make) before running the statement.
Both print the time from interpreter start to the statement's end, measured inside the process
(and the wall time of the whole process is shown too). Medians, the difference in ms and the
ratio are printed; the target is at most 50 ms per task beyond the unguarded task. One warm-up
round writes bytecode and creates the audit store, as a deployed worker would have them.
`--importtime` lists the modules the guarded script imports beyond the unguarded one, by
cumulative import time (python -X importtime). Run: `python benchmarks/worker_cost.py [-n 15]`.
Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="guardrails-worker-bench-"))
ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0

STATEMENT = "INSERT INTO stg_orders (id, total) VALUES (1, 10.5)"

# The same statement, run the way the task would run it.
_RUN = f"""
import sqlite3
with sqlite3.connect({str(WORK / "warehouse.db")!r}) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS stg_orders (id INTEGER, total REAL)")
    conn.execute({STATEMENT!r})
"""
_DECIDE = f"""
from guardrails_core.guard import Guard
from guardrails_core.model import Context
_t1 = time.perf_counter()
guard = Guard.shared()
result = guard.check({STATEMENT!r}, dialect="sqlite", context=Context(
    orchestrator=ORCHESTRATOR, pipeline="nightly_orders", task="rebuild_staging", run_id="bench"))
result.raise_if_blocked()
assert result.record_id is not None
print("decide_ms=%.3f" % ((time.perf_counter() - _t1) * 1000))
"""
_START = "import time; _t0 = time.perf_counter()\n"
_END = "\nprint(f'elapsed_ms={(time.perf_counter() - _t0) * 1000:.3f}')\n"

SCENARIOS = {
    "airflow": (
        "import airflow.sdk\n"
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n",
        "import airflow_guardrails\nORCHESTRATOR = 'airflow'\n",
    ),
    "prefect": (
        "from prefect import flow, task\n",
        "import prefect_guardrails\nORCHESTRATOR = 'prefect'\n",
    ),
}


def scripts(orchestrator: str) -> tuple[str, str]:
    imports, adapter = SCENARIOS[orchestrator]
    plain = _START + imports + _RUN + _END
    guarded = _START + imports + adapter + _DECIDE + _RUN + _END
    return plain, guarded


def environment() -> dict[str, str]:
    home = WORK / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARDRAILS_", "AIRFLOW"))}
    env.update(
        GUARDRAILS_HOME=str(home),
        GUARDRAILS_AUDIT_URL=f"sqlite:///{home / 'audit.sqlite3'}",
        GUARDRAILS_POLICY=str(ROOT / "dags_examples" / "guardrails_policy.yaml"),
        AIRFLOW_HOME=str(WORK / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{WORK / 'airflow.db'}",
        PREFECT_HOME=str(WORK / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


def run(script: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(ms from interpreter start to the statement's end, inside; ms of the whole process;
    ms of the first decision with its record, 0 when there is none)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"a benchmark process failed:\n{done.stderr[-3000:]}")
    (inside,) = re.findall(r"elapsed_ms=([0-9.]+)", done.stdout)
    decide = re.findall(r"decide_ms=([0-9.]+)", done.stdout)
    return float(inside), wall, float(decide[0]) if decide else 0.0


def measure(orchestrator: str, rounds: int, env: dict[str, str]) -> None:
    plain, guarded = scripts(orchestrator)
    run(plain, env)  # warm-up: bytecode, the warehouse, the audit store
    run(guarded, env)
    times: dict[str, list[tuple[float, float, float]]] = {"unguarded": [], "guarded": []}
    for _ in range(rounds):  # alternating: load on the machine hits both alike
        times["unguarded"].append(run(plain, env))
        times["guarded"].append(run(guarded, env))
    inside = {name: statistics.median(t[0] for t in runs) for name, runs in times.items()}
    wall = {name: statistics.median(t[1] for t in runs) for name, runs in times.items()}
    added = inside["guarded"] - inside["unguarded"]
    decide = statistics.median(t[2] for t in times["guarded"])
    print(f"\n{orchestrator}: fresh worker process, median of {rounds} rounds")
    for name in times:
        print(
            f"  {name:10} {inside[name]:8.1f} ms to the statement's end"
            f"   ({wall[name]:.0f} ms wall)"
        )
    print(
        f"  guard adds {added:8.1f} ms per task (x{inside['guarded'] / inside['unguarded']:.2f};"
        f" wall +{wall['guarded'] - wall['unguarded']:.0f} ms); target <= {TARGET_MS:.0f} ms:"
        f" {'met' if added <= TARGET_MS else 'NOT met'}"
    )
    print(
        f"    of which the first decision with its record (Guard.shared + check):"
        f" {decide:.1f} ms; importing the adapter and the rest: {added - decide:.1f} ms"
    )


def import_offenders(orchestrator: str, env: dict[str, str], top: int) -> None:
    """Modules the guarded script imports beyond the unguarded one, by cumulative time."""

    def importtimes(script: str) -> dict[str, int]:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        found: dict[str, int] = {}
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                found[parts[2].strip()] = int(parts[1])
        return found

    plain, guarded = scripts(orchestrator)
    base = importtimes(plain)
    extra = {m: us for m, us in importtimes(guarded).items() if m not in base}
    print(f"  imports the guard adds ({len(extra)} modules), top {top} by cumulative time:")
    for module, us in sorted(extra.items(), key=lambda item: -item[1])[:top]:
        print(f"    {us / 1000:8.1f} ms  {module}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=11)
    parser.add_argument("--only", choices=sorted(SCENARIOS))
    parser.add_argument("--importtime", action="store_true", help="list the top import costs")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    env = environment()
    for orchestrator in [args.only] if args.only else sorted(SCENARIOS):
        measure(orchestrator, args.rounds, env)
        if args.importtime:
            import_offenders(orchestrator, env, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
