"""The pure side of reversibility: statements rewritten into the SELECT of the rows they touch
(a catalogue, SQL in and SQL out), the key that finds rows again, and what gets protected."""

from __future__ import annotations

import pytest

from guardrails_core import analyze
from guardrails_core.impact.plan import (
    Column,
    Protection,
    TableInfo,
    choose_key,
    judged_tree,
    plan_statement,
    pre_image_problem,
)
from guardrails_core.impact.statements import (
    RowChange,
    TableDrop,
    UnsupportedStatement,
    row_changes,
    table_drop,
)
from guardrails_core.model import Operation
from guardrails_core.policy.schema import ImpactSpec


def changes(statement: str, dialect: str) -> tuple[RowChange, ...]:
    """The row changes of `statement` as the analyzer read it (the tree impact planning reads)."""
    [effect] = analyze(statement, dialect=dialect).statements
    return row_changes(judged_tree(effect, dialect), dialect)


def dropped(statement: str, dialect: str) -> TableDrop | None:
    [effect] = analyze(statement, dialect=dialect).statements
    return table_drop(judged_tree(effect, dialect), dialect)


# (dialect, statement, the SELECT of the rows it touches)
ROWS = [
    ("postgres", "DELETE FROM events WHERE created_at < now()",
     "SELECT * FROM events WHERE created_at < CURRENT_TIMESTAMP"),
    ("postgres", "DELETE FROM public.events AS e USING s WHERE e.id = s.id",
     "SELECT * FROM public.events AS e WHERE EXISTS(SELECT 1 FROM s WHERE e.id = s.id)"),
    ("postgres", "UPDATE t AS z SET a = 1 FROM s JOIN u ON s.id = u.id WHERE z.id = s.id",
     "SELECT * FROM t AS z WHERE EXISTS(SELECT 1 FROM s JOIN u ON s.id = u.id WHERE z.id = s.id)"),
    ("postgres", "WITH x AS (SELECT 1 AS id) DELETE FROM t WHERE id IN (SELECT id FROM x)",
     "WITH x AS (SELECT 1 AS id) SELECT * FROM t WHERE id IN (SELECT id FROM x)"),
    ("postgres", "MERGE INTO t AS d USING s ON d.id = s.id WHEN MATCHED THEN DELETE",
     "SELECT * FROM t AS d WHERE EXISTS(SELECT 1 FROM s WHERE d.id = s.id)"),
    ("postgres", 'TRUNCATE TABLE "Orders"', 'SELECT * FROM "Orders"'),
    ("mysql", "DELETE FROM t WHERE id < 5 ORDER BY id LIMIT 3",
     "SELECT * FROM t WHERE id < 5 ORDER BY id LIMIT 3"),
    ("mysql", "UPDATE `db`.`t` SET v = 1 WHERE v IS NULL",
     "SELECT * FROM `db`.`t` WHERE v IS NULL"),
    ("sqlite", "DELETE FROM t", "SELECT * FROM t"),
    ("sqlite", 'UPDATE "T" SET x = x + 1 WHERE rowid IN (SELECT rowid FROM "T" LIMIT 2)',
     'SELECT * FROM "T" WHERE rowid IN (SELECT rowid FROM "T" LIMIT 2)'),
]  # fmt: skip


@pytest.mark.parametrize(("dialect", "statement", "rows"), ROWS)
def test_rows_a_statement_touches(dialect: str, statement: str, rows: str) -> None:
    [change] = changes(statement, dialect)
    assert change.rows_sql == rows


def test_truncate_of_several_tables_is_one_change_per_table() -> None:
    truncated = changes("TRUNCATE a, s.b", "postgres")
    assert [(c.operation, c.table.display) for c in truncated] == [
        ("TRUNCATE", "a"),
        ("TRUNCATE", "s.b"),
    ]


def test_counting_wraps_the_selection() -> None:
    [change] = changes("DELETE FROM t WHERE v = 1", "mysql")
    assert change.count_sql("mysql") == (
        "SELECT count(*) FROM (SELECT * FROM t WHERE v = 1) AS `guardrails_rows`"
    )


# (dialect, statement, written columns, why its rows could differ, why running it is unsafe)
PROBLEMS = [
    ("postgres", "UPDATE t SET a = 1, (b, c) = (2, 3) WHERE id = 1", {"a", "b", "c"}, None, None),
    ("mysql", "DELETE FROM t WHERE v < 5 LIMIT 10", set(), "LIMIT picks its rows", None),
    ("postgres", "DELETE FROM t WHERE id = nextval('s')", set(), "nextval()", "nextval()"),
    ("postgres", "DELETE FROM t WHERE id = my_cleanup(1)", set(), "my_cleanup()", "my_cleanup()"),
    ("postgres", "WITH d AS (DELETE FROM x RETURNING id) UPDATE t SET a = 1 "
     "WHERE id IN (SELECT id FROM d)", {"a"}, "data-modifying CTE", "data-modifying CTE"),
    ("sqlite", "DELETE FROM t WHERE random() < 0", set(), "not repeatable", None),
    ("mysql", "DELETE FROM events WHERE created_at < NOW()", set(), None, None),
    ("postgres", "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE",
     set(), "NOT MATCHED BY SOURCE", None),
]  # fmt: skip


