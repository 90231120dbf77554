"""One audit store per process and settings, opened once and reused by every guarded call."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from .chain import ChainKey
from .store import AuditStore

if TYPE_CHECKING:
    from guardrails_core.settings import Settings

_shared: dict[tuple[Any, ...], AuditStore] = {}
_shared_lock = threading.Lock()


def shared_store(settings: Settings) -> AuditStore:
    """The process-wide store for ``settings``: opened once, reused by every guarded call."""
    key = settings.audit_key.get_secret_value().encode() if settings.audit_key else None
    cache_key = (
        os.getpid(),
        settings.resolved_audit_url,
        ChainKey(key).key_id,
        settings.audit_full_text,
        settings.audit_anchor,
    )
    with _shared_lock:
        store = _shared.get(cache_key)
        if store is None:
            store = AuditStore.open(settings)
            _shared[cache_key] = store
        return store
