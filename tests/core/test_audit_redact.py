"""What the audit trail keeps of a command: a catalogue of texts in, stored texts out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from guardrails_core.audit import TextForm, mask_secrets, normalize_sql, redact_decision
from guardrails_core.audit.redact import mask_sql
from guardrails_core.model import (
    Approval,
    CommandKind,
    Intent,
    Reason,
    StatementEffect,
    Verdict,
    fingerprint_text,
)
from tests.audit_fixtures import make_decision, sql_statement

# (text, shell, stored): secrets masked wherever they appear, the name that announced them kept.
SECRETS = [
    (
        "PGPASSWORD=hunter2 psql -h db -U app -c 'select 1'",
        True,
        "PGPASSWORD=*** psql -h db -U app -c 'select 1'",
    ),
    ("MYSQL_PWD='s3cr3t x' mysql -u root prod", True, "MYSQL_PWD=*** mysql -u root prod"),
    ("mysql -uroot -phunter2 -h db prod", True, "mysql -uroot -p*** -h db prod"),
    ("mariadb -p'pa ss' prod", True, "mariadb -p*** prod"),
    ("grep -pattern f | mysql -phunter2 prod", True, "grep -pattern f | mysql -p*** prod"),
    ("mysqldump --password=hunter2 prod", True, "mysqldump --password=*** prod"),
    ("mysqldump --password hunter2 prod", True, "mysqldump --password *** prod"),
    ("aws s3 ls --token abc.def", True, "aws s3 ls --token ***"),
    (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 cp a b",
        True,
        "AWS_SECRET_ACCESS_KEY=*** aws s3 cp a b",
    ),
    ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", True, "export AWS_ACCESS_KEY_ID=***"),
    ("key AKIAIOSFODNN7EXAMPLE in prose", False, "key *** in prose"),
    (
        "curl -H 'Authorization: Bearer abcdefghijklmnop.qrs' https://api",
        True,
        "curl -H 'Authorization: Bearer ***' https://api",
    ),
    (
        "curl -H 'Authorization: Basic dXNlcjpwYXNz' https://api",
        True,
        "curl -H 'Authorization: Basic ***' https://api",
    ),
    ("curl 'https://api/x?token=abc123&page=2'", True, "curl 'https://api/x?token=***&page=2'"),
    (
        "psql postgresql://app:hunter2@db.internal:5432/prod",
        True,
        "psql postgresql://app:***@db.internal:5432/prod",
    ),
    ("psql postgresql://app:p@ss@db:5432/prod", True, "psql postgresql://app:***@db:5432/prod"),
    (
        "psql 'host=db user=app password=hunter2 dbname=prod'",
        True,
        "psql 'host=db user=app password=*** dbname=prod'",
    ),
    ("CREATE USER bob IDENTIFIED BY 'hunter2'", False, "CREATE USER bob IDENTIFIED BY '***'"),
    (
        "ALTER ROLE bob WITH ENCRYPTED PASSWORD 'md5abc'",
        False,
        "ALTER ROLE bob WITH ENCRYPTED PASSWORD '***'",
    ),
    ("CREATE ROLE app LOGIN PASSWORD 'it''s'", False, "CREATE ROLE app LOGIN PASSWORD '***'"),
    (
        "COPY t FROM 's3://b/k' "
        "CREDENTIALS 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE;aws_secret_access_key=zz'",
        False,
        "COPY t FROM 's3://b/k' CREDENTIALS '***'",
    ),
    ('{"api_key": "abc", "name": "x"}', False, '{"api_key": ***, "name": "x"}'),
    ("gh token ghp_abcdefghijklmnopqrstuvwxyz0123456789", False, "gh token ***"),
    # Prose that merely mentions such words stays as it is.
    ("table token_store: delete without WHERE", False, "table token_store: delete without WHERE"),
    ("grep -pattern file", True, "grep -pattern file"),
    ("DELETE FROM keys WHERE id = 5", False, "DELETE FROM keys WHERE id = 5"),
]


@pytest.mark.parametrize(("text", "shell", "stored"), SECRETS)
def test_secrets_are_masked(text: str, shell: bool, stored: str) -> None:
    assert mask_secrets(text) == stored
    assert mask_secrets(stored) == stored  # masking is idempotent


# (dialect, SQL, normalised): every literal is one placeholder, comments go, layout stays.
NORMALIZED = [
    ("postgres", "DELETE FROM orders WHERE id = 42", "DELETE FROM orders WHERE id = ?"),
    (
        "postgres",
        "SELECT * FROM users WHERE email = 'bob@example.com' /* c */ AND n > -2.5e3",
        "SELECT * FROM users WHERE email = ? AND n > -?",
    ),
    (
        "postgres",
        "SELECT a FROM t -- trailing 'secret'\nWHERE d > DATE '2024-01-01'",
        "SELECT a FROM t WHERE d > DATE ?",
    ),
    (
        "postgres",
        "SELECT $$dollar ' quoted$$, $tag$x$tag$, E'\\n', U&'d\\0061t', B'101', X'FF'",
        "SELECT ?, ?, ?, ?, ?, ?",
    ),
    (
        "postgres",
        'UPDATE "Weird Table" SET "Col" = \'x\' WHERE id IN (1, 2, 3)',
        'UPDATE "Weird Table" SET "Col" = ? WHERE id IN (?, ?, ?)',
    ),
    (
        "postgres",
        "DELETE FROM a WHERE x = 1; DELETE FROM b WHERE y = 'z'",
        "DELETE FROM a WHERE x = ?; DELETE FROM b WHERE y = ?",
    ),
    ("postgres", "VACUUM FULL t", "VACUUM ?"),
    ("postgres", "ALTER ROLE bob WITH PASSWORD 'x'", "ALTER ROLE bob WITH PASSWORD ?"),
    (
        "mysql",
        "SELECT `col`, \"dq\", b'101', 0x1F, N'nat' FROM t WHERE a=1",
        "SELECT `col`, ?, ?, ?, ? FROM t WHERE a=?",
    ),
    ("mysql", "CREATE USER bob IDENTIFIED BY 'pw'", "CREATE USER bob IDENTIFIED BY ?"),
    (
        "bigquery",
        "SELECT r'raw', b'bytes', '''triple''' FROM `p.d.t`",
        "SELECT ?, ?, ? FROM `p.d.t`",
    ),
    ("tsql", "SELECT TOP 10 N'x', @var FROM [t]", "SELECT TOP ? ?, @var FROM [t]"),
    (
        "snowflake",
        "COPY INTO t FROM @stage CREDENTIALS=(AWS_KEY_ID='AKIA' AWS_SECRET_KEY='s')",
        "COPY INTO t FROM @stage CREDENTIALS=(AWS_KEY_ID=? AWS_SECRET_KEY=?)",
    ),
    ("spark", "SELECT 1L, 2.0D, 'x'", "SELECT ?, ?, ?"),
    (None, "INSERT INTO t VALUES (1, 'a', NULL, TRUE)", "INSERT INTO t VALUES (?, ?, NULL, TRUE)"),
    ("postgres", "SELECT :name, $1, %(p)s FROM t", "SELECT :name, $1, %(p)s FROM t"),
]


@pytest.mark.parametrize(("dialect", "sql", "normalized"), NORMALIZED)
def test_sql_literals_become_placeholders(dialect: str | None, sql: str, normalized: str) -> None:
    assert normalize_sql(sql, dialect) == normalized


# Text the tokenizer rejects is stored fully masked: keywords and punctuation only.
@pytest.mark.parametrize(
    ("dialect", "sql", "masked"),
    [
        ("postgres", "SELECT $$never closed", "SELECT ?"),
        (
            "postgres",
            "DELETE FROM users WHERE email = 'bob@example.com' AND $x$ oops",
            "DELETE FROM ? WHERE ? = ? AND ?",
        ),
    ],
)
def test_unreadable_sql_is_fully_masked(dialect: str, sql: str, masked: str) -> None:
    assert normalize_sql(sql, dialect) == masked


def test_masked_form_keeps_only_keywords() -> None:
    assert (
        mask_sql("SELEKT password FROM users WHERE x = 'secret'") == "? password FROM ? WHERE ? = ?"
    )


def test_stored_decision_has_normalized_text_and_full_text_fingerprint() -> None:
    decision = make_decision("DELETE FROM orders WHERE customer = 'bob@example.com'")
    stored, form = redact_decision(decision)
    assert form is TextForm.NORMALIZED
    assert stored["command"]["text"] == "DELETE FROM orders WHERE customer = ?"
    assert stored["statements"][0]["text"] == "DELETE FROM orders WHERE customer = ?"
    assert stored["fingerprint"] == fingerprint_text(
        "DELETE FROM orders WHERE customer = 'bob@example.com'"
    )
    assert "bob@example.com" not in str(stored)


def test_full_text_keeps_literals_but_masks_secrets() -> None:
    decision = make_decision(
        "CREATE USER bob IDENTIFIED BY 'hunter2'; DELETE FROM t WHERE a = 'keep me'"
    )
    stored, form = redact_decision(decision, full_text=True)
    assert form is TextForm.FULL
    assert (
        stored["command"]["text"]
        == "CREATE USER bob IDENTIFIED BY '***'; DELETE FROM t WHERE a = 'keep me'"
    )
    assert "hunter2" not in str(stored)


def test_every_statement_and_embedded_statement_is_redacted() -> None:
    inner = sql_statement("SELECT * FROM users WHERE ssn = '123-45-6789'")
    shell_text = (
        "PGPASSWORD=hunter2 psql -h db -c \"SELECT * FROM users WHERE ssn = '123-45-6789'\""
    )
    decision = make_decision(
        shell_text,
        kind=CommandKind.SHELL,
        intents=(Intent.READ,),
        embedded=(inner,),
    )
    stored, _ = redact_decision(decision)
    assert (
        stored["command"]["text"]
        == 'PGPASSWORD=*** psql -h db -c "SELECT * FROM users WHERE ssn = ?"'
    )
    assert stored["statements"][0]["text"] == stored["command"]["text"]
    assert stored["statements"][0]["embedded"][0]["text"] == "SELECT * FROM users WHERE ssn = ?"
    assert "123-45-6789" not in str(stored) and "hunter2" not in str(stored)


def test_secrets_are_masked_in_every_field() -> None:
    decision = make_decision(
        "DELETE FROM t WHERE id = 1",
        connection="postgresql://app:hunter2@db/prod",
        labels=(("dsn", "password=hunter2"),),
    ).model_copy(
        update={
            "reasons": (
                Reason(
                    rule_id="r", decision=Verdict.DENY, message="ran with PGPASSWORD=hunter2 in env"
                ),
            )
        }
    )
    stored, _ = redact_decision(decision)
    assert "hunter2" not in str(stored)
    assert stored["context"]["connection"] == "postgresql://app:***@db/prod"
    assert stored["reasons"][0]["message"] == "ran with PGPASSWORD=*** in env"


def test_datetimes_are_stored_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    decision = make_decision(
        approvals=(
            Approval(
                approver="alice",
                fingerprint="f",
                approved_at=datetime(2025, 1, 1, 12, tzinfo=plus_two),
            ),
        ),
    ).model_copy(update={"decided_at": datetime(2025, 1, 1, 12, 30, tzinfo=plus_two)})
    stored, _ = redact_decision(decision)
    assert stored["decided_at"] == "2025-01-01T10:30:00Z"
    assert stored["context"]["approvals"][0]["approved_at"] == "2025-01-01T10:00:00Z"
    naive = make_decision().model_copy(update={"decided_at": datetime(2025, 1, 1, 12)})
    assert redact_decision(naive)[0]["decided_at"] == "2025-01-01T12:00:00Z"
    utc = make_decision().model_copy(update={"decided_at": datetime(2025, 1, 1, 12, tzinfo=UTC)})
    assert redact_decision(utc)[0]["decided_at"] == "2025-01-01T12:00:00Z"


def test_unstorable_characters_are_replaced() -> None:
    decision = make_decision("SELECT 1", pipeline="bad\x00name\ud800")
    stored, _ = redact_decision(decision)
    assert stored["context"]["pipeline"] == "bad\ufffdname\ufffd"


def test_stored_copy_is_a_valid_decision() -> None:
    from guardrails_core.model import Decision

    decision = make_decision(
        "UPDATE t SET a = 1",
        embedded=(
            StatementEffect(
                index=0,
                kind=CommandKind.SQL,
                dialect="postgres",
                text="SELECT 2",
                span=(0, 8),
                operation="SELECT",
                intents=(Intent.READ,),
            ),
        ),
    )
    stored, _ = redact_decision(decision)
    again = Decision.model_validate(stored)
    assert again.decision_id == decision.decision_id
    assert again.command.text == "UPDATE t SET a = ?"
    assert again.statements[0].embedded[0].text == "SELECT ?"
