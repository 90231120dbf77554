"""The `access-guardrails` command: check commands, work with policies, read the audit trail.

Exit codes of `check`: 0 allow (or not enforced), 1 deny, 3 review, 2 usage or policy error.

This module builds the parser and imports the rest lazily: only the command that runs is fully
registered (the others are names and help lines), and its implementation is imported when it
runs, so `--help` and `--version` need no parser, analyser or pydantic import.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

EXIT_USAGE = 2

_Commands = Any  # argparse's private _SubParsersAction


class _Version(argparse.Action):
    """`--version`: the package and analyser versions, read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from guardrails_core.version import ANALYZER_VERSION, PACKAGE_VERSION

        parser.exit(message=f"access-guardrails {PACKAGE_VERSION} (analyzer {ANALYZER_VERSION})\n")


def _handler(name: str, module: str = "guardrails_core.cli_commands") -> str:
    """A handler named, not imported: `main` imports it when its command runs."""
    return f"{module}:{name}"


def _common(parser: argparse.ArgumentParser) -> None:
    from guardrails_core.model import CommandKind, Mode

    parser.add_argument(
        "--kind", choices=[kind.value for kind in CommandKind], help="sql (default) or shell"
    )
    parser.add_argument("--dialect", help="SQL dialect: postgres, mysql, sqlite, snowflake, ...")
    parser.add_argument("--policy", help="policy file (default: $GUARDRAILS_POLICY or baseline)")
    parser.add_argument(
        "--context",
        action="append",
        metavar="KEY=VALUE",
        help="context, e.g. actor=ai_agent environment=prod ticket=CHG-1 "
        "approved_by=alice (repeatable)",
    )
    parser.add_argument(
        "--mode", choices=[mode.value for mode in Mode], help="override the policy's mode"
    )
    parser.add_argument("-v", "--verbose", action="store_true")


def _register_check(commands: _Commands) -> None:
    from guardrails_core.cli_gate import FORMATS

    check_parser = commands.add_parser("check", help=_HELP["check"])
    check_parser.add_argument("text", nargs="?", help="the command, or - to read stdin")
    _common(check_parser)
    check_parser.add_argument("--format", choices=FORMATS, default="text")
    check_parser.add_argument(
        "--batch",
        metavar="FILE.jsonl",
        help="one JSON object per line: text, kind, dialect, context",
    )
    check_parser.add_argument(
        "--record", action="store_true", help="write each decision to the audit trail"
    )
    check_parser.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="with -, judge stdin as the file NAME (.sql or a shell script, by extension) and "
        "report NAME:line:col per blocked statement, as `gate` does",
    )
    check_parser.set_defaults(handler=_handler("cmd_check"))


def _register_gate(commands: _Commands) -> None:
    from guardrails_core.cli_gate import register

    register(commands, _HELP["gate"]).set_defaults(
        handler=_handler("cmd_gate", "guardrails_core.cli_gate")
    )


def _register_rules(commands: _Commands) -> None:
    rules_parser = commands.add_parser("rules", help=_HELP["rules"])
    rules_parser.add_argument("rule_id", nargs="?", metavar="ID", help="e.g. baseline.drop")
    rules_parser.set_defaults(handler=_handler("cmd_rules", "guardrails_core.rule_docs"))


def _register_analyze(commands: _Commands) -> None:
    from guardrails_core.model import CommandKind

    analyze_parser = commands.add_parser("analyze", help=_HELP["analyze"])
    analyze_parser.add_argument("text", help="the command, or - to read stdin")
    analyze_parser.add_argument("--kind", choices=[kind.value for kind in CommandKind])
    analyze_parser.add_argument("--dialect")
    analyze_parser.set_defaults(handler=_handler("cmd_analyze"))


def _register_policy(commands: _Commands) -> None:
    policy_parser = commands.add_parser("policy", help=_HELP["policy"])
    policy_commands = policy_parser.add_subparsers(dest="policy_command", required=True)
    validate = policy_commands.add_parser("validate", help="check policy files for errors")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(handler=_handler("cmd_policy_validate"))
    test = policy_commands.add_parser("test", help="run the examples and tests of a policy")
    test.add_argument("file", nargs="?", help="policy file (default: the baseline)")
    test.add_argument("-v", "--verbose", action="store_true")
    test.set_defaults(handler=_handler("cmd_policy_test"))
    explain = policy_commands.add_parser("explain", help="show how each rule judges a command")
    explain.add_argument("text", help="the command, or - to read stdin")
    _common(explain)
    explain.set_defaults(handler=_handler("cmd_policy_explain"))


def _register_hook(commands: _Commands) -> None:
    hook_parser = commands.add_parser("hook", help=_HELP["hook"])
    from guardrails_core.agent_hooks import PROTOCOLS

    hook_parser.add_argument("protocol", choices=sorted(PROTOCOLS))
    hook_parser.add_argument("--policy", action="append", metavar="FILE")
    hook_parser.add_argument(
        "--record", action="store_true", help="write each decision to the audit trail first"
    )
    hook_parser.set_defaults(handler=_handler("cmd_hook"))


def _register_mcp(commands: _Commands) -> None:
    mcp_parser = commands.add_parser("mcp", help=_HELP["mcp"])
    mcp_parser.add_argument(
        "--connections", required=True, metavar="FILE", help="YAML: name -> {url: ...}"
    )
    mcp_parser.add_argument("--agent", default="mcp-client", help="the agent's name in records")
    mcp_parser.add_argument(
        "--http", action="store_true", help="streamable HTTP at http://HOST:PORT/mcp, not stdio"
    )
    mcp_parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (loopback)")
    mcp_parser.add_argument("--port", type=int, default=8765, help="HTTP port (default: 8765)")
    mcp_parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="bind a non-loopback --host (no authentication: only behind your own proxy)",
    )
    mcp_parser.set_defaults(handler=_handler("cmd_mcp"))


