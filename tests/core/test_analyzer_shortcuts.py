"""Shortcuts the analyzer takes for speed give what the long way gives: the sample-row proof
(intent/sampling.py) skips conditions whose answer is known from their shape, and the named
effects (rules/sql_effects.yaml) look for their triggers in one regex pass."""

from __future__ import annotations

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails_core.intent import sampling
from guardrails_core.intent.sql.named_effects import _effect_triggers, _trigger_search

ROW_COLUMNS = ["t.a", "t.b", "T.c", "a", "b"]
OUTSIDE_COLUMNS = ["s.a", "s.b", "x.a", "u.z"]


def _condition(sql: str) -> sqlglot.exp.Expr:
    return sqlglot.parse_one(f"SELECT 1 WHERE {sql}").args["where"].this


def _evaluated(condition: sqlglot.exp.Expr, dialect: str | None) -> bool:
    """restricts_nothing with the key shortcut switched off: every sample row evaluated."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sampling, "_matches_on_keys", lambda *_: False)
        return sampling.restricts_nothing(condition, frozenset({"t"}), dialect)


@settings(max_examples=60, deadline=None)
@given(
    terms=st.lists(
        st.tuples(st.sampled_from(ROW_COLUMNS), st.sampled_from(OUTSIDE_COLUMNS), st.booleans()),
        min_size=1,
        max_size=3,
    ),
    dialect=st.sampled_from([None, "postgres", "mysql", "tsql"]),
)
def test_key_equalities_are_restricted_as_the_sample_rows_find(
    terms: list[tuple[str, str, bool]], dialect: str | None
) -> None:
    sql = " AND ".join(f"{o} = {r}" if flip else f"{r} = {o}" for r, o, flip in terms)
    condition = _condition(sql)
    assert sampling._matches_on_keys(condition, frozenset({"t"}))
    assert not _evaluated(condition, dialect)
    assert not sampling.restricts_nothing(condition, frozenset({"t"}), dialect)


@pytest.mark.parametrize(
    "sql",
    [
        "t.a = t.b",  # both sides read the row
        "t.a = s.a OR t.b = s.b",  # not a conjunction
        "t.a = s.a AND t.b = 1",  # a literal joins the samples
        "t.a + 0 = s.a",  # not a plain column
        "t.a >= s.a",  # not an equality
    ],
)
def test_other_shapes_are_evaluated(sql: str) -> None:
    assert not sampling._matches_on_keys(_condition(sql), frozenset({"t"}))


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.one_of(
            st.sampled_from(_effect_triggers()),
            st.text(alphabet="ABCDEGLNOPRSTXY_ .(", max_size=12),
        ),
        max_size=6,
    ).map("".join)
)
def test_the_trigger_search_finds_what_substring_tests_find(text: str) -> None:
    expected = any(trigger in text for trigger in _effect_triggers())
    assert (_trigger_search()(text) is not None) is expected
