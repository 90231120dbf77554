"""The audit store as an Airflow connection: `[guardrails] audit_conn_id` names it.

A connection of type `guardrails_audit` (host, port, login, password, schema = database; extra
`{"driver": "postgresql+psycopg"}` picks the SQLAlchemy driver), or an existing postgres, mysql
or sqlite connection. Its password is read through Airflow (secrets backends, masker), never
kept in an environment variable.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.sdk import BaseHook
from sqlalchemy.engine import URL

# Airflow connection type -> SQLAlchemy driver of the audit store.
DRIVERS = {
    "guardrails_audit": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "sqlite": "sqlite",
}


class GuardrailsAuditHook(BaseHook):
    """The connection type of the audit store (shown in Airflow's connection form)."""

    conn_name_attr = "guardrails_audit_conn_id"
    default_conn_name = "guardrails_audit_default"
    conn_type = "guardrails_audit"
    hook_name = "Guardrails audit store"

    def __init__(self, guardrails_audit_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.guardrails_audit_conn_id = guardrails_audit_conn_id

    ui_field_behaviour: ClassVar[dict[str, Any]] = {
        "hidden_fields": [],
        "relabeling": {"schema": "Database"},
        "placeholders": {"extra": '{"driver": "postgresql+psycopg"}'},
    }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return cls.ui_field_behaviour

    def get_conn(self) -> str:
        return audit_url(self.guardrails_audit_conn_id)


def audit_url(conn_id: str) -> str:
    """The SQLAlchemy URL of the audit store kept in Airflow connection `conn_id`."""
    connection = BaseHook.get_connection(conn_id)
    conn_type = str(connection.conn_type or "")
    driver = connection.extra_dejson.get("driver") or DRIVERS.get(conn_type)
    if not driver:
        raise ValueError(
            f"[guardrails] audit_conn_id: connection {conn_id!r} has type {conn_type!r}, which "
            f"is not an audit store; use one of {', '.join(sorted(DRIVERS))} or set its extra "
            '{"driver": "<sqlalchemy dialect+driver>"}'
        )
    if driver == "sqlite":  # Airflow's sqlite connections keep the file path in `host`
        return str(URL.create("sqlite", database=connection.host or connection.schema))
    return URL.create(
        driver,
        username=connection.login or None,
        password=connection.password or None,
        host=connection.host or None,
        port=connection.port or None,
        database=connection.schema or None,
    ).render_as_string(hide_password=False)
