"""The `access-guardrails` command: check commands, work with policies, read the audit trail.

Exit codes of `check`: 0 allow (or not enforced), 1 deny, 3 review, 2 usage or policy error.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from guardrails_core import agent_hooks
from guardrails_core.check import (
    InputTooLarge,
    check,
    check_input_bounds,
    configure_caches,
    configure_fingerprints,
)
from guardrails_core.intent import UnknownDialectError, analyze, resolve_dialect
from guardrails_core.model import (
    Actor,
    ActorKind,
    Approval,
    CommandKind,
    Context,
    DataScope,
    Decision,
    Mode,
    Verdict,
    fingerprint_text,
)
from guardrails_core.policy import Policy, PolicyError, baseline_policy, load_policy
from guardrails_core.policy.engine import explain_match
from guardrails_core.render import render_text
from guardrails_core.settings import Settings, SettingsError

EXIT_ALLOW, EXIT_DENY, EXIT_USAGE, EXIT_REVIEW = 0, 1, 2, 3
_EXIT_FOR = {Verdict.ALLOW: EXIT_ALLOW, Verdict.DENY: EXIT_DENY, Verdict.REVIEW: EXIT_REVIEW}


class UsageError(Exception):
    """Bad arguments or input: exit code 2 with the message."""


# --------------------------------------------------------------------------- context from flat keys

_CONTEXT_KEYS = {
    "actor": "actor kind: human, service or ai_agent",
    "actor_id": "who: a user, service account or agent name",
    "ai_model": "the AI model that generated the command",
    "environment": "e.g. prod",
    "env": "alias of environment",
    "orchestrator": "airflow, prefect, cli, ...",
    "pipeline": "DAG id or flow name",
    "task": "task id",
    "run_id": "run id",
    "try_number": "attempt number",
    "owner": "owner of the task",
    "connection": "connection id",
    "default_schema": "schema of unqualified names",
    "default_catalog": "catalog (database) of unqualified names",
    "tags": "comma-separated tags",
    "tag": "one tag (repeatable)",
    "ticket": "a change ticket id (repeatable)",
    "approved_by": "an approver of this exact command (repeatable)",
    "scope": "the step's data scope (a scope name from the policy)",
}


def context_from_mapping(values: Mapping[str, Any], *, fingerprint: str) -> Context:
    """A Context from flat keys (CLI `--context k=v`, batch lines). Lists allowed for repeats."""
    fields: dict[str, Any] = {}
    actor: dict[str, Any] = {}
    tags: list[str] = []
    tickets: list[str] = []
    approvals: list[Approval] = []
    labels: list[tuple[str, str]] = []
    for key, raw in values.items():
        items = raw if isinstance(raw, list | tuple) else [raw]
        for value in items:
            text = "" if value is None else str(value)
            if key == "actor":
                if isinstance(value, Mapping):
                    actor.update(value)
                else:
                    actor["kind"] = text
            elif key == "actor_id":
                actor["id"] = text
            elif key == "ai_model":
                actor["model"] = text
            elif key in ("env", "environment"):
                fields["environment"] = text
            elif key in ("tags", "tag"):
                tags.extend(part.strip() for part in text.split(",") if part.strip())
            elif key in ("ticket", "tickets"):
                tickets.append(text)
            elif key == "approved_by":
                approvals.append(Approval(approver=text, fingerprint=fingerprint, source="cli"))
            elif key == "scope":
                fields["data_scope"] = DataScope(name=text)
            elif key.startswith("label."):
                labels.append((key.removeprefix("label."), text))
            elif key in _CONTEXT_KEYS:
                fields[key] = text
            else:
                suggestion = difflib.get_close_matches(key, list(_CONTEXT_KEYS), n=1)
                hint = f" (did you mean {suggestion[0]!r}?)" if suggestion else ""
                raise UsageError(
                    f"unknown context key {key!r}{hint}; known keys: "
                    f"{', '.join(sorted(_CONTEXT_KEYS))}, label.NAME"
                )
    try:
        return Context(
            actor=Actor(**actor) if actor else Actor(kind=ActorKind.HUMAN),
            tags=tuple(tags),
            tickets=tuple(tickets),
            approvals=tuple(approvals),
            labels=tuple(labels),
            **fields,
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        raise UsageError(f"invalid context: {problems}") from None


def _pairs(items: Sequence[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--context expects KEY=VALUE, got {item!r}")
        values.setdefault(key.strip(), []).append(value)
    return values


# --------------------------------------------------------------------------- shared helpers


def _load(policy_path: str | None, settings: Settings) -> Policy:
    path = policy_path or (str(settings.policy) if settings.policy else None)
    return load_policy(path) if path else baseline_policy()


def _read_text(argument: str, stdin: TextIO) -> str:
    return stdin.read() if argument == "-" else argument


def _check_dialect(name: str | None) -> str | None:
    try:
        return resolve_dialect(name)
    except UnknownDialectError as error:
        raise UsageError(str(error)) from None


def _decide(
    args: argparse.Namespace,
    text: str,
    kind: str | None,
    dialect: str | None,
    context_values: Mapping[str, Any],
    policy: Policy,
    settings: Settings,
) -> Decision:
    check_input_bounds(text, max_bytes=settings.max_input_bytes, max_depth=settings.max_input_depth)
    context = context_from_mapping(context_values, fingerprint=fingerprint_text(text))
    if context.environment is None and settings.environment:
        context = context.model_copy(update={"environment": settings.environment})
    context = context.model_copy(update={"orchestrator": context.orchestrator or "cli"})
    mode = Mode(args.mode) if getattr(args, "mode", None) else settings.mode
    # The CLI and agent hooks judge commands about to run on this host: symlinks are checkable.
    return check(
        text,
        kind=kind,
        dialect=_check_dialect(dialect),
        policy=policy,
        context=context,
        mode=mode,
        local_paths=True,
    )


def _exit_code(decisions: Iterable[Decision]) -> int:
    worst = EXIT_ALLOW
    for decision in decisions:
        if not decision.enforced:
            continue
        code = _EXIT_FOR[decision.decision]
        if code == EXIT_DENY or (code == EXIT_REVIEW and worst == EXIT_ALLOW):
            worst = code
    return worst


def _record(decisions: list[Decision], settings: Settings) -> list[Decision]:
    """Write decisions to the audit trail in one commit. If that fails, nothing may run: the
    decisions come back denied (unless GUARDRAILS_AUDIT_ON_FAILURE=audit)."""
    from guardrails_core.audit import AuditStore, AuditUnavailable
    from guardrails_core.guard import Guard

    try:
        with AuditStore.open(settings) as store:
            store.record_many(decisions)
    except AuditUnavailable as error:
        sys.stderr.write(f"access-guardrails: {error}\n")
        guard = Guard(settings=settings, policy=baseline_policy(), record=False)
        return [guard.unrecorded(decision, error) for decision in decisions]
    return decisions


# --------------------------------------------------------------------------- commands


def cmd_check(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    policy = _load(args.policy, settings)
    if args.batch:
        return _check_batch(args, policy, settings, out, stdin)
    if args.text is None:
        raise UsageError("check needs a command TEXT (or - for stdin), or --batch FILE")
    text = _read_text(args.text, stdin)
    decision = _decide(args, text, args.kind, args.dialect, _pairs(args.context), policy, settings)
    if args.record:
        decision = _record([decision], settings)[0]
    if args.format == "json":
        out.write(decision.to_json(indent=2) + "\n")
    else:
        out.write(render_text(decision, colour=_colour(out), verbose=args.verbose) + "\n")
    return _exit_code([decision])


def cmd_hook(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    """A coding agent's hook: translate its tool call, judge it, answer in its protocol.

    Whatever prevents a judgement (bad input, a policy error, a crash, the deadline) blocks the
    call: exit 2 with the reason on stderr, which the agent shows to the model."""
    translate, answer = agent_hooks.PROTOCOLS[args.protocol]
    try:
        with agent_hooks.deadline(agent_hooks.DEADLINE):
            payload = agent_hooks.read_payload(stdin.read(agent_hooks.MAX_PAYLOAD + 1))
            calls = translate(payload)
            policy = _load(args.policy, settings)
            context = agent_hooks.agent_context(payload, args.protocol)
            decisions = [
                check(
                    call.text,
                    kind=call.kind,
                    dialect=call.dialect,
                    policy=policy,
                    context=context.model_copy(update={"fingerprint": fingerprint_text(call.text)}),
                )
                for call in calls
            ]
            if args.record and decisions:
                decisions = _record(decisions, settings)
            reply = answer(decisions)
    except Exception as error:  # fail closed: nothing the hook cannot judge may run
        sys.stderr.write(f"access-guardrails blocked this tool call: {error}\n")
        return EXIT_USAGE
    if reply is not None:
        out.write(json.dumps(reply) + "\n")
    return 0


def cmd_mcp(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.mcp_server import ConnectionsError, Gateway, build_server, load_connections

    try:
        gateway = Gateway(load_connections(Path(args.connections)), agent=args.agent)
    except ConnectionsError as error:
        raise UsageError(str(error)) from None
    try:
        build_server(gateway).run("stdio")
    finally:
        gateway.close()
    return 0


def _check_batch(
    args: argparse.Namespace, policy: Policy, settings: Settings, out: TextIO, stdin: TextIO
) -> int:
    source = stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
    decisions: list[Decision] = []
    # Output keeps input order; with --record it is written once every decision is recorded.
    lines: list[str | Decision] = []
    failed = False
    with source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise UsageError("each line is a JSON object with a string 'text'")
                decision = _decide(
                    args,
                    item["text"],
                    item.get("kind") or args.kind,
                    item.get("dialect") or args.dialect,
                    item.get("context") or {},
                    policy,
                    settings,
                )
            except (json.JSONDecodeError, UsageError, ValueError) as error:
                failed = True
                lines.append(json.dumps({"line": number, "error": str(error)}))
                continue
            decisions.append(decision)
            lines.append(decision)
    if args.record:
        recorded = iter(_record(decisions, settings))
        lines = [line if isinstance(line, str) else next(recorded) for line in lines]
    for entry in lines:
        out.write((entry if isinstance(entry, str) else entry.to_json()) + "\n")
    decisions = [entry for entry in lines if not isinstance(entry, str)]
    return EXIT_USAGE if failed else _exit_code(decisions)


def cmd_gate(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.gate import gate_file, render, sql_files

    policy = _load(args.policy, settings)
    context = Context(orchestrator="ci")
    files = list(sql_files(args.paths))
    if not files:
        raise UsageError(f"gate found no SQL files in {', '.join(args.paths)}")
    findings = []
    exit_code = EXIT_ALLOW
    for path in files:
        decision, found = gate_file(
            path, policy=policy, dialect=_check_dialect(args.dialect), context=context
        )
        findings.extend(found)
        exit_code = max(exit_code, EXIT_DENY) if decision is None else exit_code
        if decision is not None:
            code = _exit_code([decision])
            if code == EXIT_DENY or (code == EXIT_REVIEW and exit_code == EXIT_ALLOW):
                exit_code = code
    out.write(render(findings, len(files), args.format) + "\n")
    return exit_code


def cmd_analyze(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    text = _read_text(args.text, stdin)
    analysis = analyze(
        text, kind=args.kind or CommandKind.SQL, dialect=_check_dialect(args.dialect)
    )
    out.write(analysis.model_dump_json(indent=2) + "\n")
    return 0


def cmd_policy_validate(
    args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO
) -> int:
    worst = 0
    for path in args.files:
        try:
            policy = load_policy(path)
        except PolicyError as error:
            out.write(f"{error}\n")
            worst = EXIT_USAGE
            continue
        own = len(policy.spec.rules)
        out.write(
            f"ok: {path}: policy {policy.id!r}, {own} rule{'s' * (own != 1)}, "
            f"{len(policy.scopes)} scope{'s' * (len(policy.scopes) != 1)}, "
            f"baseline {'on' if policy.baseline_included else 'off'}, "
            f"mode {policy.mode.value}\n"
        )
    return worst


def cmd_policy_test(
    args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO
) -> int:
    policy = load_policy(args.file) if args.file else baseline_policy()
    failures = total = 0
    for case in policy_cases(policy, include_baseline=not args.file):
        total += 1
        context = context_from_mapping(case.context, fingerprint=fingerprint_text(case.text))
        decision = check(
            case.text,
            kind=case.kind,
            dialect=case.dialect,
            policy=policy,
            context=context,
            mode=Mode.ENFORCE,
        )
        rule = decision.deciding_reason.rule_id if decision.deciding_reason else "-"
        ok = decision.decision is case.expect and (case.rule is None or case.rule == rule)
        failures += not ok
        if not ok or args.verbose:
            status = "PASS" if ok else "FAIL"
            expected = case.expect.value + (f" by {case.rule}" if case.rule else "")
            out.write(
                f"{status} {case.origin}: {case.text[:70]!r} expected {expected}, got "
                f"{decision.decision.value} by {rule}\n"
            )
    out.write(f"{total - failures} of {total} policy examples pass\n")
    return 1 if failures else 0


class _Case:
    def __init__(
        self,
        origin: str,
        text: str,
        expect: Verdict,
        kind: CommandKind | None,
        dialect: str | None,
        context: dict[str, Any],
        rule: str | None,
    ) -> None:
        self.origin, self.text, self.expect, self.kind = origin, text, expect, kind
        self.dialect, self.context, self.rule = dialect, context, rule


def policy_cases(policy: Policy, *, include_baseline: bool = True) -> list[_Case]:
    """Every example of the policy's rules (and the baseline's) and every policy test.

    A policy's own rules may deliberately change what the baseline decides, so the baseline's
    examples are only checked against the baseline itself.
    """
    cases: list[_Case] = []
    for rule in policy.rules:
        if rule.origin == "baseline" and not include_baseline:
            continue
        for verdict in Verdict:
            for example in getattr(rule.spec.examples, verdict.value):
                cases.append(
                    _Case(
                        f"{rule.id} example",
                        example.text,
                        verdict,
                        example.kind,
                        example.dialect,
                        example.context,
                        None,
                    )
                )
    for position, test in enumerate(policy.spec.tests):
        cases.append(
            _Case(
                f"tests[{position}]",
                test.text,
                test.expect,
                test.kind,
                test.dialect,
                test.context,
                test.rule,
            )
        )
    return cases


def cmd_policy_explain(
    args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO
) -> int:
    policy = _load(args.policy, settings)
    text = _read_text(args.text, stdin)
    decision = _decide(args, text, args.kind, args.dialect, _pairs(args.context), policy, settings)
    out.write(render_text(decision, verbose=True) + "\n\n")
    out.write(
        f"policy {policy.id!r}: {len(policy.rules)} rules in order "
        f"({len(policy.spec.rules)} own, then the baseline)\n"
    )
    for statement in decision.statements:
        for effect in statement.walk():
            label = "statement" if effect is statement else "  embedded"
            out.write(
                f"\n{label} {statement.index + 1}: {effect.operation} "
                f"[{', '.join(i.value for i in effect.intents) or 'no intents'}]\n"
            )
            for rule in policy.rules:
                matched, why = explain_match(rule, effect, decision.context)
                if matched is None:
                    if args.verbose:
                        out.write(f"    skip {rule.id}: {why}\n")
                    continue
                out.write(
                    f"    MATCH {rule.id} ({rule.origin}) -> {rule.decision.value}"
                    + (f" on {', '.join(matched)}" if matched else "")
                    + "\n"
                )
                break
    if decision.reasons and decision.reasons[0].rule_id.startswith("scope:"):
        out.write(f"\ndata scope: {decision.reasons[0].message}\n")
    out.write(f"\nverdict: {decision.decision.value}\n")
    return _exit_code([decision])


def cmd_audit(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.audit import cli as audit_cli

    args.settings = settings
    return audit_cli.run(args, out=out)


def cmd_schema(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    from guardrails_core.schema import decision_json_schema, policy_json_schema

    schema = policy_json_schema() if args.policy else decision_json_schema()
    out.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return 0


# --------------------------------------------------------------------------- parser


def _colour(out: TextIO) -> bool:
    return bool(getattr(out, "isatty", lambda: False)())


def _common(parser: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="access-guardrails",
        description="Runtime execution guardrails for data pipelines: check what a SQL or shell "
        "command will do, before it runs.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check_parser = commands.add_parser("check", help="judge a command against a policy")
    check_parser.add_argument("text", nargs="?", help="the command, or - to read stdin")
    _common(check_parser)
    check_parser.add_argument("--format", choices=["text", "json"], default="text")
    check_parser.add_argument(
        "--batch",
        metavar="FILE.jsonl",
        help="one JSON object per line: text, kind, dialect, context",
    )
    check_parser.add_argument(
        "--record", action="store_true", help="write each decision to the audit trail"
    )
    check_parser.set_defaults(handler=cmd_check)

    gate_parser = commands.add_parser(
        "gate", help="CI: judge every statement of SQL files and folders (file:line per block)"
    )
    gate_parser.add_argument("paths", nargs="+", help="SQL files or folders (e.g. target/compiled)")
    gate_parser.add_argument("--dialect", help="SQL dialect: postgres, mysql, sqlite, ...")
    gate_parser.add_argument("--policy", help="policy file (default: $GUARDRAILS_POLICY)")
    gate_parser.add_argument("--format", choices=["text", "json", "github"], default="text")
    gate_parser.set_defaults(handler=cmd_gate)

    analyze_parser = commands.add_parser("analyze", help="print what a command will do (JSON)")
    analyze_parser.add_argument("text", help="the command, or - to read stdin")
    analyze_parser.add_argument("--kind", choices=[kind.value for kind in CommandKind])
    analyze_parser.add_argument("--dialect")
    analyze_parser.set_defaults(handler=cmd_analyze)

    policy_parser = commands.add_parser("policy", help="validate, test or explain policies")
    policy_commands = policy_parser.add_subparsers(dest="policy_command", required=True)
    validate = policy_commands.add_parser("validate", help="check policy files for errors")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(handler=cmd_policy_validate)
    test = policy_commands.add_parser("test", help="run the examples and tests of a policy")
    test.add_argument("file", nargs="?", help="policy file (default: the baseline)")
    test.add_argument("-v", "--verbose", action="store_true")
    test.set_defaults(handler=cmd_policy_test)
    explain = policy_commands.add_parser("explain", help="show how each rule judges a command")
    explain.add_argument("text", help="the command, or - to read stdin")
    _common(explain)
    explain.set_defaults(handler=cmd_policy_explain)

    hook_parser = commands.add_parser(
        "hook",
        help="judge a coding agent's tool call before it runs (exit 2 blocks, on any failure)",
    )
    hook_parser.add_argument("protocol", choices=sorted(agent_hooks.PROTOCOLS))
    hook_parser.add_argument("--policy", action="append", metavar="FILE")
    hook_parser.add_argument(
        "--record", action="store_true", help="write each decision to the audit trail first"
    )
    hook_parser.set_defaults(handler=cmd_hook)

    mcp_parser = commands.add_parser(
        "mcp", help="serve guarded database tools to an AI agent over MCP (stdio)"
    )
    mcp_parser.add_argument(
        "--connections", required=True, metavar="FILE", help="YAML: name -> {url: ...}"
    )
    mcp_parser.add_argument("--agent", default="mcp-client", help="the agent's name in records")
    mcp_parser.set_defaults(handler=cmd_mcp)

    schema_parser = commands.add_parser(
        "schema", help="print the JSON schema of a Decision (or, with --policy, of policy files)"
    )
    schema_parser.add_argument(
        "--policy", action="store_true", help="the policy file format, for editors"
    )
    schema_parser.set_defaults(handler=cmd_schema)

    from guardrails_core.audit import cli as audit_cli

    audit_cli.register(commands).set_defaults(handler=cmd_audit)
    from guardrails_core.impact import cli as impact_cli

    impact_cli.register(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.load()
        configure_caches(settings.cache_size)
        configure_fingerprints(settings.fingerprint_secret())
        return int(args.handler(args, settings, out, stdin))
    except (UsageError, SettingsError, InputTooLarge) as error:
        sys.stderr.write(f"access-guardrails: {error}\n")
        return EXIT_USAGE
    except PolicyError as error:
        sys.stderr.write(f"access-guardrails: invalid policy\n{error}\n")
        return EXIT_USAGE
    except OSError as error:
        sys.stderr.write(f"access-guardrails: {error}\n")
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["build_parser", "context_from_mapping", "main", "policy_cases"]
