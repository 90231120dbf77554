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


def published_decision_schema() -> dict[str, Any]:
    """The schema file shipped with the package (tests keep it equal to the model's)."""
    text = (
        resources.files("guardrails_core")
        .joinpath(f"schemas/decision.v{DECISION_SCHEMA_VERSION}.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded
