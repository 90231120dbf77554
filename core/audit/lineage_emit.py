"""Send the audit trail's OpenLineage events through the OpenLineage client (openlineage-python),
configured the standard way: `openlineage.yml` (or `OPENLINEAGE_CONFIG`), `OPENLINEAGE_URL`, or
`OPENLINEAGE__TRANSPORT__*` variables select its http, file, console, kafka, ... transport."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .export import openlineage_events
from .records import AuditRecord


class LineageClientMissing(RuntimeError):
    """openlineage-python is not installed."""


def emit_openlineage(records: Iterable[AuditRecord], client: Any = None) -> int:
    """Emit one RunEvent per record through `client` (default: `OpenLineageClient()`, which
    reads the standard configuration); the number emitted."""
    try:
        from openlineage.client import OpenLineageClient
        from openlineage.client.event_v2 import (
            InputDataset,
            Job,
            OutputDataset,
            Run,
            RunEvent,
            RunState,
        )
    except ImportError as error:
        raise LineageClientMissing(
            "sending OpenLineage events needs the OpenLineage client: pip install "
            "'access-guardrails[airflow]' (or openlineage-python); without it, "
            "`audit export --format openlineage` writes the events as JSON lines"
        ) from error
    client = client if client is not None else OpenLineageClient()
    count = 0
    for event in openlineage_events(records):
        client.emit(
            RunEvent(
                eventType=RunState(event["eventType"]),
                eventTime=event["eventTime"],
                run=Run(runId=event["run"]["runId"], facets=event["run"]["facets"]),
                job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"]),
                producer=event["producer"],
                inputs=[InputDataset(d["namespace"], d["name"]) for d in event["inputs"]],
                outputs=[OutputDataset(d["namespace"], d["name"]) for d in event["outputs"]],
            )
        )
        count += 1
    return count
