"""`access-guardrails undo` and `access-guardrails trash`: put a change back, manage backups.

    access-guardrails undo DECISION_ID [--url DB_URL]
    access-guardrails trash list  --url DB_URL [--all] [--json]
    access-guardrails trash purge --url DB_URL [--older-than 7d] [--dry-run]

`register(subparsers)` adds both commands to the main CLI. An undo is recorded in the audit
trail as an `undone` outcome of the decision; when the trail cannot record it, nothing is undone.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from guardrails_core.impact.backups import BackupEntry
from guardrails_core.impact.undo import UndoRefused, UndoReport, list_backups, purge, undo

if TYPE_CHECKING:
    from guardrails_core.audit import AuditStore
    from guardrails_core.settings import Settings

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

_Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]


class CommandError(Exception):
    """A problem the command reports with `exit_code` (the message is for people)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> list[argparse.ArgumentParser]:
    """Add `undo` and `trash` to `subparsers` (of the main parser); the two parsers, on which
    the main CLI sets its own handler (`main_handler`)."""
    undo_parser = subparsers.add_parser(
        "undo",
        help="put back what a decision's command changed or dropped",
        description="Restore the pre-image of the rows a command changed, or the table it "
        "dropped, from the backups kept when it ran. Refuses (changing nothing) when rows "
        "changed since, the table was re-created, or the backup expired.",
    )
    undo_parser.add_argument("decision_id", help="the decision id (see `audit list`)")
    _database_option(undo_parser, required=False)
    undo_parser.add_argument(
        "--audit-url", help="audit store URL (default: GUARDRAILS_AUDIT_URL or the local store)"
    )
    undo_parser.add_argument("--actor", help="who undoes it, for the audit trail (default: you)")
    undo_parser.set_defaults(impact_handler=_undo_command, handler=main_handler)

    trash = subparsers.add_parser("trash", help="list or purge kept backups and quarantined tables")
    trash.set_defaults(handler=main_handler)
    commands = trash.add_subparsers(dest="trash_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="backups and quarantined tables, oldest first")
    _database_option(listing, required=True)
    listing.add_argument("--all", action="store_true", help="also restored and purged ones")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(impact_handler=_trash_list)
    purging = commands.add_parser(
        "purge", help="destroy expired backups (or older ones, with --older-than)"
    )
    _database_option(purging, required=True)
    purging.add_argument(
        "--older-than", metavar="AGE", help="also backups taken longer ago than this: 12h, 7d, 2w"
    )
    purging.add_argument("--dry-run", action="store_true", help="only list what would go")
    purging.set_defaults(impact_handler=_trash_purge)
    return [undo_parser, trash]


def _database_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--url",
        required=required,
        help="SQLAlchemy URL of the database the command ran on (postgresql+psycopg://..., "
        "mysql+pymysql://..., sqlite:///...)"
        + ("" if required else "; default: the one recorded with the decision's backups"),
    )


def main_handler(args: argparse.Namespace, settings: Settings, out: TextIO, stdin: TextIO) -> int:
    """The main CLI's handler for `undo` and `trash` (its handler signature)."""
    args.settings = settings
    return run(args, out=out)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Execute a parsed `undo` or `trash` command; the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    handler: _Handler = args.impact_handler
    try:
        return handler(args, out, err)
    except CommandError as error:
        err.write(f"access-guardrails: {error}\n")
        return error.exit_code


# --------------------------------------------------------------------------- undo


def _undo_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from guardrails_core.audit import AuditUnavailable, Outcome, RecordNotFound

    with _audit_store(args) as store:
        try:
            record = store.find(args.decision_id)
        except AuditUnavailable as error:
            raise CommandError(f"{error}\nnothing was undone", EXIT_UNAVAILABLE) from None
        except RecordNotFound:
            raise CommandError(
                f"decision {args.decision_id} is not in the audit trail at {store.display_url}; "
                "an undo is recorded next to its decision: point --audit-url at that store",
                EXIT_REFUSED,
            ) from None
        decision_id = record.decision_id
        url = args.url or _recorded_database(store, record.decision_record_id)
        if url is None:
            raise CommandError(
                f"no database is recorded for the backups of {decision_id}: give --url",
                EXIT_USAGE,
            )
        actor = args.actor or _user()

        def record_first(done: UndoReport) -> None:
            store.record_outcome(
                record.decision_record_id, Outcome.UNDONE, actor=actor, detail=done.describe()
            )

        try:
            with _connect(url) as connection:
                report = undo(connection, decision_id, before_commit=record_first)
        except UndoRefused as refused:
            raise CommandError(f"undo refused: {refused}", EXIT_REFUSED) from None
        except AuditUnavailable as error:
            raise CommandError(
                f"the audit trail could not record the undo, so nothing was undone: {error}",
                EXIT_UNAVAILABLE,
            ) from None
    out.write(f"undone {decision_id}: {report.describe()}\n")
    for note in report.notes:
        out.write(f"  note: {note}\n")
    return EXIT_OK


