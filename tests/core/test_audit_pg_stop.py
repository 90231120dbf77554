"""Opt-in: really stop the local PostgreSQL server while a store is open, then start it again.

Other tests share that server, so this runs only with GUARDRAILS_TEST_STOP_POSTGRES=1, e.g.

    GUARDRAILS_TEST_STOP_POSTGRES=1 .venv/bin/pytest tests/core/test_audit_pg_stop.py -q
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from guardrails_core.audit import AuditStore, AuditUnavailable
from tests.audit_fixtures import drop_schema, make_decision
from tests.servers import require_postgres

pytestmark = pytest.mark.skipif(
    os.environ.get("GUARDRAILS_TEST_STOP_POSTGRES") != "1",
    reason="stops the shared PostgreSQL server; set GUARDRAILS_TEST_STOP_POSTGRES=1 to run",
)


def _cluster(action: str) -> None:
    versions = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", action], check=True
    )


def _wait_for_postgres(timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return require_postgres()
        except BaseException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_stopped_server_means_unavailable_then_recovers() -> None:
    url = require_postgres()
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    store = AuditStore(url, schema=schema, connect_timeout=2)
    try:
        store.record(make_decision())
        _cluster("stop")
        try:
            with pytest.raises(AuditUnavailable) as caught:
                store.record(make_decision())
            assert "cannot record decision" in str(caught.value)
        finally:
            _cluster("start")
            _wait_for_postgres()
        store.record(make_decision())
        assert store.verify().ok
    finally:
        store.close()
        drop_schema(url, schema)
