"""A run's parameters that switch a replacing mode on (a DAG run's conf, a deployment's
parameters, an API request's body): `{"full_refresh": true}` does what `--full-refresh` does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from guardrails_core.intent.program_args import CAMEL
from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.programs import Program, Verdict
from guardrails_core.intent.registry_effects import record_effect
from guardrails_core.model import Intent, ObjectAction, ObjectKind

if TYPE_CHECKING:
    from guardrails_core.intent.shell_registry import Call


# `"full_refresh": true`, `full-refresh=1`, `fullRefresh: yes`: a parameter switched on
_SWITCH_ON = re.compile(
    r"""(?<![-\w])["']?([A-Za-z][\w.-]*)["']?\s*[:=]\s*["']?(?:true|1|yes|on)\b""", re.I
)


# a JSON or YAML mapping (`{"conf": {...}}`), or one `name=value` word
_PARAMETERS = re.compile(r"^\s*(?:\{|[\w.-]+=\S*$)")


def switched_run(call: Call, words: Sequence[Any], program: Program | None = None) -> None:
    """A run's parameters (a DAG run's conf, a deployment's parameters, an API request's
    body; not the program's own options, judged by its rows) that switch on a mode named by
    a replacing verb (full_refresh, overwrite, recreate): the run does what that option does
    on a command line (`dbt --full-refresh`), a replace."""
    replacing = registry().vocabulary.get("replace", frozenset())
    for word in words:
        if not _PARAMETERS.match(word.value):  # not a word of SQL that names a setting
            continue
        for match in _SWITCH_ON.finditer(word.value):
            name = CAMEL.sub("-", match.group(1).rsplit(".", 1)[-1]).lower().replace("_", "-")
            if name not in replacing:
                continue
            message = f"runs with {match.group(0)} (its tables are rebuilt from scratch)"
            if program is None:
                call.add(Intent.WRITE, f"{call.prog} {message}")
                call.add(Intent.DELETE, f"{call.prog} {message}: what it held is replaced")
                call.obj(ObjectKind.TABLE, ObjectAction.REPLACE, call.prog)
            else:
                record_effect(call, program, Verdict("replace", message, (), None))
            return
