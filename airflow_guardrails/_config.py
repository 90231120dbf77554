"""The `[guardrails]` section of Airflow's configuration, read into the core's Settings.

A GUARDRAILS_* environment variable wins over the option of the same name (the core's one
source of configuration); `audit_conn_id` names an Airflow connection that becomes the audit
store's URL, so its password lives in Airflow's connections (and secrets masker), not in an
environment variable.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from guardrails_core.guard import Guard
from guardrails_core.settings import Settings

log = logging.getLogger(__name__)

SECTION = "guardrails"
# `[guardrails]` option -> the environment variable that overrides it.
OPTIONS = {
    "policy": "GUARDRAILS_POLICY",
    "mode": "GUARDRAILS_MODE",
    "environment": "GUARDRAILS_ENVIRONMENT",
    "guard_socket": "GUARDRAILS_GUARD_SOCKET",
}


def _conf() -> Any:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow before the Task SDK carried its own configuration
        from airflow.configuration import conf
    return conf


def option(name: str) -> str:
    """The `[guardrails]` option (AIRFLOW__GUARDRAILS__<NAME> included), "" when unset."""
    return str(_conf().get(SECTION, name, fallback="") or "").strip()


def disabled() -> bool:
    return option("disabled").lower() in {"true", "1", "yes", "on"}


def airflow_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environ` with the `[guardrails]` options filled in where no variable is set."""
    merged = dict(os.environ if environ is None else environ)
    for name, variable in OPTIONS.items():
        if not merged.get(variable):
            value = option(name)
            if value:
                merged[variable] = value
    conn_id = option("audit_conn_id")
    if conn_id and not merged.get("GUARDRAILS_AUDIT_URL"):
        from airflow_guardrails.audit_store import audit_url

        merged["GUARDRAILS_AUDIT_URL"] = audit_url(conn_id)
    return merged


def airflow_settings() -> Settings:
    """The core's Settings, with Airflow's `[guardrails]` section under the environment."""
    return Settings.load(airflow_environ())


def shared_guard() -> Guard:
    """The process-wide guard, built from `airflow_settings` when this process builds it."""
    return Guard.shared(airflow_settings)


@cache
def warn_disabled() -> None:
    log.warning(
        "access-guardrails is disabled ([guardrails] disabled = True): guarded tasks run their "
        "commands unjudged and unrecorded. Set it to False to guard them again."
    )
