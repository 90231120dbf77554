"""The hot path builds its StatementEffects, Analyses, CommandRefs and Decisions unvalidated
(`model.trusted`): over the catalogues and the red-team tables, every model of every decision
and analysis must equal the one validation builds from the same fields, type for type, with
the same fields set. Decision ids come from a pool of random bytes: unique, and never shared
with a forked child."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from guardrails_core import Actor, Context, check
from guardrails_core.intent import analyze
from guardrails_core.model import Decision, Mode, Verdict, random_id
from tests.redteam.cases import CASES_DIR, CATALOGUE_DIR, load_cases

TABLES = sorted(CATALOGUE_DIR.glob("*.yaml")) + sorted(CASES_DIR.glob("*.yaml"))


def assert_as_validated(model: BaseModel, where: str) -> None:
    cls = type(model)
    given = {name: model.__dict__[name] for name in model.model_fields_set}
    validated = cls(**given)
    assert validated.model_fields_set == model.model_fields_set, where
    for name, field in cls.model_fields.items():
        if name not in given and field.default_factory is not None:
            continue  # made afresh by every build (a decision's id and time)
        _assert_same(model.__dict__[name], validated.__dict__[name], f"{where}.{name}")


def _assert_same(trusted: Any, validated: Any, where: str) -> None:
    assert type(trusted) is type(validated), (where, type(trusted), type(validated))
    assert trusted == validated, where
    if isinstance(trusted, tuple):
        for position, (mine, theirs) in enumerate(zip(trusted, validated, strict=True)):
            _assert_same(mine, theirs, f"{where}[{position}]")
    elif isinstance(trusted, BaseModel):
        assert_as_validated(trusted, where)


@pytest.mark.parametrize("table", TABLES, ids=lambda path: path.name)
def test_trusted_builds_equal_validated_ones(table: Path) -> None:
    for case in load_cases([table]):
        decision = check(
            case.text,
            kind=case.kind,
            dialect=case.dialect,
            context=Context(actor=Actor(kind=case.actor)),
            analysis_cache=None,
            decision_cache=None,
        )
        assert_as_validated(decision, f"{case.id}: decision")
        analysis = analyze(case.text, kind=case.kind, dialect=case.dialect, cache=None)
        assert_as_validated(analysis, f"{case.id}: analysis")


def test_a_mode_given_as_text_is_the_enum_member() -> None:
    decision = check("DELETE FROM t", dialect="postgres", mode="audit")  # type: ignore[arg-type]
    assert decision.mode is Mode.AUDIT
    assert decision.decision is Verdict.DENY and not decision.enforced
    assert_as_validated(decision, "decision")
    assert Decision.from_dict(decision.to_dict(computed=False)) == decision


def test_decision_ids_are_unique_and_a_forked_child_draws_its_own() -> None:
    ids = {random_id() for _ in range(1000)}  # several refills of the pool
    assert len(ids) == 1000 and all(len(value) == 32 for value in ids)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.write(writer, random_id().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    from_child = os.read(reader, 64).decode()
    os.close(reader)
    assert from_child != random_id() and from_child not in ids


def test_a_memoised_decision_is_renewed_as_model_copy_would_copy_it() -> None:
    from datetime import UTC, datetime

    from guardrails_core.model import renewed

    sql = "DELETE FROM sales.orders WHERE region = 'EU'"
    first = check(sql, dialect="postgres", context=Context(actor=Actor(kind="ai_agent")))
    again = check(sql, dialect="postgres", context=Context(actor=Actor(kind="ai_agent")))
    assert again.decision_id != first.decision_id
    assert again.model_dump(exclude={"decision_id", "decided_at"}) == first.model_dump(
        exclude={"decision_id", "decided_at"}
    )
    update = {"decision_id": random_id(), "decided_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}
    mine, pydantics = renewed(first, **update), first.model_copy(update=update)
    assert mine == pydantics
    assert mine.model_fields_set == pydantics.model_fields_set
    assert mine.model_dump_json() == pydantics.model_dump_json()
    assert first.decision_id != mine.decision_id  # the original is left as it was


def test_a_hashed_key_is_equal_only_to_the_same_values() -> None:
    from guardrails_core.lru import BoundedLRU, HashedKey

    memo: BoundedLRU[HashedKey, str] = BoundedLRU(4)
    context = Context(actor=Actor(kind="human"))
    memo.put(HashedKey(("a", context)), "one")
    assert memo.get(HashedKey(("a", Context(actor=Actor(kind="human"))))) == "one"
    assert memo.get(HashedKey(("a", Context(actor=Actor(kind="service"))))) is None
    assert memo.get(HashedKey(("b", context))) is None
    assert HashedKey(("a",)) != ("a",)