@pytest.mark.parametrize(("dialect", "statement", "assigned", "problem", "effects"), PROBLEMS)
def test_what_makes_a_selection_unsafe_or_unrepeatable(
    dialect: str, statement: str, assigned: set[str], problem: str | None, effects: str | None
) -> None:
    [change] = changes(statement, dialect)
    assert change.assigned == assigned
    assert (change.capture_problem is None) is (problem is None)
    if problem:
        assert problem in (change.capture_problem or "")
    assert (change.side_effects is None) is (effects is None)
    if effects:
        assert effects in (change.side_effects or "")


@pytest.mark.parametrize(
    ("dialect", "statement", "message"),
    [
        ("mysql", "DELETE a FROM a JOIN b ON a.id = b.id", "multi-table DELETE"),
        ("mysql", "UPDATE a JOIN b ON a.id = b.id SET a.x = b.y", "multi-table UPDATE"),
        ("postgres", "INSERT INTO t VALUES (1)", "does not change rows in place"),
    ],
)
def test_shapes_that_are_not_rewritten(dialect: str, statement: str, message: str) -> None:
    with pytest.raises(UnsupportedStatement, match=message):
        changes(statement, dialect)


def test_drops() -> None:
    drop = dropped("DROP TABLE IF EXISTS s.a, b CASCADE", "postgres")
    assert drop is not None
    assert [t.display for t in drop.tables] == ["s.a", "b"]
    assert (drop.if_exists, drop.cascade, drop.temporary) == (True, True, False)
    assert dropped("DROP VIEW v", "postgres") is None


def info(
    *columns: Column, primary: tuple[str, ...] = (), unique: tuple[tuple[str, ...], ...] = ()
) -> TableInfo:
    return TableInfo("public", "t", columns, primary, unique)


NOT_NULL = Column("code", "text", nullable=False)
NULLABLE = Column("email", "text")
ID = Column("id", "integer", nullable=False)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        (info(ID, NOT_NULL, primary=("id",), unique=(("code",),)), ("id",)),
        (info(ID, NOT_NULL, unique=(("id", "code"), ("code",))), ("code",)),
        (info(ID, NULLABLE, unique=(("email",),)), None),  # NULL never finds its row again
        (info(ID, NULLABLE), None),
    ],
)
def test_the_key_that_finds_rows_again(table: TableInfo, key: tuple[str, ...] | None) -> None:
    assert choose_key(table) == key


def test_writing_the_key_or_having_none_means_no_pre_image() -> None:
    table = info(ID, NOT_NULL, primary=("id",))
    [renumbers] = changes("UPDATE t SET id = id + 1000 WHERE code = 'x'", "postgres")
    assert "writes key column(s) id" in (pre_image_problem(renumbers, table, ("id",)) or "")
    [plain] = changes("UPDATE t SET code = 'y' WHERE id = 1", "postgres")
    assert pre_image_problem(plain, table, ("id",)) is None
    assert "no primary key" in (pre_image_problem(plain, table, None) or "")


@pytest.mark.parametrize(
    ("statement", "spec", "protection", "problem"),
    [
        ("DELETE FROM t WHERE id = 1", ImpactSpec(), Protection.PRE_IMAGE, None),
        ("TRUNCATE t", ImpactSpec(), Protection.PRE_IMAGE, None),
        ("DROP TABLE t", ImpactSpec(), Protection.SOFT_DROP, None),
        ("DROP TABLE t", ImpactSpec(soft_drop=False), Protection.NONE, "soft drops are off"),
        ("DROP TABLE t CASCADE", ImpactSpec(), Protection.NONE, "CASCADE also destroys"),
        ("DROP VIEW v", ImpactSpec(), Protection.NONE, None),
        ("DELETE FROM t", ImpactSpec(pre_image_max_rows=0), Protection.NONE, "pre-images are off"),
        ("INSERT INTO t VALUES (1)", ImpactSpec(), Protection.NONE, None),
    ],
)
def test_what_each_statement_gets(
    statement: str, spec: ImpactSpec, protection: Protection, problem: str | None
) -> None:
    [effect] = analyze(statement, dialect="postgres").statements
    plan = plan_statement(effect, "postgres", spec)
    assert plan.protection is protection
    assert (plan.problem is None) is (problem is None)
    if problem:
        assert problem in (plan.problem or "")
    assert plan.replaces_statement is (protection is Protection.SOFT_DROP)


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE t SET a = 1", Operation.UPDATE),
        ("DELETE FROM t", Operation.DELETE),
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", Operation.MERGE),
        ("TRUNCATE t", Operation.TRUNCATE),
        ("DROP TABLE t", Operation.DROP_TABLE),
        ("DROP TABLE t CASCADE", Operation.DROP_TABLE),
        ("DROP VIEW v", None),
        ("DROP MATERIALIZED VIEW v", None),
        ("INSERT INTO t VALUES (1)", None),
        ("SELECT 1", None),
    ],
)
def test_the_operations_the_guard_acts_on(statement: str, operation: Operation | None) -> None:
    [effect] = analyze(statement, dialect="postgres").statements
    assert Operation.of(effect) is operation


def test_a_shell_program_is_no_sql_operation() -> None:
    [effect] = analyze("truncate -s 0 app.log", kind="shell").statements
    assert effect.operation == "truncate" and Operation.of(effect) is None
