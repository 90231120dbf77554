"""The published JSON schema of a Decision (versioned; `schemas/decision.v1.json` is its copy)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from guardrails_core.model import DECISION_SCHEMA_URL, DECISION_SCHEMA_VERSION, Decision


def decision_json_schema() -> dict[str, Any]:
    schema = Decision.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": DECISION_SCHEMA_URL,
        "title": f"access-guardrails Decision v{DECISION_SCHEMA_VERSION}",
        **schema,
    }


POLICY_SCHEMA_URL = "https://access-guardrails.dev/schemas/policy/v1.json"


def policy_json_schema() -> dict[str, Any]:
    """The policy file format as JSON Schema: point a YAML editor at it
    (`# yaml-language-server: $schema=core/schemas/policy.v1.json`)."""
    from guardrails_core.policy.schema import PolicyFile

    schema = PolicyFile.model_json_schema(mode="validation")
    _accept_shorthands(schema["$defs"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": POLICY_SCHEMA_URL,
        "title": "access-guardrails policy file v1",
        **schema,
    }


def _accept_shorthands(definitions: dict[str, Any]) -> None:
    """The loader accepts shorthands the models' own schema does not show: one value for a
    list (`intents: delete`), `ticket: true` or a pattern, `approval: true` or a count, day
    ranges (`mon-fri`), and examples as plain strings. Editors must not flag those."""
    for definition in definitions.values():
        for prop in definition.get("properties", {}).values():
            if prop.get("type") == "array" and "items" in prop:
                items = prop.pop("items")
                kind = prop.pop("type")
                prop["anyOf"] = [{"type": kind, "items": items}, items]
    require = definitions["Require"]["properties"]
    require["ticket"] = {
        "anyOf": [
            {"type": "boolean"},
            {"type": "string"},
            {"$ref": "#/$defs/TicketRequirement"},
            {"type": "null"},
        ]
    }
    require["approval"] = {
        "anyOf": [
            {"type": "boolean"},
            {"type": "integer", "minimum": 1},
            {"$ref": "#/$defs/ApprovalRequirement"},
            {"type": "null"},
        ]
    }
    days = definitions["TimeWindow"]["properties"]["days"]
    days["anyOf"] = [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    for verdict in ("allow", "review", "deny"):
        examples = definitions["Examples"]["properties"][verdict]
        examples["anyOf"] = [
            {
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Example"}]},
            },
            {"type": "string"},
        ]


def published_policy_schema() -> dict[str, Any]:
    text = (
        resources.files("guardrails_core")
        .joinpath("schemas/policy.v1.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def published_decision_schema() -> dict[str, Any]:
    """The schema file shipped with the package (tests keep it equal to the model's)."""
    text = (
        resources.files("guardrails_core")
        .joinpath(f"schemas/decision.v{DECISION_SCHEMA_VERSION}.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


SCHEMAS_URL = "https://access-guardrails.dev/schemas/"


def published_schema(url: str) -> dict[str, Any]:
    """The schema file the package ships for one of its schema URLs (the URL's path below
    /schemas/ is the file's path in `guardrails_core/schemas/`): every schemaURL it writes, the
    OpenLineage facet's included, can be read offline. KeyError for any other URL."""
    if not url.startswith(SCHEMAS_URL):
        raise KeyError(url)
    relative = url.removeprefix(SCHEMAS_URL).split("#", 1)[0]
    resource = resources.files("guardrails_core").joinpath("schemas", *relative.split("/"))
    if not resource.is_file():
        raise KeyError(url)
    loaded: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return loaded
