"""``access-guardrails audit``: list, show, verify, export and count the audit trail.

``register(subparsers)`` adds the command group to the main CLI; ``run(args)`` executes it.
``python -m guardrails_core.audit`` runs the group on its own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from guardrails_core.model import ActorKind, Intent, Verdict

from .errors import AuditUnavailable, RecordNotFound
from .export import EXPORT_FORMATS, export_records, record_json
from .records import AuditFilter, AuditRecord, AuditStats, Outcome, RecordKind
from .redact import iso_utc
from .store import AuditStore

EXIT_OK = 0
EXIT_PROBLEM = 1  # verify failed, record not found
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``audit`` command group to ``subparsers`` (of ``ArgumentParser.add_subparsers``)."""
    audit: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="inspect, verify and export the audit trail",
        description="Inspect, verify and export the audit trail of guardrail decisions.",
    )
    audit.set_defaults(audit_handler=None)
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND")

    listing = commands.add_parser("list", help="list records, newest first")
    _store_options(listing)
    _filter_options(listing)
    listing.add_argument(
        "--limit", type=int, default=50, help="at most this many records (default 50)"
    )
    listing.add_argument("--oldest-first", action="store_true", help="oldest records first")
    listing.add_argument("--json", action="store_true", help="one JSON record per line")
    listing.set_defaults(audit_handler=_list)

    show = commands.add_parser("show", help="show a decision and its outcomes")
    _store_options(show)
    show.add_argument("id", help="record id (or a unique prefix of one), or decision id")
    show.add_argument("--json", action="store_true", help="the records as JSON")
    show.set_defaults(audit_handler=_show)

    verify = commands.add_parser("verify", help="check the hash chain; exit 1 if it is broken")
    _store_options(verify)
    verify.add_argument("--json", action="store_true", help="the result as JSON")
    verify.add_argument(
        "--anchor",
        type=Path,
        help="also check the chain heads against this checkpoint file (default: "
        "GUARDRAILS_AUDIT_ANCHOR); catches truncation, rollback, re-creation, dropped chains",
    )
    verify.set_defaults(audit_handler=_verify)

    export = commands.add_parser("export", help="export records as JSON lines, CSV or OpenLineage")
    _store_options(export)
    _filter_options(export)
    export.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl", help="default: jsonl")
    export.add_argument("--output", "-o", type=Path, help="write to this file (default: stdout)")
    export.add_argument(
        "--emit",
        action="store_true",
        help="with --format openlineage: send the events through the OpenLineage client, "
        "configured the standard way (openlineage.yml, OPENLINEAGE_CONFIG, OPENLINEAGE_URL, "
        "OPENLINEAGE__TRANSPORT__*), instead of writing them",
    )
    export.set_defaults(audit_handler=_export)

    stats = commands.add_parser(
        "stats", help="counts per verdict, state, intent, rule, pipeline, time"
    )
    _store_options(stats)
    _filter_options(stats)
    stats.add_argument("--bucket", choices=("hour", "day", "week", "month"), default="day")
    stats.add_argument("--json", action="store_true", help="the counts as JSON")
    stats.set_defaults(audit_handler=_stats)
    return audit


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Execute a parsed ``audit`` command; the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    handler: Callable[[AuditStore, argparse.Namespace, TextIO], int] | None = getattr(
        args, "audit_handler", None
    )
    if handler is None:
        err.write("usage: access-guardrails audit {list,show,verify,export,stats} ...\n")
        return EXIT_USAGE
    try:
        filters = _filters(args) if hasattr(args, "verdict") else None
    except ValueError as error:
        err.write(f"access-guardrails audit: {error}\n")
        return EXIT_USAGE
    args.filters = filters
    try:
        with _open_store(args) as store:
            return handler(store, args, out)
    except AuditUnavailable as error:
        err.write(f"{error}\n")
        return EXIT_UNAVAILABLE
    except RecordNotFound as error:
        err.write(f"{error.args[0]}\n")
        return EXIT_PROBLEM


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="access-guardrails")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


# ---------------------------------------------------------------------- options


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        help="audit store URL (default: GUARDRAILS_AUDIT_URL, or audit.sqlite3 in GUARDRAILS_HOME)",
    )


def _filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument(
        "--verdict", action="append", choices=[v.value for v in Verdict], help="repeatable"
    )
    group.add_argument(
        "--intent", action="append", choices=[i.value for i in Intent], help="repeatable, any of"
    )
    group.add_argument(
        "--state", action="append", choices=[s.value for s in Outcome], help="repeatable"
    )
    group.add_argument("--rule", help="a rule id among the decision's reasons")
    group.add_argument("--pipeline")
    group.add_argument("--task")
    group.add_argument("--run-id")
    group.add_argument("--actor-kind", choices=[a.value for a in ActorKind])
    group.add_argument("--environment")
    group.add_argument("--decision-id")
    group.add_argument("--fingerprint")
    group.add_argument(
        "--kind", choices=[k.value for k in RecordKind], help="decisions or outcomes only"
    )
    group.add_argument("--since", help="ISO date/time (UTC unless given) or age: 30m, 24h, 7d, 2w")
    group.add_argument("--until", help="same forms as --since; exclusive")


