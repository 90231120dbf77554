"""The SQL analyzer's catalogue: statements in, intents, objects and the baseline verdict out.

The rows are data, one file per dialect (tests/catalogue/sql_<dialect>.yaml), in the red-team
tables' format and judged by the same harness, stricter: `exact: true` intents and every object
("action kind name"). Portable SQL appears in every dialect's file: it must be judged the same
everywhere.
"""

from __future__ import annotations

import pytest

from tests.redteam.cases import CATALOGUE_DIR, Case, load_cases
from tests.redteam.score import judge

DIALECTS = [
    "postgres",
    "mysql",
    "sqlite",
    "snowflake",
    "bigquery",
    "redshift",
    "tsql",
    "spark",
    "databricks",
    "duckdb",
    "trino",
    "oracle",
    "clickhouse",
]
CATALOGUE = load_cases(sorted(CATALOGUE_DIR.glob("sql_*.yaml")))


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda case: case.id)
def test_catalogue(case: Case) -> None:
    result = judge(case)
    assert result["ok"], (case.text, result)


def test_catalogue_size_and_reach() -> None:
    assert len(CATALOGUE) >= 300
    assert {case.dialect for case in CATALOGUE} >= set(DIALECTS)
    assert all(case.exact and case.objects is not None for case in CATALOGUE)
