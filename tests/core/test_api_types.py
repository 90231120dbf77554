"""The public API takes what users write: enum values as strings, dialect names with a hint when
misspelt (a caller's mistake raises; only unreadable commands become `unparseable`)."""

from __future__ import annotations

from typing import get_args

import pytest

from guardrails_core import Actor, Verdict, check
from guardrails_core.intent import UnknownDialectError
from guardrails_core.model import ActorKind, ActorKindName


def test_actor_kind_names_are_the_enum_values() -> None:
    assert set(get_args(ActorKindName)) == {kind.value for kind in ActorKind}
    assert Actor(kind="ai_agent").kind is ActorKind.AI_AGENT


@pytest.mark.parametrize(
    ("dialect", "hint"),
    [
        ("postgress", "did you mean 'postgres'?"),
        ("Postgress", "did you mean 'postgres'?"),
        ("snowflak", "did you mean 'snowflake'?"),
        ("mysq", "did you mean 'mysql'?"),
        ("oracel", "did you mean 'oracle'?"),
    ],
)
def test_a_misspelt_dialect_raises_with_the_closest_name(dialect: str, hint: str) -> None:
    with pytest.raises(UnknownDialectError, match=f"unknown SQL dialect '{dialect}' \\({hint}"):
        check("SELECT 1", dialect=dialect)


def test_a_name_like_no_dialect_raises_without_a_guess() -> None:
    with pytest.raises(UnknownDialectError) as raised:
        check("SELECT 1", dialect="cobol")
    assert "did you mean" not in str(raised.value)
    assert "known dialects: " in str(raised.value)


@pytest.mark.parametrize("dialect", ["postgres", "postgresql", "PostgreSQL", "sqlite3", "tsql"])
def test_known_names_and_aliases_are_accepted(dialect: str) -> None:
    assert check("SELECT 1", dialect=dialect).decision is Verdict.ALLOW
