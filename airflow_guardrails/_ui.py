"""The plugin's FastAPI app: decision pages and a JSON API over the audit trail.

Pages are server-rendered HTML (no build step, no assets), small enough to show in the Airflow
UI's plugin iframe. Everything shown comes from the audit store, in its stored (redacted) form.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_guardrails.links import DECISIONS_PAGE, TASK_PAGE, base_url

MAX_LIMIT = 500
_SCAN_FACTOR = 5  # records read per record shown when some DAGs are hidden from the user


def _user_dependency() -> Any:
    from airflow.api_fastapi.core_api.security import get_user

    return Depends(get_user)


User = Annotated[Any, _user_dependency()]


def create_app() -> FastAPI:
    app = FastAPI(
        title="access-guardrails decisions",
        description="Guardrails decisions recorded for Airflow tasks.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_exception_handler(StarletteHTTPException, _to_login_page)

    @app.get("/decisions", response_class=HTMLResponse)
    def decisions_page(
        user: User,
        dag_id: str | None = None,
        run_id: str | None = None,
        task_id: str | None = None,
        verdict: str | None = None,
        intent: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> HTMLResponse:
        filters = _filters(dag_id, run_id, task_id, verdict, intent)
        rows = grouped(_visible(user, filters, limit))
        return HTMLResponse(_decisions_html(rows, filters))

    @app.get("/task", response_class=HTMLResponse)
    def task_page(
        user: User,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: str | None = None,
    ) -> HTMLResponse:
        _require_dag(user, dag_id)
        index = _map_index_param(map_index)
        filters = _filters(dag_id, run_id, task_id, None, None)
        rows = grouped(
            row
            for row in _visible(user, filters, MAX_LIMIT)
            if index < 0 or _map_index(row) in (None, index)
        )
        return HTMLResponse(_task_html(rows, dag_id, run_id, task_id))

    @app.get("/api/decisions")
    def decisions_json(
        user: User,
        dag_id: str | None = None,
        run_id: str | None = None,
        task_id: str | None = None,
        verdict: str | None = None,
        intent: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> dict[str, Any]:
        filters = _filters(dag_id, run_id, task_id, verdict, intent)
        return {"decisions": [_chain_json(row) for row in grouped(_visible(user, filters, limit))]}

    return app


# The task-instance tab's URL as Airflow's UI sends it for a task that is not mapped: the UI
# fills {MAP_INDEX} on mapped-task pages only.
MAP_INDEX_PLACEHOLDER = "{MAP_INDEX}"


def _map_index_param(raw: str | None) -> int:
    """The `map_index` query parameter: -1 (not mapped) when absent or the literal placeholder."""
    if raw is None or raw in ("", MAP_INDEX_PLACEHOLDER):
        return -1
    try:
        return int(raw)
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail=f"query parameter map_index={raw!r}: expected an integer (-1: not mapped)",
        ) from None


async def _to_login_page(request: Request, error: Exception) -> Response:
    """A person opening a page without a login goes to Airflow's login page and comes back
    (`next=`); API clients (not asking for HTML) keep the 401."""
    assert isinstance(error, StarletteHTTPException)
    accepts_html = "text/html" in request.headers.get("accept", "")
    if error.status_code == status.HTTP_401_UNAUTHORIZED and accepts_html:
        login = f"{base_url()}/api/v2/auth/login?{urlencode({'next': str(request.url)})}"
        return RedirectResponse(login, status_code=status.HTTP_303_SEE_OTHER)
    return await http_exception_handler(request, error)


# ---------------------------------------------------------------------- reading the trail


class _Row:
    """A decision record with what became of it (its latest outcome)."""

    def __init__(self, record: Any, outcomes: list[Any]) -> None:
        self.record = record
        latest = outcomes[-1] if outcomes else record
        self.state: str = latest.state.value
        self.approver: str | None = next(
            (o.actor for o in outcomes if o.state.value == "approved" and o.actor), None
        )
        self.detail: str | None = latest.detail if outcomes else None
        from guardrails_core.audit.records import reversals_in

        # Where the way back from the command is kept (outcomes `backed_up`).
        self.reversals = reversals_in(outcomes)
        # Later judgements of the same command in its unit of work, oldest first.
        self.refinements: list[_Row] = []

    @property
    def chain(self) -> list[_Row]:
        """The command's judgements in its unit of work, oldest first."""
        return [self, *self.refinements]

    @property
    def latest(self) -> _Row:
        """The command's last judgement: the verdict that stands."""
        return self.chain[-1]

    @property
    def approved_by(self) -> str | None:
        return next((row.approver for row in self.chain if row.approver), None)


