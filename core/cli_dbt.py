"""`access-guardrails dbt -- ARGS...`: run dbt in this process with every statement guarded.

Exit codes: 0 when dbt succeeded, 1 when a node failed (a blocked statement fails its node),
2 when dbt could not run (bad arguments, no project) or the guard could not start. A statement
held for review names its approval id: `access-guardrails approve ID`, then the same run again.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO


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
    context = context_from_mapping(_pairs(args.context), fingerprint="")
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


__all__ = ["cmd_dbt", "register"]
