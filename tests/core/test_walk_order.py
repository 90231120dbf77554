"""node_index.bfs_nodes is the analyzer's walk: it must visit exactly the nodes sqlglot's own
walk visits, in the same order, on every tree the catalogues and the benchmark corpus make."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import SqlglotError

from guardrails_core.intent.node_index import bfs_nodes
from tests.redteam.cases import CATALOGUE_DIR, load_cases

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from corpus import corpus

TEXTS = [(case.dialect, case.text) for case in load_cases(sorted(CATALOGUE_DIR.glob("sql_*.yaml")))]


@pytest.mark.parametrize("source", ["catalogue", "corpus"])
def test_bfs_nodes_is_sqlglots_walk(source: str) -> None:
    texts = TEXTS if source == "catalogue" else corpus(600)
    compared = 0
    for dialect, text in texts:
        try:
            trees = sqlglot.parse(text, read=dialect)
        except (SqlglotError, ValueError):  # a dialect name only the analyzer resolves
            continue
        for tree in trees:
            if tree is None:
                continue
            walked = list(tree.walk())
            mine = bfs_nodes(tree)
            assert len(mine) == len(walked) and all(
                a is b for a, b in zip(mine, walked, strict=True)
            ), text
            compared += 1
    assert compared > 500
