"""Closed world: what is not understood is never a silent allow (issue 11 and 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrails_core import Actor, Context, check, load_policy
from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.programs import RULES
from guardrails_core.intent.shell.client_commands import client_commands
from guardrails_core.intent.sql.dialects import _dialect
from guardrails_core.intent.sql.parentheses import without_redundant_parentheses
from guardrails_core.intent.sql.statement import _Names

CONTEXT_ONLY_ALLOW = """\
version: 1
id: ctx
rules:
  - id: etl-allow
    match: {pipeline: [etl_*]}
    decision: allow
"""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE victim SET v = 0 WHERE true\x00",  # libpq sends the text up to the NUL
        "SELECT * FROM secrets\x00 WHERE false",
        "DELETE FROM orders WHERE id = 1\x1b",
        "DELET FROM orders",  # not SQL at all
    ],
)
def test_a_context_only_allow_rule_never_allows_what_was_not_understood(
    sql: str, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(CONTEXT_ONLY_ALLOW, encoding="utf-8")
    decision = check(
        sql,
        kind="sql",
        dialect="postgres",
        policy=load_policy(path),
        context=Context(pipeline="etl_nightly"),
    )
    assert str(decision.decision) == "deny"
    assert "unparseable" in {str(intent) for intent in decision.intents}


def test_the_same_rule_still_allows_what_was_understood(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(CONTEXT_ONLY_ALLOW, encoding="utf-8")
    decision = check(
        "SELECT 1",
        kind="sql",
        dialect="postgres",
        policy=load_policy(path),
        context=Context(pipeline="etl_nightly"),
    )
    assert str(decision.decision) == "allow"


@pytest.mark.parametrize(
    ("command", "actor", "verdict"),
    [
        ("frobnicate --all", "ai_agent", "review"),  # unknown program: a person looks
        ("frobnicate --all", "service", "allow"),  # recorded, allowed for services
        ("python tools/purge.py --env prod", "ai_agent", "review"),  # a script nobody saw
        ("gcloud sql instances delete prod-pg --quiet", "service", "deny"),
        ("terraform plan -destroy -out=x.tfplan", "ai_agent", "allow"),  # a plan only
        ("kubectl get pods -n data", "ai_agent", "allow"),
        ("aws s3 rm s3://lake/tmp/ --recursive --dryrun", "service", "allow"),
        ("timeout 30 dropdb shop", "service", "deny"),  # a wrapper hides nothing
        ("echo 'dropdb shop' >> ~/.bashrc", "ai_agent", "deny"),  # planted for later
        ("echo 'export DBT_PROFILES_DIR=$HOME/.dbt' >> ~/.bashrc", "ai_agent", "allow"),
        ("git -c core.pager='sh -c \"dropdb shop\"' log -1", "service", "deny"),
        ("LD_PRELOAD=/tmp/x.so psql -c 'SELECT 1'", "service", "deny"),
        ("rm -rf ./build dist node_modules", "ai_agent", "allow"),  # build output, not data
        ("rm -rf /var/lib/postgresql/16/main", "service", "deny"),
    ],
)
def test_shell_programs_are_known_by_their_subcommands_or_unknown(
    command: str, actor: str, verdict: str
) -> None:
    decision = check(command, kind="shell", context=Context(actor=Actor(kind=actor)))
    assert str(decision.decision) == verdict, [r.message for r in decision.reasons]


def test_every_program_row_loads_and_names_only_known_effects() -> None:
    table = registry()
    assert RULES.is_file()
    assert len(table.programs) > 300
    assert table.lookup("/usr/local/bin/terraform") is table.lookup("terraform")
    assert table.lookup("kafka-topics.sh") is table.lookup("kafka-topics")
    for family in table.client_commands:  # psql \i, sqlite3 .output: only known actions
        assert client_commands(family).commands


def test_ten_thousand_or_terms_and_a_hidden_tautology_are_analysed() -> None:
    terms = " OR ".join(f"id = {i}" for i in range(10_000))
    scoped = check(f"DELETE FROM t WHERE {terms}", kind="sql", dialect="postgres")
    assert str(scoped.decision) == "allow"
    hidden = check(
        f"DELETE FROM t WHERE x IS NULL OR {terms} OR X IS NOT NULL", kind="sql", dialect="postgres"
    )
    assert str(hidden.decision) == "deny"
    assert "mass_mutation" in {str(intent) for intent in hidden.intents}


def test_ten_thousand_or_terms_beside_a_join_are_analysed() -> None:
    """The join-link check once asked each column how deep it sat (3.6 s for this DELETE): its
    cost is measured by benchmarks/analyzer.py (the same DELETE, against the parse of it)."""
    terms = " OR ".join(f"o.id = {i}" for i in range(10_000))
    children = check(
        f"DELETE o, oi FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE {terms}",
        kind="sql",
        dialect="mysql",
    )
    assert str(children.decision) == "allow"
    parents = check(
        f"DELETE o, c FROM orders o JOIN customers c ON c.id = o.customer_id WHERE {terms}",
        kind="sql",
        dialect="mysql",
    )
    assert "mass_mutation" in {str(intent) for intent in parents.intents}


def test_five_thousand_nested_parentheses_are_analysed_not_refused() -> None:
    nested = "(" * 5_000 + "1 = 1" + ")" * 5_000
    decision = check(f"DELETE FROM t WHERE {nested}", kind="sql", dialect="postgres")
    assert "unparseable" not in {str(intent) for intent in decision.intents}
    assert "mass_mutation" in {str(intent) for intent in decision.intents}


@pytest.mark.parametrize(
    ("inner", "verdict", "intent"),
    [
        ("id = 1", "allow", "delete"),  # scoped at any depth
        ("id = 1 OR 1 = 1", "deny", "mass_mutation"),  # a tautology under 400 pairs
        ("(a, b) IN ((1, 2))", "allow", "delete"),  # a one-row list keeps its own pair
        ("id IN (SELECT id FROM t)", "deny", "mass_mutation"),  # the target over itself
        ("x IS NULL OR (((x IS NOT NULL)))", "deny", "mass_mutation"),
    ],
)
def test_redundant_parentheses_do_not_change_the_judgement(
    inner: str, verdict: str, intent: str
) -> None:
    shallow = check(f"DELETE FROM t WHERE ({inner})", kind="sql", dialect="postgres")
    deep = check(
        f"DELETE FROM t WHERE {'(' * 400}{inner}{')' * 400}", kind="sql", dialect="postgres"
    )
    assert str(deep.decision) == str(shallow.decision) == verdict
    assert set(deep.intents) == set(shallow.intents)
    assert intent in {str(i) for i in deep.intents}


def test_only_pairs_that_close_together_are_dropped() -> None:
    sql = "SELECT f((a)), ((1, 2)), (()), ((x) + (y)) FROM t WHERE (((a)))"
    names = _Names(_dialect("postgres"))
    reduced = without_redundant_parentheses(names.tokenize(sql))
    assert " ".join(token.text for token in reduced) == (
        "SELECT f ( a ) , ( ( 1 , 2 ) ) , ( ( ) ) , ( ( x ) + ( y ) ) FROM t WHERE ( a )"
    )
    unbalanced = names.tokenize("SELECT ((a) FROM t")
    assert without_redundant_parentheses(unbalanced) is unbalanced


def test_deeply_nested_sql_inside_deeply_nested_sql_is_analysed() -> None:
    # The embedded statement is analysed on the deep-stack thread the outer one already runs on
    # (before, it queued itself behind the outer analysis and check() never returned).
    nested = "(" * 300 + "1 = 1" + ")" * 300
    decision = check(f"EXECUTE 'DELETE FROM t WHERE {nested}'", kind="sql", dialect="postgres")
    assert {"delete", "mass_mutation"} <= {str(intent) for intent in decision.intents}


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("DELETE FROM victim WHERE V IS NULL OR v IS NOT NULL", "postgres"),  # case folds
        ("DELETE FROM events WHERE random() < 2", "postgres"),  # never reads the row
        ("DELETE FROM events WHERE ctid IS NOT NULL", "postgres"),  # system column
        ("DELETE FROM events WHERE now() > '2000-01-01'", "duckdb"),
        ("UPDATE t SET v = 0 WHERE x < 5 OR x >= 5", "mysql"),
    ],
)
def test_scoping_is_proven_not_presumed(sql: str, dialect: str) -> None:
    decision = check(sql, kind="sql", dialect=dialect)
    assert "mass_mutation" in {str(intent) for intent in decision.intents}


def test_batched_deletes_by_row_id_are_scoped() -> None:
    sql = (
        "DELETE FROM events WHERE ctid IN "
        "(SELECT ctid FROM events WHERE day < '2023-01-01' LIMIT 1000)"
    )
    assert str(check(sql, kind="sql", dialect="postgres").decision) == "allow"


@pytest.mark.parametrize(
    ("sql", "dialect", "verdict", "intent"),
    [
        # a procedure behind BEGIN is dynamic like CALL; a known package keeps its effect
        ("BEGIN my_pkg.purge_all(1); END;", "oracle", "review", "dynamic"),
        (
            "BEGIN DBMS_SCHEDULER.CREATE_JOB(job_name=>'x', job_type=>'EXECUTABLE'); END;",
            "oracle",
            "deny",
            "host_access",
        ),
        ("USE ROLE ACCOUNTADMIN", "snowflake", "deny", "privilege"),
        ("VACUUM orders RETAIN 0 HOURS", "databricks", "deny", "mass_mutation"),
        (
            "ALTER TABLE t SET TBLPROPERTIES "
            "('delta.deletedFileRetentionDuration'='interval 0 hours')",
            "spark",
            "deny",
            "mass_mutation",
        ),
        (
            "ALTER TABLE t EXECUTE expire_snapshots(retention_threshold => '0s')",
            "trino",
            "deny",
            "mass_mutation",
        ),
        ("PURGE RECYCLEBIN", "oracle", "deny", "mass_mutation"),
        ("DELETE FROM orders WHERE ROWNUM > 0", "oracle", "deny", "mass_mutation"),
        (
            "CREATE PROCEDURE p() RETURNS STRING LANGUAGE JAVASCRIPT AS $$ return 1 $$",
            "snowflake",
            "review",
            "unknown",
        ),
    ],
)
def test_dialects_beyond_the_red_team_tables(
    sql: str, dialect: str, verdict: str, intent: str
) -> None:
    decision = check(sql, kind="sql", dialect=dialect)
    assert str(decision.decision) == verdict, [r.message for r in decision.reasons]
    assert intent in {str(i) for i in decision.intents}


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("ALTER TABLE orders DROP CLUSTERING KEY", "snowflake"),
        ("ALTER TABLE orders DROP SEARCH OPTIMIZATION", "snowflake"),
        ("DBCC CHECKDB", "tsql"),
        ("SELECT 1\nGO\nSELECT 2", "tsql"),
        ("BULK INSERT orders FROM 'c:/data/o.csv' WITH (FIELDTERMINATOR = ',')", "tsql"),
        ("DECLARE c CURSOR FOR SELECT id FROM orders; OPEN c; FETCH NEXT FROM c; CLOSE c", "tsql"),
        ("CREATE SNAPSHOT TABLE ds.o_snap CLONE ds.orders", "bigquery"),
        ("LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE", "postgres"),
        ("VACUUM DELETE ONLY sales", "redshift"),
        ("EXPLAIN DELETE FROM orders", "mysql"),
        ("BEGIN DBMS_OUTPUT.PUT_LINE('done'); END;", "oracle"),
    ],
)
def test_valid_vendor_syntax_is_read_not_refused(sql: str, dialect: str) -> None:
    decision = check(sql, kind="sql", dialect=dialect)
    assert str(decision.decision) == "allow", [r.message for r in decision.reasons]


def test_a_self_join_on_the_key_is_every_row_but_a_join_of_namesakes_is_not() -> None:
    self_join = "DELETE FROM orders USING orders AS o2 WHERE orders.id = o2.id"
    assert str(check(self_join, kind="sql", dialect="postgres").decision) == "deny"
    namesakes = (
        "UPDATE events.payments t JOIN staging.payments s ON t.quantity = s.quantity "
        "SET t.status = s.status WHERE s.channel > '2024-09-18'"
    )
    assert str(check(namesakes, kind="sql", dialect="mysql").decision) == "allow"


@pytest.mark.parametrize("kind", ["TABLE", "SCHEMA", "DATABASE"])
def test_a_swap_names_both_sides_on_every_path(kind: str) -> None:
    decision = check(f"ALTER {kind} a SWAP WITH b", kind="sql", dialect="snowflake")
    replaced = {ref.name.lower() for ref in decision.objects if ref.action.value == "replace"}
    assert replaced == {"a", "b"}
