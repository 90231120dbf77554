"""What the guard costs a task in a fresh worker process: import + first decision + record.

Airflow runs every task in a new process and a Prefect worker or `flow.serve()` starts one per
flow run, so the guard's per-task cost there is dominated by imports and first-use set-up, not
by the microseconds of a warm `check`. Each round starts, for each adapter, two fresh processes
(`python -c`), alternating:
  - unguarded: import the orchestrator's task API (`flow`/`task`, `DAG`/`task`), then run one
    UPDATE on a SQLite warehouse;
  - guarded: the same, plus import the adapter, judge the UPDATE with the shared guard (policy
    loaded from GUARDRAILS_POLICY, decision recorded in a SQLite audit store before it runs)
    and append its outcome, as a guarded task does.
  - guarded, guard server: the same guarded process with GUARDRAILS_GUARD_SOCKET set, asking
    an `access-guardrails guard-server` started once for the run (judged and recorded there;
    the worker loads no analyzer, policy or audit store).
Printed: median wall time of each, the difference (the guard's cost per task, target at most
50 ms) and the ratio, the same for CPU time (user + system: steadier on a busy machine), and
the guarded process's own breakdown (adapter import, first decision with its record, outcome).
The measured code is compiled to bytecode first, as an install does (PYTHONDONTWRITEBYTECODE
would otherwise make every process compile it from source), and the first round of each warms
the audit store and is not counted. `--compare DIR` also measures the guarded process with the
code of DIR (a checkout of another commit, e.g. `git archive <commit> core airflow_guardrails
prefect_guardrails | tar -x -C DIR`), interleaved in the same rounds.
Run: `python benchmarks/worker_cost.py [--rounds N] [--compare DIR] [--no-server]`. Numbers, not
asserts.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "dags_examples" / "guardrails_policy.yaml"
UPDATE = "UPDATE orders SET total = total + 1 WHERE id = 7"

# What a user's task file imports from the orchestrator (both processes pay it: `import prefect`
# alone defers Prefect's settings and logging set-up to the first `flow`/`task`, which a real
# flow run always reaches), and what it imports from the adapter.
ORCHESTRATORS = {
    "airflow": (
        "from airflow.sdk import DAG, task",
        "from airflow_guardrails import GuardedOperator",
    ),
    "prefect": ("from prefect import flow, task", "from prefect_guardrails import guarded"),
}

# Import name -> folder in a checkout.
PACKAGES = {
    "guardrails_core": "core",
    "airflow_guardrails": "airflow_guardrails",
    "prefect_guardrails": "prefect_guardrails",
}

TASK = """
import sqlite3, sys, time, json
{orchestrator}
started = time.perf_counter()
marks = {{}}
if {guarded}:
    {adapter}
    marks["adapter import"] = time.perf_counter()
    from guardrails_core.guard import Guard
    from guardrails_core.model import Context
    guard = Guard.shared()
    result = guard.check({update!r}, dialect="sqlite",
                         context=Context(orchestrator="{name}", pipeline="bench", task="t"))
    assert result.proceed and result.record_id, result.decision
    marks["first decision + record"] = time.perf_counter()
with sqlite3.connect({warehouse!r}) as conn:
    conn.execute({update!r})
if {guarded}:
    marks["command"] = time.perf_counter()
    guard.finish(result, "succeeded")
    marks["outcome"] = time.perf_counter()
previous, steps = started, {{}}
for step, moment in marks.items():
    steps[step] = (moment - previous) * 1000
    previous = moment
print(json.dumps(steps))
"""


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def run(
    name: str, guarded: bool, env: dict[str, str], warehouse: Path
) -> tuple[float, float, dict[str, float]]:
    """Wall and CPU time (ms) of one fresh task process, and its own breakdown."""
    orchestrator, adapter = ORCHESTRATORS[name]
    code = TASK.format(
        orchestrator=orchestrator,
        adapter=adapter,
        guarded=guarded,
        update=UPDATE,
        name=name,
        warehouse=str(warehouse),
    )
    began, cpu_before = time.perf_counter(), _children_cpu_ms()
    done = run_python(code, env, warehouse.parent)
    elapsed, cpu = (time.perf_counter() - began) * 1000, _children_cpu_ms() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"{name} ({'guarded' if guarded else 'unguarded'}) failed:\n{done.stderr}")
    return elapsed, cpu, json.loads(done.stdout.strip().splitlines()[-1])


def code_tree(root: Path, work: Path) -> str:
    """A PYTHONPATH entry importing the three packages from the checkout at `root`."""
    tree = work / f"tree-{abs(hash(root))}"
    tree.mkdir(exist_ok=True)
    for name, folder in PACKAGES.items():
        (tree / name).symlink_to(root.resolve() / folder)
    return str(tree)


def run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter, run from `cwd` (not the checkout: its packages would
    shadow PYTHONPATH's), its output captured."""
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )


def warehouse_with_orders(work: Path) -> Path:
    """A SQLite warehouse in `work` with the table the measured UPDATE changes."""
    import sqlite3

    warehouse = work / "warehouse.sqlite3"
    with sqlite3.connect(warehouse) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 1.5) for i in range(100)])
    return warehouse