def _register_guard_server(commands: _Commands) -> None:
    server_parser = commands.add_parser("guard-server", help=_HELP["guard-server"])
    server_parser.add_argument(
        "--socket",
        metavar="PATH",
        help="Unix socket to listen on, in a directory only you can enter "
        "(default: $GUARDRAILS_GUARD_SOCKET); workers set GUARDRAILS_GUARD_SOCKET to it",
    )
    server_parser.add_argument(
        "--dialect",
        action="append",
        metavar="NAME",
        help="a SQL dialect the workers' connections speak, loaded before serving (repeatable)",
    )
    server_parser.set_defaults(handler=_handler("cmd_guard_server", "guardrails_core.guard_server"))


def _register_approvals(commands: _Commands) -> None:
    from guardrails_core import approvals

    approvals.register(commands)


def _register_schema(commands: _Commands) -> None:
    schema_parser = commands.add_parser("schema", help=_HELP["schema"])
    schema_parser.add_argument(
        "--policy", action="store_true", help="the policy file format, for editors"
    )
    schema_parser.set_defaults(handler=_handler("cmd_schema"))


def _register_audit(commands: _Commands) -> None:
    from guardrails_core.audit import cli as audit_cli

    audit_cli.register(commands).set_defaults(handler=_handler("cmd_audit"))


def _register_impact(commands: _Commands) -> None:
    from guardrails_core.impact import cli as impact_cli

    impact_cli.register(commands)


def _register_dbt(commands: _Commands) -> None:
    from guardrails_core import cli_dbt

    cli_dbt.register(commands, _HELP["dbt"]).set_defaults(
        handler=_handler("cmd_dbt", "guardrails_core.cli_dbt")
    )


# Every command's one-line help, shown by `--help` without importing the command.
_HELP = {
    "check": "judge a command against a policy",
    "gate": "CI: judge every statement of SQL and shell files and folders (file:line per block)",
    "rules": "describe the built-in rules: what each catches and how to allow it",
    "analyze": "print what a command will do (JSON)",
    "policy": "validate, test or explain policies",
    "hook": "judge a coding agent's tool call before it runs (exit 2 blocks, on any failure)",
    "mcp": "serve guarded database tools to an AI agent over MCP (stdio or HTTP)",
    "guard-server": "judge and record for worker processes over a Unix socket (a local sidecar)",
    "approve": "let a statement an agent was told to hold run once (its approval id)",
    "reject": "refuse a statement an agent was told to hold",
    "schema": "print the JSON schema of a Decision (or, with --policy, of policy files)",
    "audit": "inspect, verify and export the audit trail",
    "undo": "put back what a decision's command changed or dropped",
    "trash": "list or purge kept backups and quarantined tables",
    "dbt": "run dbt with every statement it sends judged first (access-guardrails dbt -- run)",
}

# Commands in `--help` order, with the function that registers them fully.
_REGISTER: tuple[tuple[tuple[str, ...], Callable[[_Commands], None]], ...] = (
    (("check",), _register_check),
    (("gate",), _register_gate),
    (("rules",), _register_rules),
    (("analyze",), _register_analyze),
    (("policy",), _register_policy),
    (("hook",), _register_hook),
    (("mcp",), _register_mcp),
    (("guard-server",), _register_guard_server),
    (("approve", "reject"), _register_approvals),
    (("schema",), _register_schema),
    (("audit",), _register_audit),
    (("undo", "trash"), _register_impact),
    (("dbt",), _register_dbt),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (with `command`) of that one, the others by name only."""
    parser = argparse.ArgumentParser(
        prog="access-guardrails",
        description="Runtime execution guardrails for data pipelines: check what a SQL or shell "
        "command will do, before it runs.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True)
    for names, register in _REGISTER:
        if command is None or command in names:
            register(commands)
        else:
            for name in names:
                commands.add_parser(name, help=_HELP[name])
    return parser


def _command_in(argv: Sequence[str]) -> str:
    return next((item for item in argv if not item.startswith("-")), "")


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_in(argv)).parse_args(argv)
    from guardrails_core.check import InputTooLarge, configure_caches, configure_fingerprints
    from guardrails_core.cli_commands import UsageError
    from guardrails_core.discovery import DiscoveryError
    from guardrails_core.policy import PolicyError
    from guardrails_core.settings import Settings, SettingsError

    handler = args.handler
    if isinstance(handler, str):
        module, _, name = handler.partition(":")
        handler = getattr(importlib.import_module(module), name)
    try:
        settings = Settings.load()
        configure_caches(settings.cache_size)
        configure_fingerprints(settings.fingerprint_secret())
        return int(handler(args, settings, out, stdin))
    except (UsageError, SettingsError, InputTooLarge, DiscoveryError) as error:
        sys.stderr.write(f"access-guardrails: {error}\n")
        return EXIT_USAGE
    except PolicyError as error:
        sys.stderr.write(f"access-guardrails: invalid policy\n{error}\n")
        return EXIT_USAGE
    except OSError as error:
        sys.stderr.write(f"access-guardrails: {error}\n")
        return EXIT_USAGE


_MOVED = frozenset({"UsageError", "context_from_mapping", "policy_cases"})


def __getattr__(name: str) -> Any:
    """`context_from_mapping`, `policy_cases` and `UsageError` live in cli_commands now."""
    if name in _MOVED:
        return getattr(importlib.import_module("guardrails_core.cli_commands"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["build_parser", "main"]
