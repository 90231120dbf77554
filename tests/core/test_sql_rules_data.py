"""The SQL rule tables as data (core/intent/rules/*.yaml): every row loads, and a wrong row is
refused with an error that names the file, the row and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrails_core.intent.sql.function_rules import (
    FUNCTIONS_FILE,
    FunctionRegistry,
    FunctionRegistryError,
    load_function_registry,
)
from guardrails_core.intent.sql.named_effects import _effect_row, _effect_rows
from guardrails_core.model import Intent, ObjectAction, ObjectKind


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


# --------------------------------------------------------------------------- functions

SHIPPED = FUNCTIONS_FILE.read_text(encoding="utf-8")


def test_the_function_registry_loads_every_family() -> None:
    registry = load_function_registry()
    read_file = registry.functions["pg_read_file"]
    assert read_file.intents == (Intent.HOST_ACCESS,)
    assert read_file.argument == (ObjectKind.FILE, ObjectAction.READ)
    assert registry.functions["dblink_exec"].runs_sql_argument
    assert registry.packages["utl_http"].intents == (Intent.EXPORT,)
    assert "pg_" in registry.system_namespaces
    assert registry.system_reads.match("pg_table_size")
    assert not registry.system_reads.match("pg_read_file")
    assert "query_to_xml" in registry.sql_text


def registry_from(tmp_path: Path, text: str) -> FunctionRegistry:
    path = tmp_path / "sql_functions.yaml"
    path.write_text(text, encoding="utf-8")
    return load_function_registry(path)


def test_a_row_added_to_the_data_is_what_the_analyzer_uses(tmp_path: Path) -> None:
    extra = "  - {names: [acme_exfil], intents: [export], message: posts rows to acme}\n"
    text = SHIPPED.replace("functions:\n", "functions:\n" + extra, 1)
    registry = registry_from(tmp_path, text)
    assert registry.functions["acme_exfil"].intents == (Intent.EXPORT,)
    assert registry.functions["pg_read_file"] == load_function_registry().functions["pg_read_file"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "  - {names: [f1], intents: [read], message: m, runs_sql_argument: true}\n",
            "functions[0] (f1): unknown key ['runs_sql_argument']",
        ),
        ("  - {names: [f1], intents: [reads], message: m}\n", "functions[0] (f1): 'reads'"),
        ("  - {names: [f1], intents: [read]}\n", "functions[0] (f1): every row needs"),
        ("  - {names: [F1], intents: [read], message: m}\n", "['F1'] are not lower-case names"),
        ("  - {names: [], intents: [read], message: m}\n", "functions[0].names must be a non-e"),
        (
            "  - {names: [f1], intents: [], message: m, argument: {kind: disk, action: read}}\n",
            "functions[0] (f1): 'disk' is not a valid ObjectKind",
        ),
        (
            "  - {names: [f1], intents: [read], message: m, runs_sql: yes please}\n",
            "runs_sql is true or false",
        ),
        (
            "  - {names: [pg_read_file], intents: [read], message: m}\n",
            "'pg_read_file' is already in functions[0]",
        ),
    ],
)
def test_a_wrong_function_row_is_refused_with_its_place(
    tmp_path: Path, row: str, problem: str
) -> None:
    text = SHIPPED.replace("functions:\n", "functions:\n" + row, 1)
    with pytest.raises(FunctionRegistryError) as raised:
        registry_from(tmp_path, text)
    message = str(raised.value)
    assert message.startswith("sql_functions.yaml: "), message
    assert problem in message, message
    assert "fix the row" in message, message


def test_a_wrong_system_read_pattern_or_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FunctionRegistryError, match=r"system_reads\[0\] \('pg_\(' ?\)"):
        registry_from(tmp_path, SHIPPED.replace("system_reads:\n", "system_reads:\n  - 'pg_('\n"))
    with pytest.raises(FunctionRegistryError, match="exactly the sections"):
        registry_from(tmp_path, SHIPPED.replace("sql_text:", "sql_texts:"))