def grouped(rows: Iterable[_Row]) -> list[_Row]:
    """One row per command per unit of work, in the order given: a decision refining one in
    the listing (its command judged again once approved, or measured at its connection) is
    shown inside that decision's row."""
    from guardrails_core.session import refinement_root

    listed = list(rows)
    by_id = {row.record.decision.decision_id: row for row in listed}
    shown = []
    for row in listed:
        first = by_id.get(refinement_root(row.record.decision))
        if first is None or first is row:
            shown.append(row)
        else:
            first.refinements.append(row)
    for row in shown:
        row.refinements.sort(key=lambda later: later.record.recorded_at)
    return shown


def _chain_json(row: _Row) -> dict[str, Any]:
    """One command of one unit of work, as the pages show it: when it was first judged, the
    verdict and state that stand (its last judgement), and every judgement, oldest first."""
    from guardrails_core.audit.export import record_json

    judgements = [
        {
            **record_json(judged.record),
            "judgement": _judgement(judged, i == 0),
            "latest_state": judged.state,
            "approver": judged.approver,
        }
        for i, judged in enumerate(row.chain)
    ]
    first, standing = judgements[0], judgements[-1]
    return {
        "record_id": first["record_id"],
        "recorded_at": first["recorded_at"],
        "subject": standing["subject"],
        "verdict": standing["decision"]["decision"],
        "latest_state": standing["latest_state"],
        "approver": row.approved_by,
        "judgements": judgements,
    }


def _filters(
    dag_id: str | None,
    run_id: str | None,
    task_id: str | None,
    verdict: str | None,
    intent: str | None,
) -> Any:
    from guardrails_core.audit import AuditFilter, RecordKind
    from guardrails_core.model import Intent, Verdict

    try:
        return AuditFilter(
            kind=RecordKind.DECISION,
            pipeline=dag_id or None,
            run_id=run_id or None,
            task=task_id or None,
            verdicts=(Verdict(verdict),) if verdict else (),
            intents=(Intent(intent),) if intent else (),
            newest_first=True,
        )
    except ValueError as error:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"invalid filter: {error}; verdict is one of {', '.join(v.value for v in Verdict)}, "
            f"intent one of {', '.join(i.value for i in Intent)}",
        ) from None


def _store() -> Any:
    from airflow_guardrails._config import airflow_settings
    from guardrails_core.audit import shared_store

    return shared_store(airflow_settings())


def _readable_dags(user: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def _require_dag(user: Any, dag_id: str) -> None:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        DagAccessEntity,
        DagDetails,
    )

    allowed = get_auth_manager().is_authorized_dag(
        method="GET",
        access_entity=DagAccessEntity.TASK_INSTANCE,
        details=DagDetails(id=dag_id),
        user=user,
    )
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"you may not read DAG {dag_id!r}")


def _visible(user: Any, filters: Any, limit: int) -> Iterator[_Row]:
    """Decision records of Airflow tasks the user may read, newest first, with outcomes."""
    from guardrails_core.audit import AuditFilter, RecordKind

    readable = _readable_dags(user)
    store = _store()
    records = []
    scanned = store.iter_records(filters.model_copy(update={"limit": limit * _SCAN_FACTOR}))
    for record in scanned:
        decision = record.decision
        if decision is None or decision.context.orchestrator != "airflow":
            continue
        if record.subject.pipeline not in readable:
            continue
        records.append(record)
        if len(records) >= limit:
            break
    if not records:
        return
    outcomes: dict[str, list[Any]] = {}
    since = min(record.recorded_at for record in records)
    outcome_filter = AuditFilter(
        kind=RecordKind.OUTCOME,
        pipeline=filters.pipeline,
        run_id=filters.run_id,
        task=filters.task,
        since=since,
    )
    for outcome in store.iter_records(outcome_filter):
        outcomes.setdefault(outcome.decision_record_id, []).append(outcome)
    for record in records:
        yield _Row(record, outcomes.get(record.record_id, []))


def _map_index(row: _Row) -> int | None:
    for key, value in row.record.decision.context.labels:
        if key == "map_index":
            return int(value)
    return None


