"""Store down: every way a decision can fail to be recorded raises AuditUnavailable (the guard
denies), with a message that says what, why, and what to do - and never leaks a password."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails_core.audit import AuditStore, AuditUnavailable
from tests.audit_fixtures import drop_schema, make_decision, read_only_file
from tests.servers import require_postgres


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_helpful(error: AuditUnavailable, *, reason: str) -> None:
    message = str(error)
    assert message.startswith("audit store unavailable: cannot ")
    assert reason in error.reason, error.reason
    assert "GUARDRAILS_AUDIT_ON_FAILURE" in message or error.hint in message


def test_postgres_port_with_nothing_listening() -> None:
    url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{_free_port()}/test"
    with pytest.raises(AuditUnavailable) as caught:
        AuditStore(url, connect_timeout=2)
    _assert_helpful(caught.value, reason="connection refused")
    assert "hunter2" not in str(caught.value)
    assert "postgres:***@127.0.0.1" in str(caught.value)
    assert caught.value.url.startswith("postgresql+psycopg://postgres:***@")


def test_postgres_unknown_database() -> None:
    require_postgres()
    with pytest.raises(AuditUnavailable) as caught:
        AuditStore(
            "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_here", connect_timeout=2
        )
    _assert_helpful(caught.value, reason="does not exist")


def test_postgres_url_without_driver_uses_psycopg() -> None:
    url = require_postgres().replace("postgresql+psycopg://", "postgresql://")
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    try:
        with AuditStore(url, schema=schema) as store:
            store.record(make_decision())
    finally:
        drop_schema(require_postgres(), schema)


class _Proxy:
    """A TCP proxy to PostgreSQL that can be cut, as when the server stops or the network drops."""

    def __init__(self, upstream: int, port: int = 0) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(("127.0.0.1", self.upstream))
                self.sockets += [client, server]
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def schema() -> Iterator[str]:
    server_url = require_postgres()
    name = f"audit_test_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        drop_schema(server_url, name)


def test_postgres_going_away_and_coming_back(schema: str) -> None:
    proxy = _Proxy(5432)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test"
    with AuditStore(url, schema=schema, connect_timeout=2) as store:
        store.record(make_decision())
        proxy.cut()
        for _ in range(2):  # the broken connection, then the refused reconnection
            with pytest.raises(AuditUnavailable) as caught:
                store.record(make_decision())
            assert "cannot record decision" in str(caught.value)
        back = _Proxy(5432, port=proxy.port)
        try:
            store.record(make_decision())  # the same store works again: no worker restart
        finally:
            back.cut()
        again = _Proxy(5432, port=proxy.port)  # a restart between two appends: no false deny
        try:
            store.record(make_decision())
            result = store.verify()
        finally:
            again.cut()
    assert result.ok and result.records == 3


def _sqlite_store_with_one_record(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "audit.sqlite3"
    url = f"sqlite:///{path}"
    with AuditStore(url) as store:
        store.record(make_decision())
    return url, path


def _record_count(url: str) -> int:
    with AuditStore(url) as store:
        return len(store.query())


def test_sqlite_read_only_file(tmp_path: Path) -> None:
    url, path = _sqlite_store_with_one_record(tmp_path)
    with read_only_file(path), pytest.raises(AuditUnavailable) as caught, AuditStore(url) as store:
        store.record(make_decision())
    assert "read-only" in caught.value.reason or "cannot open" in caught.value.reason
    assert _record_count(url) == 1


def test_sqlite_opened_read_only(tmp_path: Path) -> None:
    url, path = _sqlite_store_with_one_record(tmp_path)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    with AuditStore(read_only) as store:
        assert len(store.query()) == 1  # reading still works
        with pytest.raises(AuditUnavailable) as caught:
            store.record(make_decision())
    _assert_helpful(caught.value, reason="read-only")
    assert _record_count(url) == 1


def test_sqlite_in_an_unwritable_place(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(AuditUnavailable) as caught:
        AuditStore(f"sqlite:///{tmp_path / 'a-file' / 'audit.sqlite3'}")
    assert "cannot create the audit store" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "not a valid database URL"),
        ("mysql+pymysql://root:pw@127.0.0.1:3306/test", "not a supported audit backend"),
        ("postgresql+nosuchdriver://u:pw@h/db", "driver is not installed"),
    ],
)
def test_unusable_urls(url: str, reason: str) -> None:
    with pytest.raises(AuditUnavailable) as caught:
        AuditStore(url)
    assert reason in caught.value.reason
    assert ":pw@" not in str(caught.value)
