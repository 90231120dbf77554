"""`access-guardrails dbt -- ARGS...`: run dbt in this process with every statement guarded.

Exit codes: 0 when dbt succeeded, 1 when a node failed (a blocked statement fails its node),
2 when dbt could not run (bad arguments, no project) or the guard could not start. A statement
held for review names its approval id: `access-guardrails approve ID`, then the same run again.

`access-guardrails-dbt ARGS...` is the same as one executable, for tools that take the path of a
dbt executable: astronomer-cosmos's subprocess invocation mode (`ExecutionConfig(
invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=...)`, with `append_env=True` so
the GUARDRAILS_* settings reach it). Run by an Airflow task, the task's AIRFLOW_CTX_* variables
give the context: the DAG as pipeline, its run id, labels `airflow.task_id`, `airflow.try_number`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

# Airflow's task context as a task's subprocesses see it -> context keys of `--context`.
_AIRFLOW_VARIABLES = {
    "AIRFLOW_CTX_DAG_ID": "pipeline",
    "AIRFLOW_CTX_DAG_RUN_ID": "run_id",
    "AIRFLOW_CTX_TASK_ID": "label.airflow.task_id",
    "AIRFLOW_CTX_TRY_NUMBER": "label.airflow.try_number",
}


def register(commands: Any, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "dbt",
        help=help_text,
        description="Run dbt (dbtRunner) in this process; every statement a dbt SQL adapter "
        "sends is judged before it runs, with the dbt pack of rules added to the policy.",
    )
    parser.add_argument("--policy", help="policy file (default: $GUARDRAILS_POLICY or baseline)")
    parser.add_argument(
        "--context",
        action="append",
        metavar="KEY=VALUE",
        help="context for every statement, e.g. environment=prod ticket=CHG-1 (repeatable)",
    )
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="-- then dbt's arguments")
    return parser


def cmd_dbt(args: argparse.Namespace, settings: Any, out: TextIO, stdin: TextIO) -> int:
    from dbt.cli.main import dbtRunner

    from guardrails_core.cli_commands import UsageError, _load, _pairs, context_from_mapping
    from guardrails_core.dbt_guard import approve_and_rerun, guard_dbt
    from guardrails_core.guard import Guard

    dbt_args = list(args.dbt_args)
    if dbt_args[:1] == ["--"]:
        dbt_args = dbt_args[1:]
    if not dbt_args:
        raise UsageError("dbt needs dbt's arguments after --, e.g. access-guardrails dbt -- run")
    given = {**airflow_task_context(os.environ), **_pairs(args.context)}
    context = context_from_mapping(given, fingerprint="")
    guard = Guard(settings=settings, policy=_load(args.policy, settings))
    try:
        with guard_dbt(guard, context=context) as installed:
            result = dbtRunner().invoke(dbt_args)
    finally:
        guard.close()
    for held in installed.held:
        sys.stderr.write(
            f"access-guardrails: held for review at {held.decision.context.task}: "
            f"{approve_and_rerun(held)}\n"
        )
    if result.exception is not None:
        sys.stderr.write(f"access-guardrails: dbt could not run: {result.exception}\n")
        return 2
    return 0 if result.success else 1


def airflow_task_context(environ: Mapping[str, str]) -> dict[str, str]:
    """The context keys of the Airflow task that started this process, if one did."""
    return {key: environ[name] for name, key in _AIRFLOW_VARIABLES.items() if environ.get(name)}


def main(argv: Sequence[str] | None = None) -> int:
    """`access-guardrails-dbt ARGS...`: `access-guardrails dbt -- ARGS...`."""
    from guardrails_core.cli import main as cli_main

    return cli_main(["dbt", "--", *(sys.argv[1:] if argv is None else argv)])


__all__ = ["airflow_task_context", "cmd_dbt", "main", "register"]
