"""Reading the audit store: queries, look-ups, histories and statistics (a mixin of
``AuditStore``, which provides the connection and the tables)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from guardrails_core.model import Decision

from .chain import parse_time, subject_of
from .errors import AuditUnavailable, RecordNotFound
from .records import (
    AuditFilter,
    AuditRecord,
    AuditStats,
    AuditSubject,
    Outcome,
    RecordKind,
    TextForm,
)

if TYPE_CHECKING:  # SQLAlchemy loads when the trail is read, not when a worker records into it
    from sqlalchemy import Connection
    from sqlalchemy.sql import ColumnElement

    from .schema import Tables

Bucket = Literal["hour", "day", "week", "month"]


class StoreReading:
    """Queries over the records; every read runs in one consistent snapshot."""

    display_url: str

    @property
    def _tables(self) -> Tables:
        raise NotImplementedError

    _backend: str

    def _connect(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _read_snapshot(self, conn: Connection) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _unavailable(self, action: str, error: BaseException) -> AuditUnavailable:
        raise NotImplementedError

    def query(self, filters: AuditFilter | None = None) -> list[AuditRecord]:
        """Records matching ``filters`` (all records when None), oldest first unless asked."""
        return list(self.iter_records(filters))

    def iter_records(self, filters: AuditFilter | None = None) -> Iterator[AuditRecord]:
        """Like ``query`` but streamed, for exports of any size."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        filters = filters or AuditFilter()
        record = self._tables.record
        order = (record.c.recorded_at, record.c.chain, record.c.seq)
        query = select(
            record.c.kind,
            record.c.chain,
            record.c.seq,
            record.c.payload,
            record.c.prev_hash,
            record.c.hash,
        ).where(*self._conditions(filters))
        query = query.order_by(
            *(column.desc() for column in order) if filters.newest_first else order
        )
        if filters.limit is not None:
            query = query.limit(filters.limit)
        try:
            with self._connect() as conn, self._read_snapshot(conn):
                result = conn.execution_options(stream_results=True, yield_per=500).execute(query)
                for row in result:
                    yield _to_record(row)
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable("read the audit trail", error) from error

    def get(self, record_id: str) -> AuditRecord:
        found = self.query(AuditFilter(record_id=record_id))
        if not found:
            raise RecordNotFound(f"no audit record {record_id!r} in {self.display_url}")
        return found[0]

    def find(self, ref: str) -> AuditRecord:
        """A record by record id, decision id (its decision record), or unique record id prefix."""
        for filters in (
            AuditFilter(record_id=ref),
            AuditFilter(decision_id=ref, kind=RecordKind.DECISION),
        ):
            found = self.query(filters.model_copy(update={"limit": 2}))
            if len(found) == 1:
                return found[0]
        if len(ref) >= 4:
            found = self.query(AuditFilter(record_id_prefix=ref, limit=5))
            if len(found) == 1:
                return found[0]
            if found:
                ids = ", ".join(record.record_id for record in found)
                raise RecordNotFound(f"{ref!r} is ambiguous: it starts {ids}; give more characters")
        raise RecordNotFound(f"no audit record or decision {ref!r} in {self.display_url}")

    def history(self, record_id: str) -> list[AuditRecord]:
        """A decision record followed by its outcomes, in the order they were recorded."""
        record = self.get(record_id)
        return self.query(AuditFilter(decision_record_id=record.decision_record_id))

    def stats(self, filters: AuditFilter | None = None, *, bucket: Bucket = "day") -> AuditStats:
        """Counts of decisions per verdict, intent, deciding rule, pipeline and time bucket."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        filters = filters or AuditFilter()
        record = self._tables.record
        query = select(
            record.c.kind,
            record.c.state,
            record.c.recorded_at,
            record.c.verdict,
            record.c.intents,
            record.c.rules,
            record.c.pipeline,
            record.c.actor_kind,
        ).where(*self._conditions(filters))
        counters: dict[str, Counter[str]] = defaultdict(Counter)
        timeline: dict[str, Counter[str]] = defaultdict(Counter)
        decisions = outcomes = 0
        try:
            with self._connect() as conn, self._read_snapshot(conn):
                for row in conn.execution_options(stream_results=True, yield_per=2000).execute(
                    query
                ):
                    counters["state"][row.state] += 1
                    if row.kind != RecordKind.DECISION.value:
                        outcomes += 1
                        continue
                    decisions += 1
                    counters["verdict"][row.verdict] += 1
                    counters["actor_kind"][row.actor_kind] += 1
                    counters["pipeline"][row.pipeline or "-"] += 1
                    rules = [rule for rule in row.rules.split(",") if rule]
                    counters["rule"][rules[0] if rules else "-"] += 1
                    for intent in filter(None, row.intents.split(",")):
                        counters["intent"][intent] += 1
                    timeline[_bucket_start(row.recorded_at, bucket)][row.verdict] += 1
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable("read the audit trail", error) from error

        def ordered(counter: Counter[str]) -> dict[str, int]:
            return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))

        return AuditStats(
            decisions=decisions,
            outcomes=outcomes,
            by_verdict=ordered(counters["verdict"]),
            by_state=ordered(counters["state"]),
            by_intent=ordered(counters["intent"]),
            by_rule=ordered(counters["rule"]),
            by_pipeline=ordered(counters["pipeline"]),
            by_actor_kind=ordered(counters["actor_kind"]),
            bucket=bucket,
            timeline={start: dict(sorted(timeline[start].items())) for start in sorted(timeline)},
        )

    def _conditions(self, filters: AuditFilter) -> list[ColumnElement[bool]]:
        from sqlalchemy import or_

        c = self._tables.record.c
        conditions: list[ColumnElement[bool]] = []
        for column, value in (
            (c.record_id, filters.record_id),
            (c.decision_record_id, filters.decision_record_id),
            (c.decision_id, filters.decision_id),
            (c.fingerprint, filters.fingerprint),
            (c.pipeline, filters.pipeline),
            (c.task, filters.task),
            (c.run_id, filters.run_id),
            (c.environment, filters.environment),
            (c.kind, filters.kind.value if filters.kind else None),
            (c.actor_kind, filters.actor_kind.value if filters.actor_kind else None),
        ):
            if value is not None:
                conditions.append(column == value)
        if filters.record_id_prefix:
            conditions.append(c.record_id.startswith(filters.record_id_prefix, autoescape=True))
        if filters.verdicts:
            conditions.append(c.verdict.in_([verdict.value for verdict in filters.verdicts]))
        if filters.states:
            conditions.append(c.state.in_([state.value for state in filters.states]))
        if filters.intents:
            conditions.append(
                or_(
                    *(
                        c.intents.contains(f",{intent.value},", autoescape=True)
                        for intent in filters.intents
                    )
                )
            )
        if filters.rule:
            conditions.append(c.rules.contains(f",{filters.rule},", autoescape=True))
        if filters.since is not None:
            conditions.append(c.recorded_at >= self._db_time(filters.since))
        if filters.until is not None:
            conditions.append(c.recorded_at < self._db_time(filters.until))
        return conditions

    def _db_time(self, moment: datetime) -> datetime:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        # SQLite compares the stored text: naive UTC, as written.
        return moment.replace(tzinfo=None) if self._backend == "sqlite" else moment


def _to_record(row: Any) -> AuditRecord:
    payload = json.loads(row.payload)["record"]
    is_decision = payload["kind"] == RecordKind.DECISION.value
    return AuditRecord(
        record_id=payload["record_id"],
        kind=RecordKind(payload["kind"]),
        chain=row.chain,
        seq=row.seq,
        recorded_at=parse_time(payload["recorded_at"]),
        state=Outcome(payload["state"]),
        decision_record_id=payload["record_id"] if is_decision else payload["decision_record_id"],
        subject=AuditSubject.model_validate(subject_of(payload)),
        decision=Decision.model_validate(payload["decision"]) if is_decision else None,
        text_form=TextForm(payload["text_form"]) if is_decision else None,
        actor=payload.get("actor"),
        detail=payload.get("detail"),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _bucket_start(moment: datetime, bucket: Bucket) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if bucket == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
    elif bucket == "week":
        start = (moment - timedelta(days=moment.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    elif bucket == "month":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.isoformat().replace("+00:00", "Z")
