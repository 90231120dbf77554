"""Provider metadata for Airflow's providers manager (the `apache_airflow_provider` entry point):
`airflow providers list` shows the package, `airflow config list --section guardrails` its
configuration, and the connection form offers the audit store's connection type.

Pure data: imported by every Airflow process that discovers providers, so it imports nothing.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://github.com/access-guardrails/access-guardrails#readme"


def _option(description: str, example: str | None, default: str, kind: str = "string") -> Any:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": kind,
        "example": example,
        "default": default,
    }


def get_provider_info() -> dict[str, Any]:
    from guardrails_core.version import PACKAGE_VERSION

    return {
        "package-name": "access-guardrails",
        "name": "Access Guardrails",
        "description": (
            "Runtime guardrails: judges every SQL and shell command of a task before it runs "
            "(policy, audit trail, approvals). "
            f"`Documentation <{DOCS}>`__\n"
        ),
        "versions": [PACKAGE_VERSION],
        "integrations": [
            {
                "integration-name": "Access Guardrails",
                "external-doc-url": DOCS,
                "tags": ["software"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "guardrails_audit",
                "hook-class-name": "airflow_guardrails.audit_store.GuardrailsAuditHook",
                "hook-name": "Guardrails audit store",
            }
        ],
        "config": {
            "guardrails": {
                "description": (
                    "access-guardrails: the policy, mode and environment of guarded tasks and "
                    "where decisions are recorded. A GUARDRAILS_* environment variable, when "
                    "set, wins over the option of the same name.\n"
                ),
                "options": {
                    "disabled": _option(
                        "Turn guardrails off: guarded tasks run their commands unjudged and "
                        "unrecorded (each logs a warning). For emergencies; prefer mode = audit.\n",
                        "True",
                        "False",
                        kind="boolean",
                    ),
                    "policy": _option(
                        "Path of the policy file (GUARDRAILS_POLICY). Empty: the built-in "
                        "baseline policy.\n",
                        "/opt/airflow/guardrails_policy.yaml",
                        "",
                    ),
                    "mode": _option(
                        "Force the mode of every policy rule: enforce or audit "
                        "(GUARDRAILS_MODE). Empty: each policy's own mode.\n",
                        "audit",
                        "",
                    ),
                    "environment": _option(
                        "The environment policies match on, e.g. prod (GUARDRAILS_ENVIRONMENT).\n",
                        "prod",
                        "",
                    ),
                    "audit_conn_id": _option(
                        "Airflow connection of the audit store (type guardrails_audit, postgres, "
                        "mysql or sqlite). Empty: GUARDRAILS_AUDIT_URL, else a SQLite file "
                        "under GUARDRAILS_HOME.\n",
                        "guardrails_audit_default",
                        "",
                    ),
                },
            }
        },
    }
