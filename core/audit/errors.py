"""Errors of the audit store, written for the person who has to fix the store."""

from __future__ import annotations

from .secrets import mask_secrets

DEFAULT_HINT = (
    "Check that the database is reachable and that GUARDRAILS_AUDIT_URL is right. Until it is, "
    "guarded commands are denied; GUARDRAILS_AUDIT_ON_FAILURE=audit lets them run unrecorded "
    "instead, which leaves a gap in the audit trail."
)


class AuditError(Exception):
    """Base class of audit store errors."""


class AuditUnavailable(AuditError):
    """The store cannot durably record (or read) right now: the guard must deny.

    ``url`` has its password masked; ``reason`` says why in a few words; ``hint`` what to do.
    """

    def __init__(self, *, url: str, action: str, reason: str, hint: str = DEFAULT_HINT) -> None:
        self.url = url
        self.action = action
        self.reason = mask_secrets(reason)
        self.hint = hint
        super().__init__(
            f"audit store unavailable: cannot {action} in {url}: {self.reason}. {hint}"
        )


class RecordNotFound(AuditError, LookupError):
    """No record has the given id (or the id prefix is ambiguous)."""


# Words in driver errors -> the reason people need to read.
_REASONS: tuple[tuple[str, str], ...] = (
    ("connection refused", "connection refused (is the server running, on this host and port?)"),
    ("timeout expired", "connection timed out (is the host reachable?)"),
    ("timed out", "connection timed out (is the host reachable?)"),
    ("could not translate host name", "unknown host name"),
    ("name or service not known", "unknown host name"),
    ("password authentication failed", "authentication failed (check the user and password)"),
    ("no password supplied", "authentication failed: the server wants a password"),
    ("readonly database", "the database is read-only (check file permissions and mount options)"),
    ("read-only", "the database is read-only"),
    (
        "unable to open database file",
        "cannot open the database file (missing directory or no permission)",
    ),
    ("disk i/o error", "disk I/O error"),
    ("database or disk is full", "the disk is full"),
    ("no space left", "the disk is full"),
    ("lock timeout", "timed out waiting for the chain lock (another writer holds it)"),
    ("canceling statement due to lock timeout", "timed out waiting for the chain lock"),
)


def describe(error: BaseException, *, lock_timeout: float | None = None) -> str:
    """A short, secret-free reason for a driver or OS error."""
    original = getattr(error, "orig", None) or error
    text = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
    lowered = str(original).lower()
    if "database is locked" in lowered:
        waited = f" for {lock_timeout:g}s" if lock_timeout is not None else ""
        return f"the database stayed locked{waited} by another writer"
    for needle, reason in _REASONS:
        if needle in lowered:
            return reason
    return mask_secrets(text)


def key_mismatch(store_key_id: str | None, key_id: str | None) -> dict[str, str]:
    """Why a store refuses appends under this process's key (reason and hint)."""
    if store_key_id is None:
        return {
            "reason": "GUARDRAILS_AUDIT_KEY is set but this store's chain was created "
            "without a key",
            "hint": "A keyed chain needs a new store: point GUARDRAILS_AUDIT_URL at a new "
            "database, or unset GUARDRAILS_AUDIT_KEY.",
        }
    if key_id is None:
        return {
            "reason": f"the store's chain is keyed (key id {store_key_id}) but "
            "GUARDRAILS_AUDIT_KEY is not set",
            "hint": "Set GUARDRAILS_AUDIT_KEY to the store's key.",
        }
    return {
        "reason": f"GUARDRAILS_AUDIT_KEY (key id {key_id}) is not the key this "
        f"store's chain was written with (key id {store_key_id})",
        "hint": "Set GUARDRAILS_AUDIT_KEY to the store's key.",
    }
