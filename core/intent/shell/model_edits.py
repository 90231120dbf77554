"""A dbt project's models, macros or snapshots edited by the script that then builds them
(`sed -i ... models/*.sql && dbt run -t prod`): what is built is code written at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell_registry import MODELS_EDITED
from guardrails_core.model import ObjectAction, ObjectKind

if TYPE_CHECKING:
    from guardrails_core.intent.shell.walk import _Analyzer
    from guardrails_core.intent.shell.words import _Effect


def note_model_edits(analyzer: _Analyzer, effect: _Effect) -> None:
    """The model files (file table `project_models`) this statement writes, for a build after."""
    edited = [
        ref.name
        for ref in effect.objects.values()
        if ref.kind is ObjectKind.FILE
        and ref.action in (ObjectAction.WRITE, ObjectAction.DELETE)
        and "project_models" in shell_registry.file_classes(ref.name)
    ]
    if edited:
        analyzer.note_fact(MODELS_EDITED, ", ".join(edited))
