"""An HTTP POST to an orchestrator's endpoint that starts a run of a named job (Airflow's
`POST /api/v2/dags/{dag_id}/dagRuns`) does what the command line's trigger does: a job named for
deleting deletes what its code picks (rules/programs.yaml run_endpoints)."""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from guardrails_core.intent.programs import RULES
from guardrails_core.intent.shell.options import _Call
from guardrails_core.intent.shell.words import _Word
from guardrails_core.model import Intent, ObjectAction, ObjectKind
from guardrails_core.yaml_data import load_yaml


@functools.cache
def _endpoints() -> tuple[tuple[re.Pattern[str], ...], tuple[str, ...]]:
    data = load_yaml(RULES.read_text(encoding="utf-8"))["run_endpoints"]
    paths = tuple(re.compile(str(path)) for path in data["paths"])
    return paths, tuple(str(job).lower() for job in data["jobs"])


def triggered_deleting_job(url: str) -> str | None:
    """The job a run-trigger URL starts, when its name says it deletes."""
    paths, jobs = _endpoints()
    try:
        path = unquote(urlsplit(url if "://" in url else f"http://{url}").path)
    except ValueError:
        return None
    for pattern in paths:
        found = pattern.search(path)
        if found and any(fnmatch.fnmatchcase(found["job"].lower(), job) for job in jobs):
            return found["job"]
    return None


def judge_run_triggers(call: _Call, urls: Sequence[_Word], posts: bool) -> None:
    """`posts`: the request is a POST (named, or implied by a body)."""
    if not posts:
        return
    for url in urls:
        job = triggered_deleting_job(url.value)
        if job is None:
            continue
        what = f"{call.prog} triggers a run of {job}, named for deleting, through its API"
        call.add(Intent.DELETE, what)
        call.add(Intent.MASS_MUTATION, f"{what}: what it deletes is in code not visible here")
        call.add(Intent.UNKNOWN, f"{what}: its code is not visible here")
        call.obj(ObjectKind.URL, ObjectAction.DELETE, url.display)
