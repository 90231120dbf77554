"""Long flat conditions (sql/long_chains.py) are built without sqlglot's parser: the analysis of
every text must be exactly what it is when the same text is parsed as written."""

from __future__ import annotations

import random

import pytest

from guardrails_core.intent.sql import long_chains
from guardrails_core.intent.sql.analyze import _analyze_text
from guardrails_core.intent.sql.dialects import _dialect, resolve_dialect
from guardrails_core.intent.sql.statement import _Names
from guardrails_core.model import StatementEffect

DIALECTS = [
    "postgres", "mysql", "tsql", "oracle", "snowflake", "bigquery", "databricks",
    "redshift", "clickhouse", "trino", "duckdb", "sqlite", None,
]  # fmt: skip


def _terms(
    count: int, seed: int, *, column: str = "id", operators: tuple[str, ...] = ("=",)
) -> list[str]:
    rng = random.Random(seed)
    literals = [lambda: str(rng.randrange(1, 10**6)), lambda: f"'k{rng.randrange(10**6)}'"]
    return [f"{column} {rng.choice(operators)} {rng.choice(literals)()}" for _ in range(count)]


def _or(count: int, seed: int = 1, **kwargs: object) -> str:
    return " OR ".join(_terms(count, seed, **kwargs))  # type: ignore[arg-type]


def _and(count: int, seed: int = 2, **kwargs: object) -> str:
    return " AND ".join(_terms(count, seed, **kwargs))  # type: ignore[arg-type]


# Each: a text with a long run somewhere, and whether the run can be folded there.
SHAPES = [
    ("scoped delete", f"DELETE FROM t WHERE {_or(400)}", True),
    (
        "delete, qualified names, then ORDER BY",
        f"DELETE FROM t WHERE {_or(300, column='t.id')} ORDER BY id",
        True,
    ),
    (
        "update in parentheses beside a filter",
        f"UPDATE t SET x = 1 WHERE batch = 7 AND ({_or(300)})",
        True,
    ),
    ("AND run then OR", f"DELETE FROM t WHERE {_and(400, operators=('<>',))} OR id = 5", True),
    ("OR run then AND binds its last term", f"DELETE FROM t WHERE {_or(400)} AND id = 5", True),
    ("not-equal run: every row", f"DELETE FROM t WHERE {_or(400, operators=('<>', '!='))}", True),
    ("ranges", f"DELETE FROM t WHERE {_or(400, operators=('<', '>=', '<=', '>'))}", True),
    (
        "two runs, two statements",
        f"DELETE FROM a WHERE {_or(400)};\nDELETE FROM b WHERE {_or(400, 3)};",
        True,
    ),
    (
        "inside a string",
        "SELECT 'WHERE " + " OR ".join(f"id = {n}" for n in range(600)) + "' FROM t",
        False,
    ),
    (
        "inside a quoted name",
        'SELECT 1 AS "WHERE ' + " OR ".join(f"id = {n}" for n in range(600)) + '" FROM t',
        False,
    ),
    ("inside a comment", f"DELETE FROM t /* WHERE {_or(300)} */ WHERE id = 1", False),
    ("after a call's parenthesis", f"SELECT COALESCE({_or(300)}) FROM t", False),
    (
        "mixed connectors",
        "DELETE FROM t WHERE " + " OR ".join(f"id = {i} AND k = {i}" for i in range(300)),
        False,
    ),
    ("a tautology ends the run", f"DELETE FROM t WHERE {_or(300)} OR 1 = 1", True),
    (
        "the run, then more after it",
        f"DELETE FROM t WHERE {_or(300)} OR id IN (SELECT id FROM u)",
        True,
    ),
    ("join condition", f"SELECT * FROM a JOIN b ON {_or(400, column='b.k')} WHERE a.x = 1", True),
    ("nested parentheses", "DELETE FROM t WHERE " + "(" * 2500 + "id = 1" + ")" * 2500, True),
    (
        "nested, spaced, more closing than opening, beside other parentheses",
        "DELETE FROM t WHERE (x = 1 OR (" + "( " * 1200 + "id = 'a'" + " )" * 1201 + " AND (y))",
        True,
    ),
    ("nested in a string", "SELECT '" + "(" * 800 + "id = 1" + ")" * 800 + "' FROM t", False),
    (
        "nested around a comment",
        "DELETE FROM t WHERE " + "(" * 800 + "id = 1 /* ) */" + ")" * 800,
        False,
    ),
    ("nested list", "SELECT * FROM t WHERE x IN " + "(" * 800 + "1, 2" + ")" * 800, False),
    (
        "nested and a long run",
        "DELETE FROM t WHERE " + "(" * 100 + _or(300) + ")" * 100 + " OR " + _or(300),
        True,
    ),
    ("keyword as a name", f"DELETE FROM t WHERE {_or(400, column='current_date')}", False),
]


def _unfolded(text: str, dialect: str | None) -> list[StatementEffect]:
    canonical = resolve_dialect(dialect)
    return _analyze_text(text, canonical, 0, _Names(_dialect(canonical)), folding=False)


def _folded(text: str, dialect: str | None) -> list[StatementEffect]:
    canonical = resolve_dialect(dialect)
    return _analyze_text(text, canonical, 0, _Names(_dialect(canonical)), folding=True)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("label", "text", "folds"), SHAPES, ids=[shape[0] for shape in SHAPES])
def test_analysis_is_the_same_as_parsed_as_written(
    label: str, text: str, folds: bool, dialect: str | None
) -> None:
    written = _unfolded(text, dialect)
    try:
        fast = _folded(text, dialect)
    except long_chains.NotRestored:
        fast = None  # the caller analyses the text as written: the same result by construction
    if fast is not None:
        assert fast == written
    canonical = resolve_dialect(dialect)
    folded = long_chains.fold(text, _dialect(canonical), canonical)
    if folds and dialect not in ("tsql",):  # T-SQL: a name may be read as a variable
        assert folded is not None, label


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_folded_tree_is_the_tree_sqlglot_builds(dialect: str | None) -> None:
    canonical = resolve_dialect(dialect)
    one = _dialect(canonical)
    text = f"DELETE FROM t WHERE {_or(300, column='s.t.c', operators=('=', '<>', '>='))}"
    folded = long_chains.fold(text, one, canonical)
    assert folded is not None
    tree = one.parse(folded.source)[0]
    folded.restore(tree, 0, len(text))
    expected = one.parse(text)[0]
    assert long_chains._same_shape(tree, expected)
    assert tree.sql(dialect=one) == expected.sql(dialect=one)


def test_a_placeholder_inside_a_string_sends_the_text_back() -> None:
    numbers = " OR ".join(f"id = {number}" for number in range(600))
    text = f"SELECT 'rows WHERE {numbers}' FROM t"
    canonical = resolve_dialect("postgres")
    folded = long_chains.fold(text, _dialect(canonical), canonical)
    assert folded is not None
    assert not folded.placed(_Names(_dialect(canonical)).tokenize(folded.source))


def test_short_texts_are_never_folded() -> None:
    text = f"DELETE FROM t WHERE {_or(long_chains.MIN_TERMS - 1)}"
    canonical = resolve_dialect("postgres")
    assert (
        len(text) < long_chains.MIN_TEXT
        or long_chains.fold(text, _dialect(canonical), canonical) is None
    )
