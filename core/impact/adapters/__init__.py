"""Dialect adapters: PostgreSQL, MariaDB/MySQL and SQLite behind one interface (base.py)."""

from __future__ import annotations

from guardrails_core.impact.adapters.base import (
    DialectAdapter,
    Location,
    Measurement,
    ProbeError,
)


class UnsupportedDialect(ValueError):
    """No impact adapter for this database."""


def adapter_for(dialect: str) -> DialectAdapter:
    """The adapter of `dialect` (`postgres`, `mysql` or `sqlite`)."""
    if dialect == "postgres":
        from guardrails_core.impact.adapters.postgres import PostgresAdapter

        return PostgresAdapter()
    if dialect == "mysql":
        from guardrails_core.impact.adapters.mysql import MySQLAdapter

        return MySQLAdapter()
    if dialect == "sqlite":
        from guardrails_core.impact.adapters.sqlite import SQLiteAdapter

        return SQLiteAdapter()
    raise UnsupportedDialect(
        f"no impact probe for {dialect!r}: row estimates and undo work on PostgreSQL, "
        "MariaDB/MySQL and SQLite"
    )


__all__ = [
    "DialectAdapter",
    "Location",
    "Measurement",
    "ProbeError",
    "UnsupportedDialect",
    "adapter_for",
]
