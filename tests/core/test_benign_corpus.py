"""False positives on benign SQL and shell: the corpus in tests/benign/ (Spider-style queries, dbt
models and the SQL dbt adapters generate, BI reports, keyed upserts, loads from stages, scratch
tables, across 13 dialects; the TPC-H and TPC-DS queries from DuckDB's generators; Spider-style
questions transpiled to 12 dialects; hand-written pipeline DML/DDL; the SQL dbt adapters
generate, judged with the node's context and the dbt pack; routine data-engineering shell
commands in shell.yaml; generated tables are written by tests/benign/tools/) must be allowed by
the built-in baseline, counting `review` as a block.

The rows still blocked are listed below with why; a new block fails, and so does a listed row
that is allowed again (take it off the list). Shell rows are judged as an AI agent too: the
baseline reviews, for agents, programs no registry knows; routine tools must be known, and only
what runs code the text does not show stays reviewed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.redteam.cases import Case, load_cases
from tests.redteam.score import judge

BENIGN = load_cases(sorted((Path(__file__).parent.parent / "benign").glob("*.yaml")))

_SQL_FILE = "runs a SQL file whose statements are not visible here"
_RESTORE = "pg_restore into a database: what the dump holds is not visible here"

# Blocked by design, for every actor (shell.yaml).
STILL_BLOCKED: dict[str, str] = {
    "benign-shell-077": "python -c builds an Airflow DagBag: imports every DAG file's code",
    "benign-shell-104": f"psql -f {_SQL_FILE}",
    "benign-shell-117": f"snowsql -f {_SQL_FILE}",
    "benign-shell-137": f"psql -f {_SQL_FILE}",
    "benign-shell-148": _RESTORE,
    "benign-shell-155": _RESTORE,
    "benign-shell-245": f"psql -f {_SQL_FILE}",
    "benign-shell-361": "heredoc python: the pure-Python reader does not follow pathlib/json",
    "benign-shell-365": "jupyter nbconvert --execute runs a notebook's code",
    "benign-shell-395": f"psql -f {_SQL_FILE}",
}

_PYTHON_CODE = "runs a Python script or module whose code is not visible here"

# Reviewed for AI agents by design, besides STILL_BLOCKED: code the text does not show.
AI_REVIEWED: dict[str, str] = {
    **dict.fromkeys(
        (
            f"benign-shell-{number}"
            for number in (341, 354, 355, 366, 381, 382, 385, 386, 389, 392, 394, 396, 400)
        ),
        _PYTHON_CODE,
    ),
    "benign-shell-243": "docker run of an image whose entrypoint is not visible here",
    "benign-shell-254": "docker run of an image whose entrypoint is not visible here",
    "benign-shell-312": "python -m build runs the project's build backend",
    "benign-shell-353": "tox runs the commands tox.ini lists",
    "benign-shell-360": "spark-submit runs a job script whose code is not visible here",
    "benign-shell-364": "make typecheck runs a recipe the Makefile holds",
}

SHELL = [case for case in BENIGN if case.kind == "shell"]


def test_the_corpus_is_large_and_wide() -> None:
    assert len(BENIGN) >= 2000
    assert len({case.dialect for case in BENIGN if case.kind == "sql"}) >= 12
    assert len(SHELL) >= 400
    assert all(case.expect == "allow" for case in BENIGN)


@pytest.mark.parametrize("case", BENIGN, ids=lambda case: case.id)
def test_benign_sql_is_allowed(case: Case) -> None:
    result = judge(case)
    if case.id in STILL_BLOCKED:
        assert not result["ok"], f"{case.id} is allowed now: take it off STILL_BLOCKED"
    else:
        assert result["ok"], (case.text, result)


@pytest.mark.parametrize("case", SHELL, ids=lambda case: case.id)
def test_benign_shell_is_allowed_for_ai_agents(case: Case) -> None:
    result = judge(replace(case, actor="ai_agent"))
    if case.id in STILL_BLOCKED or case.id in AI_REVIEWED:
        assert not result["ok"], f"{case.id} is allowed for AI agents now: take it off the list"
    else:
        assert result["ok"], (case.text, result)