def _recorded_database(store: AuditStore, decision_record_id: str) -> str | None:
    """The database named in the decision's `backed_up` outcomes (password not recorded)."""
    from guardrails_core.audit.records import reversals_in

    for reversal in reversed(reversals_in(store.history(decision_record_id))):
        if reversal.database:
            return _without_password(reversal.database)
    return None


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.password == "***":  # masked when recorded: the driver finds it (.pgpass, ...)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False)


@contextmanager
def _audit_store(args: argparse.Namespace) -> Iterator[AuditStore]:
    from guardrails_core.audit import AuditStore, AuditUnavailable
    from guardrails_core.settings import Settings

    settings = getattr(args, "settings", None) or Settings.load()
    if args.audit_url:
        settings = settings.model_copy(update={"audit_url": args.audit_url})
    try:
        store = AuditStore.open(settings, create=False)
    except AuditUnavailable as error:
        raise CommandError(
            f"{error}\nnothing was undone: an undo must be recorded in the audit trail",
            EXIT_UNAVAILABLE,
        ) from None
    with store:
        yield store


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


# --------------------------------------------------------------------------- trash


def _trash_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _connect(args.url) as connection:
        entries = list_backups(connection, include_done=args.all)
    if args.json:
        for entry in entries:
            out.write(json.dumps(_entry_json(entry), sort_keys=True) + "\n")
        return EXIT_OK
    if not entries:
        out.write("no backups kept\n")
        return EXIT_OK
    rows = [
        (
            _clock(entry.created_at),
            _clock(entry.expires_at),
            entry.state.value,
            entry.kind.value,
            entry.decision_id,
            f"{entry.operation} {entry.table_display}",
            entry.location_display,
            "-" if entry.row_count is None else f"{entry.row_count:,}",
        )
        for entry in entries
    ]
    header = ("TAKEN (UTC)", "EXPIRES", "STATE", "KIND", "DECISION", "WHAT", "KEPT AT", "ROWS")
    _table(out, header, rows)
    return EXIT_OK


def _trash_purge(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from guardrails_core.audit.cli import parse_when

    now = datetime.now(UTC)
    older_than = None
    if args.older_than:
        try:
            older_than = now - parse_when(args.older_than, "--older-than", now=now)
        except ValueError as error:
            raise CommandError(str(error), EXIT_USAGE) from None
    with _connect(args.url) as connection:
        results = purge(connection, older_than=older_than, now=now, dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    failed = 0
    for item in results:
        entry = item.entry
        if item.problem:
            failed += 1
            out.write(f"kept {entry.location_display}: could not drop it: {item.problem}\n")
            continue
        out.write(
            f"{verb} {entry.location_display} ({entry.kind.value} of {entry.table_display}, "
            f"decision {entry.decision_id})\n"
        )
    if not results:
        out.write("nothing to purge\n")
    return EXIT_REFUSED if failed else EXIT_OK


def _entry_json(entry: BackupEntry) -> dict[str, Any]:
    return {
        "backup_id": entry.backup_id,
        "decision_id": entry.decision_id,
        "statement_index": entry.statement_index,
        "kind": entry.kind.value,
        "operation": entry.operation.value,
        "state": entry.state.value,
        "table": entry.table_display,
        "location": entry.location_display,
        "row_count": entry.row_count,
        "created_at": entry.created_at.isoformat(),
        "expires_at": entry.expires_at.isoformat(),
    }


# --------------------------------------------------------------------------- helpers


@contextmanager
def _connect(url: str) -> Iterator[Any]:
    """A connection in autocommit mode: undo and purge open their own transactions."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        connection = engine.connect()
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise CommandError(f"cannot use --url {url!r}: {error}", EXIT_USAGE) from None
    except SQLAlchemyError as error:
        raise CommandError(
            f"cannot connect to the database: {str(error).splitlines()[0]}", EXIT_UNAVAILABLE
        ) from None
    try:
        yield connection
    finally:
        connection.close()
        engine.dispose()


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _table(out: TextIO, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        out.write("\n")


__all__ = ["main_handler", "register", "run"]
