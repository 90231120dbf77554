"""A dbt project's models, macros or snapshots edited by the script that then builds them
(`sed -i ... models/*.sql && dbt run -t prod`): what is built is code written at run time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell_registry import INCREMENTAL_DROPPED, MODELS_EDITED
from guardrails_core.model import ObjectAction, ObjectKind

if TYPE_CHECKING:
    from guardrails_core.intent.shell.walk import _Analyzer
    from guardrails_core.intent.shell.words import _Effect, _Word


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


# `s/materialized=.incremental./materialized="table"/`: a substitution and its two sides
_SUBSTITUTE = re.compile(
    r"(?:^|[;\n{}\s])s(?P<d>[^\w\s\\])(?P<old>(?:(?!(?P=d)).)*)(?P=d)(?P<new>(?:(?!(?P=d)).)*)(?P=d)"
)


def note_materialization_switch(
    analyzer: _Analyzer, scripts: Sequence[_Word], files: Sequence[_Word]
) -> None:
    """sed scripts that take `incremental` out of model files (`materialized='table'` in its
    place): the next build drops the tables those models kept adding to, as --full-refresh."""
    models = [f.display for f in files if "project_models" in shell_registry.file_classes(f.value)]
    for script in scripts:
        for match in _SUBSTITUTE.finditer(script.value):
            old, new = match["old"].lower(), match["new"].lower()
            if models and "incremental" in old and "incremental" not in new:
                analyzer.note_fact(INCREMENTAL_DROPPED, ", ".join(models))