# ---------------------------------------------------------------------- HTML

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:16px;color:#1a202c;background:#fff}
h1{font-size:20px;margin:0 0 12px} h2{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #e2e8f0;padding:6px 8px;
text-align:left;vertical-align:top} th{background:#f7fafc;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,monospace} pre{background:#f7fafc;padding:8px;
white-space:pre-wrap;word-break:break-word;margin:4px 0}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:700;color:#fff}
.deny{background:#c53030}.review{background:#b7791f}.allow{background:#2f855a}
.muted{color:#718096} form{margin:0 0 12px} input,select{margin-right:6px}
ul{margin:4px 0;padding-left:18px} .card{border:1px solid #e2e8f0;border-radius:6px;
padding:10px 12px;margin:10px 0}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _badge(verdict: str) -> str:
    return f"<span class='verdict {_e(verdict)}'>{_e(verdict.upper())}</span>"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _deciding_statement(decision: Any) -> str:
    reason = decision.deciding_reason
    index = reason.statement_index if reason is not None else None
    if index is not None and index < len(decision.statements):
        return str(decision.statements[index].text)
    return str(decision.command.text)


def _task_link(row: _Row) -> str:
    subject = row.record.subject
    query = urlencode(
        {"dag_id": subject.pipeline, "run_id": subject.run_id, "task_id": subject.task}
    )
    return f"{TASK_PAGE}?{query}"


def _judgement(row: _Row, first: bool) -> str:
    """What one judgement of a command added: the first, a second once approved, or the
    measurement at its connection."""
    from guardrails_core.session import Refinement, refinement_of

    decision = row.record.decision
    why = refinement_of(decision)
    if first or why is None:
        return "judged"
    if why is Refinement.APPROVED:
        return "judged again once approved"
    measured = "; ".join(estimate.describe() for estimate in decision.impact)
    return f"measured at connection {decision.context.connection}" + (
        f": {measured}" if measured else ""
    )


def _chain_html(row: _Row) -> str:
    """A command judged more than once in its unit: each judgement, oldest first."""
    if not row.refinements:
        return ""
    items = "".join(
        f"<li>{_badge(judged.record.decision.decision.value)} {_e(_judgement(judged, i == 0))}"
        f" · {_e(judged.state)}"
        + (f" by {_e(judged.approver)}" if judged.approver else "")
        + f" <span class='muted'>{_e(judged.record.record_id[:12])}</span></li>"
        for i, judged in enumerate(row.chain)
    )
    return f"<ul class='chain'>{items}</ul>"


def _decisions_html(rows: list[_Row], filters: Any) -> str:
    from guardrails_core.model import Intent, Verdict

    def option(values: list[str], chosen: str | None) -> str:
        items = ["<option value=''>any</option>"]
        items += [
            f"<option{' selected' if value == chosen else ''}>{_e(value)}</option>"
            for value in values
        ]
        return "".join(items)

    chosen_verdict = filters.verdicts[0].value if filters.verdicts else None
    chosen_intent = filters.intents[0].value if filters.intents else None
    form = (
        f"<form method='get' action='{DECISIONS_PAGE}'>"
        f"DAG <input name='dag_id' value='{_e(filters.pipeline)}' size='18'>"
        f"run <input name='run_id' value='{_e(filters.run_id)}' size='22'>"
        f"task <input name='task_id' value='{_e(filters.task)}' size='14'>"
        f"verdict <select name='verdict'>{option([v.value for v in Verdict], chosen_verdict)}"
        f"</select> intent <select name='intent'>"
        f"{option([i.value for i in Intent], chosen_intent)}</select>"
        "<button type='submit'>Filter</button></form>"
    )
    body_rows = []
    for row in rows:
        record, latest = row.record, row.latest
        decision, subject = latest.record.decision, latest.record.subject
        shown = dict.fromkeys(
            (r.rule_id, r.message)
            for r in decision.reasons
            if r.decision.value != "allow" or decision.decision.value == "allow"
        )
        reasons = "".join(
            f"<li><code>{_e(rule)}</code> {_e(message)}</li>" for rule, message in shown
        )
        approver = row.approved_by
        approved = f"<div class='muted'>approved by {_e(approver)}</div>" if approver else ""
        body_rows.append(
            "<tr class='decision'>"
            f"<td>{_e(_when(record.recorded_at))}<div class='muted'>{_e(record.record_id[:12])}"
            "</div></td>"
            f"<td>{_badge(decision.decision.value)}<div class='muted'>{_e(latest.state)}</div>"
            f"{approved}</td>"
            f"<td><a href='{_e(_task_link(row))}'>{_e(subject.pipeline)} / {_e(subject.task)}</a>"
            f"<div class='muted'>{_e(subject.run_id)}</div></td>"
            f"<td><pre class='statement'>{_e(_deciding_statement(decision))}</pre>"
            f"<div class='muted'>{_e(', '.join(i.value for i in decision.intents))}</div>"
            f"{_chain_html(row)}</td>"
            f"<td><code class='rule'>{_e(subject.deciding_rule)}</code><ul>{reasons}</ul></td>"
            "</tr>"
        )
    table = (
        "<table><thead><tr><th>recorded</th><th>verdict</th><th>DAG / task</th>"
        "<th>statement</th><th>rule and reasons</th></tr></thead><tbody>"
        + ("".join(body_rows) or "<tr><td colspan='5'>No decisions match.</td></tr>")
        + "</tbody></table>"
    )
    return _page(
        "Guardrails decisions",
        f"<h1>Guardrails decisions</h1>{form}<p class='muted'>{len(rows)} shown, newest first."
        f"</p>{table}",
    )


def _task_html(rows: list[_Row], dag_id: str, run_id: str, task_id: str) -> str:
    from guardrails_core.render import headline, next_step

    cards = []
    for first in rows:
        row = first.latest
        record, decision = row.record, row.record.decision
        statements = "".join(
            f"<li>statement {s.index + 1} ({_e(s.operation)}, {_e(s.dialect or 'generic')}): "
            f"<pre class='statement'>{_e(s.text)}</pre>"
            + "".join(
                f"<div class='muted'>{_e(f.intent.value)}: {_e(f.message)}</div>"
                for f in s.findings[:6]
            )
            + "</li>"
            for s in decision.statements
        )
        reasons = "".join(
            f"<li>{_badge(r.decision.value)} <code class='rule'>{_e(r.rule_id)}</code> "
            f"{_e(r.message)}</li>"
            for r in decision.reasons
        )
        objects = ", ".join(_e(str(ref)) for ref in decision.objects[:20]) or "none"
        impact = "".join(
            f"<div>impact: {_e(estimate.describe())}</div>" for estimate in decision.impact
        )
        way_back = "".join(
            f"<div>way back: {_e(r.kind.value)} of {_e(r.table)} at <code>{_e(r.location)}"
            f"</code> · <code>access-guardrails undo {_e(decision.decision_id)}</code></div>"
            for r in row.reversals
        )
        hint = next_step(decision)
        approver = f" by {_e(first.approved_by)}" if first.approved_by else ""
        cards.append(
            "<div class='card decision'>"
            f"<div>{_badge(decision.decision.value)} "
            f"<strong>{_e(headline(decision))}</strong></div>"
            f"<div class='muted'>{_e(_when(record.recorded_at))} · state {_e(row.state)}{approver}"
            f" · try {_e(decision.context.try_number)}"
            f" · actor {_e(decision.context.actor.kind.value)}"
            f" · connection {_e(decision.context.connection)}</div>"
            f"{_chain_html(first)}"
            f"<h2>Statements</h2><ul>{statements}</ul>"
            f"<h2>Reasons</h2><ul>{reasons}</ul>"
            f"<div>objects: {objects}</div>{impact}{way_back}"
            f"<div class='muted'>policy {_e(decision.policy.id)} · mode {_e(decision.mode.value)}"
            f" · fingerprint <code>{_e(decision.fingerprint)}</code> · record "
            f"<code>{_e(record.record_id)}</code></div>"
            + (f"<div>next: {_e(hint)}</div>" if hint else "")
            + (f"<div class='muted'>{_e(row.detail)}</div>" if row.detail else "")
            + "</div>"
        )
    title = f"Guardrails: {dag_id} / {task_id}"
    return _page(
        title,
        f"<h1>{_e(title)}</h1><p class='muted'>run {_e(run_id)} · {len(rows)} command(s), "
        f"newest first · <a href='{DECISIONS_PAGE}?{urlencode({'dag_id': dag_id})}'>all "
        "decisions of this DAG</a></p>"
        + ("".join(cards) or "<p>No guardrails decision was recorded for this task.</p>"),
    )
