"""The audit store: append-only, hash-chained records of decisions and outcomes, on SQLite or
PostgreSQL.

Appends are durable before they return (SQLite: WAL with ``synchronous=FULL``; PostgreSQL:
``synchronous_commit`` on) and serialised per chain: ``BEGIN IMMEDIATE`` on SQLite, a row lock on
the chain's head row on PostgreSQL. PostgreSQL stores keep several chains so that concurrent
writers append side by side; each chain is a complete hash chain of its own.

``AuditStore`` is the one facade over four parts: setting up (``setup``), writing
(``writing``, the guard's hot path), reading (``reading``) and verifying (``verifying``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .chain import ChainKey
from .errors import AuditError
from .reading import StoreReading
from .redact import mask_url
from .schema import DEFAULT_TABLE_PREFIX
from .setup import StoreSetup
from .verifying import StoreVerifying
from .writing import StoreWriting

if TYPE_CHECKING:
    from guardrails_core.settings import Settings


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditStore(StoreSetup, StoreWriting, StoreReading, StoreVerifying):
    """An open audit store. Thread-safe; open one per process (see ``shared_store``).

    ``AuditStore.open(settings)`` is the usual way in; the constructor takes the same options
    explicitly (``schema``/``table_prefix`` keep several stores in one database).
    """

    def __init__(
        self,
        url: str,
        *,
        key: str | bytes | None = None,
        full_text: bool = False,
        schema: str | None = None,
        table_prefix: str = DEFAULT_TABLE_PREFIX,
        chains: int | None = None,
        anchor: str | Path | None = None,
        create: bool = True,
        connect_timeout: float = 5.0,
        lock_timeout: float = 10.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.display_url = mask_url(url)
        self._url = url
        self._clock = clock
        self._full_text = full_text
        self._key = ChainKey(key.encode("utf-8") if isinstance(key, str) else key)
        self._table_prefix = table_prefix
        self._schema = schema
        self._create = create
        self._connect_timeout = connect_timeout
        self._lock_timeout = lock_timeout
        self._pid = os.getpid()
        self._head_lock = threading.Lock()
        self._cached_head = None
        self._anchor = Path(anchor).expanduser() if anchor else None
        self._created = False
        self._link = self._open_link()
        try:
            meta = self._prepare(chains=chains)
        except AuditError:
            self.close()
            raise
        self.store_id: str = meta["store_id"]
        self.chains: int = int(meta["chains"])
        self.schema_version: int = int(meta["schema_version"])
        self._store_key_id = meta.get("key_id") or None
        if self._created and self._anchor is not None:
            heads = [
                (chain, 0, self._key.genesis(self.store_id, chain)) for chain in range(self.chains)
            ]
            self._checkpoint(heads, "anchor the new audit store")

    @classmethod
    def open(cls, settings: Settings | None = None, **options: Any) -> AuditStore:
        """Open (and create, or upgrade, if needed) the store that ``settings`` name.

        Raises ``AuditUnavailable`` when the store cannot be reached or created.
        """
        if settings is None:
            from guardrails_core.settings import Settings

            settings = Settings.load()
        key = settings.audit_key.get_secret_value() if settings.audit_key else None
        options.setdefault("full_text", settings.audit_full_text)
        options.setdefault("anchor", settings.audit_anchor)
        return cls(settings.resolved_audit_url, key=key or None, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AuditStore({self.display_url!r}, chains={self.chains})"

    @property
    def anchor(self) -> Path | None:
        """The checkpoint file this store appends to (``GUARDRAILS_AUDIT_ANCHOR``), if any."""
        return self._anchor

    @property
    def keyed(self) -> bool:
        return self._store_key_id is not None