def environment(work: Path) -> dict[str, str]:
    """The measured processes' environment: the guard's home, audit store and policy, and the
    orchestrators' homes, all in `work`."""
    return {
        **os.environ,
        "GUARDRAILS_HOME": str(work),
        "GUARDRAILS_AUDIT_URL": f"sqlite:///{work / 'audit.sqlite3'}",
        "GUARDRAILS_POLICY": str(POLICY),
        "AIRFLOW_HOME": str(work / "airflow"),
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


SERVER = "guard server"


@contextlib.contextmanager
def guard_server(env: dict[str, str], work: Path) -> Iterator[tuple[dict[str, str], int]]:
    """An `access-guardrails guard-server` for the run (the tasks' policy and audit store, the
    code of `env`'s PYTHONPATH): the environment of a task that asks it, and its pid."""
    socket = work / "run" / "guard.sock"
    socket.parent.mkdir(mode=0o700)
    command = ["guard-server", "--socket", str(socket), "--dialect", "sqlite"]
    server = subprocess.Popen(
        [sys.executable, "-m", "guardrails_core.cli", *command],
        env=env,
        cwd=work,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        if not server.stdout.readline():  # "guard server listening on ...": it serves
            raise SystemExit("the guard server did not start")
        yield {**env, "GUARDRAILS_GUARD_SOCKET": str(socket)}, server.pid
    finally:
        server.terminate()
        server.wait(60)


def process_cpu_ms(pid: int) -> float:
    """CPU time (user + system, ms) a running process used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--only", choices=sorted(ORCHESTRATORS))
    parser.add_argument("--compare", type=Path, help="a checkout of another commit to measure")
    parser.add_argument("--no-server", action="store_true", help="leave out the guard server")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="guardrails-worker-bench-"))
    warehouse = warehouse_with_orders(work)
    env = environment(work)
    roots = {"this tree": ROOT}
    if args.compare is not None:
        roots[str(args.compare)] = args.compare
    for root in roots.values():  # as an install does: pip by default, uv with --compile-bytecode
        for folder in PACKAGES.values():
            compileall.compile_dir(root / folder, quiet=1)
    variants = {name: {**env, "PYTHONPATH": code_tree(root, work)} for name, root in roots.items()}
    with contextlib.ExitStack() as stack:
        server_pid = None
        if not args.no_server:
            variants[SERVER], server_pid = stack.enter_context(
                guard_server(variants["this tree"], work)
            )
        measure(args, variants, warehouse, server_pid)


def measure(
    args: argparse.Namespace,
    variants: dict[str, dict[str, str]],
    warehouse: Path,
    server_pid: int | None,
) -> None:
    names = [args.only] if args.only else list(ORCHESTRATORS)
    env = variants["this tree"]
    print(f"fresh worker processes, {args.rounds} rounds (after one warm-up), medians:")
    for name in names:
        plain: list[float] = []
        plain_cpu: list[float] = []
        guarded: dict[str, list[float]] = {variant: [] for variant in variants}
        guarded_cpu: dict[str, list[float]] = {variant: [] for variant in variants}
        steps: dict[str, dict[str, list[float]]] = {variant: {} for variant in variants}
        server_cpu: list[float] = []
        for round_ in range(args.rounds + 1):
            unguarded_ms, unguarded_cpu, _ = run(name, False, env, warehouse)
            measured = {}
            for variant, variant_env in variants.items():
                before = process_cpu_ms(server_pid) if server_pid else 0.0
                measured[variant] = run(name, True, variant_env, warehouse)
                if variant == SERVER and server_pid and round_:
                    server_cpu.append(process_cpu_ms(server_pid) - before)
            if round_ == 0:
                continue
            plain.append(unguarded_ms)
            plain_cpu.append(unguarded_cpu)
            for variant, (guarded_ms, cpu_ms, marks) in measured.items():
                guarded[variant].append(guarded_ms)
                guarded_cpu[variant].append(cpu_ms)
                for step, ms in marks.items():
                    steps[variant].setdefault(step, []).append(ms)
        base, base_cpu = statistics.median(plain), statistics.median(plain_cpu)
        print(f"  {name}: unguarded {base:.0f} ms (CPU {base_cpu:.0f} ms)")
        for variant in variants:
            with_guard = statistics.median(guarded[variant])
            cpu = statistics.median(guarded_cpu[variant])
            label = "guarded, guard server" if variant == SERVER else f"guarded ({variant})"
            print(
                f"    {label} {with_guard:.0f} ms: guard +{with_guard - base:.0f} ms "
                f"per task ({with_guard / base:.2f}x; target +50); CPU +{cpu - base_cpu:.0f} ms "
                f"({cpu / base_cpu:.2f}x)"
            )
            breakdown = ", ".join(
                f"{step} {statistics.median(ms):.0f} ms" for step, ms in steps[variant].items()
            )
            print(f"      in the guarded process: {breakdown}")
            if variant == SERVER and server_cpu:
                # The mean: /proc counts CPU in clock ticks (10 ms), most requests take less.
                print(f"      in the guard server: CPU {statistics.mean(server_cpu):.1f} ms")


if __name__ == "__main__":
    main()
