"""What the guard costs an Airflow task process forked from a process that already runs Airflow.

Airflow 3 runs a task in a child the Task SDK supervisor forks (and ends it with `os._exit`),
inside an executor worker that was itself forked after `gc.freeze()` (LocalExecutor, Celery).
Each round starts three parents, alternating; each imports the Task SDK (`airflow.sdk`), the
third also calls `airflow_guardrails.preload_guard(dialects=("sqlite",))` as
`airflow_local_settings.py` would; each freezes its heap, forks one child and waits:
  - unguarded: the child runs one UPDATE on a SQLite warehouse;
  - guarded: the child imports the adapter, judges the UPDATE with the shared guard (policy
    from GUARDRAILS_POLICY, decision recorded in a SQLite audit store before it runs), runs
    it and appends its outcome;
  - guarded, preloaded: the same, in a child of the preloading parent;
  - guarded, guard server: the guarded child with GUARDRAILS_GUARD_SOCKET set, asking an
    `access-guardrails guard-server` started once for the run (no preloading).
Printed: the child's median CPU time (user + system, counted from the fork) and wall time from
the fork to its exit, and the guard's cost per task against the unguarded child of the same
rounds (target at most 50 ms). The first round warms the audit store and is not counted.
Run: `python benchmarks/worker_fork.py [--rounds N]`. Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from worker_cost import UPDATE, environment, guard_server, run_python, warehouse_with_orders

PARENT = """
import gc, json, os, sys, time
from airflow.sdk import DAG, task
if {preload}:
    from airflow_guardrails import preload_guard
    preload_guard(dialects=("sqlite",))
gc.freeze()
read, write = os.pipe()
forked = time.perf_counter()
if os.fork() == 0:
    import sqlite3
    if {guarded}:
        from airflow_guardrails import GuardedOperator
        from guardrails_core.guard import Guard
        from guardrails_core.model import Context
        guard = Guard.shared()
        result = guard.check({update!r}, dialect="sqlite",
                             context=Context(orchestrator="airflow", pipeline="bench", task="t"))
        assert result.proceed and result.record_id, result.decision
    with sqlite3.connect({warehouse!r}) as conn:
        conn.execute({update!r})
    if {guarded}:
        guard.finish(result, "succeeded")
        guard.flush()
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)  # the child's own, from the fork
    os.write(write, json.dumps([(usage.ru_utime + usage.ru_stime) * 1000]).encode())
    os._exit(0)
os.close(write)
os.wait()
cpu = json.loads(os.read(read, 1000))[0]
print(json.dumps({{"cpu": cpu, "wall": (time.perf_counter() - forked) * 1000}}))
"""

VARIANTS = {  # name -> (guarded, preloaded, asks the guard server)
    "unguarded": (False, False, False),
    "guarded": (True, False, False),
    "guarded, preloaded": (True, True, False),
    "guarded, guard server": (True, False, True),
}


def child(guarded: bool, preload: bool, env: dict[str, str], warehouse: Path) -> dict[str, float]:
    """CPU and wall time (ms) of one forked task child."""
    code = PARENT.format(preload=preload, guarded=guarded, update=UPDATE, warehouse=str(warehouse))
    done = run_python(code, env, warehouse.parent)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"forked child (guarded={guarded}, preload={preload}):\n{done.stderr}")
    measured: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="guardrails-fork-bench-"))
    warehouse = warehouse_with_orders(work)
    env = environment(work)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    with guard_server(env, work) as (server_env, _):
        for round_ in range(args.rounds + 1):
            for name, (guarded, preload, server) in VARIANTS.items():
                measured = child(guarded, preload, server_env if server else env, warehouse)
                if round_:
                    runs[name].append(measured)
    print(f"Airflow task children forked after gc.freeze(), {args.rounds} rounds, medians:")
    base_cpu = statistics.median(run["cpu"] for run in runs["unguarded"])
    base_wall = statistics.median(run["wall"] for run in runs["unguarded"])
    print(f"  unguarded: CPU {base_cpu:.0f} ms, wall {base_wall:.0f} ms")
    costs = {}
    for name in list(VARIANTS)[1:]:
        cpu = statistics.median(run["cpu"] for run in runs[name])
        wall = statistics.median(run["wall"] for run in runs[name])
        costs[name] = cpu - base_cpu
        print(
            f"  {name}: CPU {cpu:.0f} ms (guard +{cpu - base_cpu:.0f} ms per task; target +50), "
            f"wall {wall:.0f} ms (+{wall - base_wall:.0f} ms)"
        )
    guarded = costs["guarded"]
    for name in ("guarded, preloaded", "guarded, guard server"):
        print(f"  {name}: {costs[name] / guarded:.2f}x the guard's CPU cost per task")


if __name__ == "__main__":
    main()
