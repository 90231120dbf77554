"""The SQL rule tables as data (core/intent/rules/*.yaml): every row loads, and a wrong row is
refused with an error that names the file, the row and what to fix."""

from __future__ import annotations

import pytest

from guardrails_core.intent.sql.analyze import _effect_row, _effect_rows


def test_every_effect_row_loads_with_its_words() -> None:
    rows = _effect_rows()
    assert len(rows) >= 30
    assert all(row.words for row in rows)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            {"pattern": r"^ALTER\b.*\bTTL\b", "words": ["TTL", "EXPIRY"], "intents": ["delete"]},
            "['EXPIRY'] are not written in the pattern",
        ),
        ({"pattern": r"\bX\b", "words": [], "intents": [], "message": "m"}, "[]"),
        ({"pattern": "(", "words": ["("], "intents": [], "message": "m"}, "missing )"),
        ({"pattern": "X", "words": ["X"], "intents": ["nope"], "message": "m"}, "'nope'"),
        ({"pattern": "X", "words": ["X"], "intents": []}, "'message'"),
    ],
)
def test_a_wrong_effect_row_is_refused_with_its_place(row: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        _effect_row(row, 7)
    message = str(raised.value)
    assert message.startswith("sql_effects.yaml: effects[7]"), message
    assert problem in message, message
    assert message.endswith("fix the row"), message


def test_words_in_strings_do_not_name_an_effect() -> None:
    from guardrails_core import analyze

    quiet = analyze("ALTER TABLE t ADD COLUMN note text DEFAULT 'ttl'", dialect="postgres")
    loud = analyze("ALTER TABLE t MODIFY TTL d + INTERVAL 1 DAY", dialect="clickhouse")
    assert "mass_mutation" not in {str(i) for i in quiet.intents}
    assert "mass_mutation" in {str(i) for i in loud.intents}