def _filters(args: argparse.Namespace) -> AuditFilter:
    return AuditFilter(
        verdicts=tuple(Verdict(v) for v in args.verdict or ()),
        intents=tuple(Intent(i) for i in args.intent or ()),
        states=tuple(Outcome(s) for s in args.state or ()),
        rule=args.rule,
        pipeline=args.pipeline,
        task=args.task,
        run_id=args.run_id,
        actor_kind=ActorKind(args.actor_kind) if args.actor_kind else None,
        environment=args.environment,
        decision_id=args.decision_id,
        fingerprint=args.fingerprint,
        kind=RecordKind(args.kind) if args.kind else None,
        since=parse_when(args.since, "--since") if args.since else None,
        until=parse_when(args.until, "--until") if args.until else None,
    )


def parse_when(text: str, option: str = "time", *, now: datetime | None = None) -> datetime:
    """``2025-01-31``, ``2025-01-31T12:00``, ``...Z`` / ``+02:00``, or an age like ``24h``."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = relative.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{option} {text!r}: expected an ISO date or time (2025-01-31, 2025-01-31T12:00Z) "
            "or an age (30m, 24h, 7d, 2w)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _open_store(args: argparse.Namespace) -> AuditStore:
    settings = getattr(args, "settings", None)
    if settings is None:
        from guardrails_core.settings import Settings

        settings = Settings.load()
    if args.url:
        settings = settings.model_copy(update={"audit_url": args.url})
    return AuditStore.open(settings, create=False)


# ---------------------------------------------------------------------- commands


def _list(store: AuditStore, args: argparse.Namespace, out: TextIO) -> int:
    filters = args.filters.model_copy(
        update={"limit": args.limit, "newest_first": not args.oldest_first}
    )
    records = store.query(filters)
    if args.json:
        for record in records:
            out.write(json.dumps(record_json(record), ensure_ascii=False, sort_keys=True) + "\n")
        return EXIT_OK
    rows = [_list_row(record) for record in records]
    header = (
        "RECORDED (UTC)",
        "RECORD",
        "STATE",
        "VERDICT",
        "INTENTS",
        "RULE",
        "PIPELINE/TASK",
        "ACTOR",
        "COMMAND",
    )
    _table(out, header, rows, last_width=70)
    if not records:
        out.write("no records match\n")
    return EXIT_OK


def _list_row(record: AuditRecord) -> tuple[str, ...]:
    subject = record.subject
    if record.decision is not None:
        what = record.decision.command.text
    else:
        by = f" by {record.actor}" if record.actor else ""
        detail = f": {record.detail}" if record.detail else ""
        what = f"outcome of {record.decision_record_id[:12]}{by}{detail}"
    where = "/".join(part for part in (subject.pipeline, subject.task) if part) or "-"
    actor = subject.actor_kind.value + (f":{subject.actor_id}" if subject.actor_id else "")
    return (
        _clock(record.recorded_at),
        record.record_id[:12],
        record.state.value,
        subject.verdict.value,
        ",".join(intent.value for intent in subject.intents) or "-",
        subject.deciding_rule or "-",
        where,
        actor,
        " ".join(what.split()),
    )


def _show(store: AuditStore, args: argparse.Namespace, out: TextIO) -> int:
    record = store.find(args.id)
    history = store.history(record.decision_record_id)
    if args.json:
        out.write(
            json.dumps([record_json(item) for item in history], ensure_ascii=False, indent=2) + "\n"
        )
        return EXIT_OK
    head = history[0] if history and history[0].kind is RecordKind.DECISION else record
    subject = head.subject
    lines = [
        ("record", f"{head.record_id} ({head.kind.value}, chain {head.chain} seq {head.seq})"),
        ("recorded", f"{_clock(head.recorded_at)} UTC"),
        ("state", " -> ".join(item.state.value for item in history)),
        ("verdict", f"{subject.verdict.value} ({subject.mode.value} mode)"),
        ("intents", ", ".join(intent.value for intent in subject.intents) or "-"),
        ("pipeline", " / ".join(p for p in (subject.pipeline, subject.task) if p) or "-"),
        ("run", subject.run_id or "-"),
        ("actor", subject.actor_kind.value + (f" {subject.actor_id}" if subject.actor_id else "")),
        ("environment", subject.environment or "-"),
        ("decision id", subject.decision_id),
        ("fingerprint", subject.fingerprint),
    ]
    decision = head.decision
    if decision is not None:
        lines.append(("policy", f"{decision.policy.id} (sha256 {decision.policy.sha256[:16]}...)"))
        for reason in decision.reasons:
            lines.append(("reason", f"{reason.rule_id}: {reason.decision.value}: {reason.message}"))
        dialect = f", {decision.command.dialect}" if decision.command.dialect else ""
        form = head.text_form.value if head.text_form else "?"
        lines.append(
            ("command", f"[{decision.command.kind.value}{dialect}, {form}] {decision.command.text}")
        )
    lines.append(("hash", f"{head.hash} (prev {head.prev_hash[:16]}...)"))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        out.write(f"{label:<{width}}  {value}\n")
    out.write("\nhistory:\n")
    for item in history:
        by = f" by {item.actor}" if item.actor else ""
        detail = f": {item.detail}" if item.detail else ""
        marker = "*" if item.record_id == record.record_id else " "
        out.write(
            f" {marker} {_clock(item.recorded_at)}  {item.state.value}{by}{detail}"
            f"  [{item.record_id}]\n"
        )
    return EXIT_OK


def _verify(store: AuditStore, args: argparse.Namespace, out: TextIO) -> int:
    anchor = args.anchor or store.anchor
    result = store.verify(anchor)
    if args.json:
        out.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.write(f"{store.display_url}: {result.summary()}\n")
        if anchor is None:
            out.write(
                "  no anchor: a cut tail, a restored older copy or a re-created store cannot "
                "be seen; set GUARDRAILS_AUDIT_ANCHOR or pass --anchor\n"
            )
        for problem in result.problems:
            out.write(f"  {problem.where}: {problem.kind.value}: {problem.message}\n")
        if result.ok:
            for head in result.heads:
                if head.seq:
                    out.write(f"  chain {head.chain}: {head.seq} records, head {head.hash}\n")
    return EXIT_OK if result.ok else EXIT_PROBLEM


def _export(store: AuditStore, args: argparse.Namespace, out: TextIO) -> int:
    records = store.iter_records(args.filters)
    if args.emit:
        if args.format != "openlineage" or args.output is not None:
            sys.stderr.write("audit export: --emit needs --format openlineage and no --output\n")
            return EXIT_USAGE
        from .lineage_emit import LineageClientMissing, emit_openlineage

        try:
            count = emit_openlineage(records)
        except LineageClientMissing as error:
            sys.stderr.write(f"audit export: {error}\n")
            return EXIT_USAGE
        sys.stderr.write(f"emitted {count} OpenLineage events\n")
        return EXIT_OK
    if args.output is None:
        export_records(records, args.format, out)
        return EXIT_OK
    with args.output.open("w", encoding="utf-8", newline="") as target:
        count = export_records(records, args.format, target)
    sys.stderr.write(f"exported {count} records to {args.output}\n")
    return EXIT_OK


def _stats(store: AuditStore, args: argparse.Namespace, out: TextIO) -> int:
    stats = store.stats(args.filters, bucket=args.bucket)
    if args.json:
        out.write(json.dumps(stats.to_dict(), indent=2) + "\n")
        return EXIT_OK
    _write_stats(stats, out)
    return EXIT_OK


def _write_stats(stats: AuditStats, out: TextIO) -> None:
    out.write(f"{stats.decisions} decisions, {stats.outcomes} outcomes\n")
    for title, counts in (
        ("verdict", stats.by_verdict),
        ("state", stats.by_state),
        ("intent", stats.by_intent),
        ("deciding rule", stats.by_rule),
        ("pipeline", stats.by_pipeline),
        ("actor kind", stats.by_actor_kind),
    ):
        if counts:
            out.write(f"\nby {title}:\n")
            width = max(len(name) for name in counts)
            for name, count in counts.items():
                out.write(f"  {name:<{width}}  {count:>8}\n")
    if stats.timeline:
        verdicts = [verdict.value for verdict in Verdict]
        out.write(f"\nper {stats.bucket} (decisions):\n")
        rows = [
            (
                start.replace("T00:00:00Z", "").replace(":00:00Z", "h"),
                *(str(counts.get(v, 0)) for v in verdicts),
            )
            for start, counts in stats.timeline.items()
        ]
        _table(out, (stats.bucket.upper(), *(v.upper() for v in verdicts)), rows, indent="  ")


# ---------------------------------------------------------------------- formatting


def _clock(moment: datetime) -> str:
    return iso_utc(moment)[:19].replace("T", " ")


def _table(
    out: TextIO,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    last_width: int = 0,
    indent: str = "",
) -> None:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    if last_width:
        widths[-1] = min(widths[-1], last_width)
    for row in (header, *rows):
        cells = []
        for i, cell in enumerate(row):
            text = str(cell)
            if last_width and i == len(row) - 1 and len(text) > last_width:
                text = text[: last_width - 3] + "..."
            cells.append(text.ljust(widths[i]) if i < len(row) - 1 else text)
        out.write(indent + "  ".join(cells).rstrip() + "\n")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
