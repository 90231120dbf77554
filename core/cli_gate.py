"""`access-guardrails gate PATH...` (and `check - --stdin-filename NAME`): the CI gate's command.

Files, folders and globs; `-` reads stdin as the file named by --stdin-filename. One process
judges them all; the exit code is the worst decision's (1 deny, 3 review, 0 allow).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

FORMATS = ["text", "json", "sarif", "github"]


def register(commands: Any, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser("gate", help=help_text)
    parser.add_argument(
        "paths",
        nargs="+",
        help="SQL or shell files, folders (e.g. target/compiled), globs, or - for stdin",
    )
    parser.add_argument("--dialect", help="SQL dialect: postgres, mysql, sqlite, ...")
    parser.add_argument(
        "--policy",
        help="policy file (default: $GUARDRAILS_POLICY, else access-guardrails.yaml or "
        "[tool.access-guardrails] in pyproject.toml, from here upward)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument(
        "--stdin-filename", metavar="NAME", help="the file name to report for - (stdin)"
    )
    return parser


def cmd_gate(args: argparse.Namespace, settings: Any, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.cli_commands import _load

    return gate_paths(args.paths, args, _load(args.policy, settings), out, stdin)


def gate_paths(
    paths: list[str], args: argparse.Namespace, policy: Any, out: TextIO, stdin: TextIO
) -> int:
    from guardrails_core.cli_commands import (
        EXIT_ALLOW,
        EXIT_DENY,
        UsageError,
        _check_dialect,
        exit_code,
    )
    from guardrails_core.discovery import DiscoveryError, discover
    from guardrails_core.gate import Finding, gate_file, gate_text, render, sql_files
    from guardrails_core.model import Context, Decision

    try:
        dialect = _check_dialect(args.dialect or discover().dialect)
    except DiscoveryError as error:
        raise UsageError(str(error)) from None
    context = Context(orchestrator="ci")
    stdin_name = args.stdin_filename or "-"
    files = [path for path in paths if path == "-"]
    if len(files) > 1:
        raise UsageError("- (stdin) can be given once")
    named = list(sql_files(path for path in paths if path != "-"))
    if not named and not files:
        raise UsageError(f"gate found no SQL or shell files in {', '.join(paths)}")
    findings: list[Finding] = []
    worst = EXIT_ALLOW
    judged: list[tuple[Decision | None, list[Finding]]] = []
    if files:
        judged.append(
            gate_text(stdin_name, stdin.read(), policy=policy, dialect=dialect, context=context)
        )
    judged.extend(
        gate_file(path, policy=policy, dialect=dialect, context=context) for path in named
    )
    for decision, found in judged:
        findings.extend(found)
        code = EXIT_DENY if decision is None else exit_code([decision])
        if code == EXIT_DENY or (code != EXIT_ALLOW and worst == EXIT_ALLOW):
            worst = code
    out.write(render(findings, len(judged), args.format) + "\n")
    return worst


__all__ = ["FORMATS", "cmd_gate", "gate_paths", "register"]
