"""Secrets in commands are masked in every sink: the store (both text forms), outcome details,
block messages and exceptions, task-log renderings (and Airflow's own masker), XCom, the
OpenLineage facet, Prefect artifacts and events. One table of forms, one assertion per sink."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from guardrails_core import projection
from guardrails_core.audit import AuditStore, Outcome
from guardrails_core.audit.secrets import mask_secrets, secret_values
from guardrails_core.check import check, configure_fingerprints
from guardrails_core.guard import CommandBlocked, Guard
from guardrails_core.model import CommandKind, current_fingerprint_key, fingerprint_text
from guardrails_core.projection import run_facet
from guardrails_core.render import headline, render_text
from guardrails_core.settings import Settings


class Form(NamedTuple):
    name: str
    kind: CommandKind
    text: str
    secret: str
    dialect: str | None = None


SH, SQL = CommandKind.SHELL, CommandKind.SQL
_AKIA = "AKIAZQ7EXAMPLE000001"
_GHP = "ghp_Zq7" + "a1B2c3D4" * 4

SECRET_FORMS: tuple[Form, ...] = (
    Form("curl -u", SH, "curl -u alice:Zq7pw01 https://api.example.com", "Zq7pw01"),
    Form("curl --user", SH, "curl --user alice:Zq7pw02 https://api.example.com", "Zq7pw02"),
    Form("bearer header", SH, "curl -H 'Authorization: Bearer Zq7tok03abc' https://x", "Zq7tok03"),
    Form("basic header", SH, 'curl -H "Authorization: Basic Zq7b64x04" https://x', "Zq7b64x04"),
    Form("api-key header", SH, "curl -H 'X-API-Key: Zq7key05' https://x", "Zq7key05"),
    Form("private-token header", SH, "curl -H 'Private-Token: Zq7tok06' https://x", "Zq7tok06"),
    Form("auth-token header", SH, "curl -H 'X-Auth-Token: Zq7tok07' https://x", "Zq7tok07"),
    Form("sshpass -p", SH, "sshpass -p Zq7pw08 ssh app@db uptime", "Zq7pw08"),
    Form("sshpass -pX", SH, "sshpass -pZq7pw09 ssh app@db uptime", "Zq7pw09"),
    Form("aws secret key", SH, "aws configure set aws_secret_access_key Zq7sk10", "Zq7sk10"),
    Form("aws session token", SH, "aws configure set aws_session_token Zq7st11", "Zq7st11"),
    Form("sqlcmd -P", SH, "sqlcmd -S db -U sa -P Zq7pw12 -Q 'select 1'", "Zq7pw12"),
    Form("redis-cli -a", SH, "redis-cli -h cache -a Zq7pw13 PING", "Zq7pw13"),
    Form("docker login -p", SH, "docker login -u bob -p Zq7pw14 registry.example", "Zq7pw14"),
    Form("mysql -pX", SH, "mysql -u root -pZq7pw15 prod -e 'select 1'", "Zq7pw15"),
    Form("PGPASSWORD", SH, "PGPASSWORD=Zq7pw16 psql -h db -c 'select 1'", "Zq7pw16"),
    Form("MYSQL_PWD", SH, "MYSQL_PWD=Zq7pw17 mysql -u root prod -e 'select 1'", "Zq7pw17"),
    Form(
        "url user:pass@", SH, "psql postgresql://app:Zq7pw18@db:5432/prod -c 'select 1'", "Zq7pw18"
    ),
    Form(
        "X-Amz-Signature",
        SH,
        "curl 'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=Zq7sig19'",
        "Zq7sig19",
    ),
    Form(
        "sas sig=", SH, "curl 'https://a.blob.core.windows.net/c/b?sv=1&sig=Zq7sig20'", "Zq7sig20"
    ),
    Form("export secret env", SH, "export AWS_SECRET_ACCESS_KEY=Zq7sk21", "Zq7sk21"),
    Form(
        "gcloud --password",
        SH,
        "gcloud sql users set-password root --instance=db --password=Zq7pw22",
        "Zq7pw22",
    ),
    Form("az login -p", SH, "az login -u bob@example.com -p Zq7pw23", "Zq7pw23"),
    Form("az secret --value", SH, "az keyvault secret set --name n --value Zq7val24", "Zq7val24"),
    Form(
        "private key",
        SH,
        "printf '-----BEGIN RSA PRIVATE KEY-----\nZq7key25\n-----END RSA PRIVATE KEY-----'",
        "Zq7key25",
    ),
    Form("wget --http-password", SH, "wget --http-password=Zq7pw26 https://x/f", "Zq7pw26"),
    Form("openssl pass:", SH, "openssl enc -aes256 -pass pass:Zq7pw27 -in a -out b", "Zq7pw27"),
    Form("form client_secret", SH, "curl -d 'client_secret=Zq7cs28' https://auth/x", "Zq7cs28"),
    Form("github token", SH, f"gh api user -H 'Accept: json' --token {_GHP}", _GHP),
    Form("aws access key id", SH, f"env AWS_ACCESS_KEY_ID={_AKIA} aws s3 ls", _AKIA),
    Form(
        "CREATE USER PASSWORD",
        SQL,
        "CREATE USER bob WITH PASSWORD 'Zq7pw31'",
        "Zq7pw31",
        "postgres",
    ),
    Form(
        "ALTER ROLE ENCRYPTED PASSWORD",
        SQL,
        "ALTER ROLE bob WITH ENCRYPTED PASSWORD 'Zq7pw32'",
        "Zq7pw32",
        "postgres",
    ),
    Form("IDENTIFIED BY", SQL, "CREATE USER 'bob'@'%' IDENTIFIED BY 'Zq7pw33'", "Zq7pw33", "mysql"),
    Form(
        "IDENTIFIED WITH .. BY",
        SQL,
        "ALTER USER bob IDENTIFIED WITH mysql_native_password BY 'Zq7pw34'",
        "Zq7pw34",
        "mysql",
    ),
    Form("escape string", SQL, "ALTER ROLE bob PASSWORD E'Zq7pw35\\'x'", "Zq7pw35", "postgres"),
    Form("dollar quoted", SQL, "ALTER ROLE bob PASSWORD $$Zq7pw36$$", "Zq7pw36", "postgres"),
    Form("tagged dollar", SQL, "ALTER ROLE bob PASSWORD $p$Zq7pw37$p$", "Zq7pw37", "postgres"),
    Form(
        "redshift CREDENTIALS",
        SQL,
        f"COPY t FROM 's3://b/k' CREDENTIALS 'aws_access_key_id={_AKIA};"
        "aws_secret_access_key=Zq7sk38'",
        "Zq7sk38",
        "redshift",
    ),
    Form(
        "redshift SECRET_ACCESS_KEY",
        SQL,
        f"COPY t FROM 's3://b/k' ACCESS_KEY_ID '{_AKIA}' SECRET_ACCESS_KEY 'Zq7sk39'",
        "Zq7sk39",
        "redshift",
    ),
    Form(
        "snowflake AWS_SECRET_KEY",
        SQL,
        "CREATE STAGE s URL='s3://b' CREDENTIALS=(AWS_KEY_ID='k' AWS_SECRET_KEY='Zq7sk40')",
        "Zq7sk40",
        "snowflake",
    ),
    Form(
        "SET PASSWORD FOR",
        SQL,
        "SET PASSWORD FOR 'bob'@'%' = PASSWORD('Zq7pw41')",
        "Zq7pw41",
        "mysql",
    ),
    Form("PASSWORD()", SQL, "SELECT PASSWORD('Zq7pw42')", "Zq7pw42", "mysql"),
    Form("SET PASSWORD =", SQL, "SET PASSWORD = 'Zq7pw43'", "Zq7pw43", "mysql"),
    Form(
        "user mapping",
        SQL,
        "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'Zq7pw44')",
        "Zq7pw44",
        "postgres",
    ),
    Form(
        "dblink conninfo",
        SQL,
        "SELECT * FROM dblink('host=db password=Zq7pw45', 'select 1') AS t(x int)",
        "Zq7pw45",
        "postgres",
    ),
    Form(
        "snowflake SAS token",
        SQL,
        "CREATE STAGE s URL='azure://a/c' CREDENTIALS=(AZURE_SAS_TOKEN='Zq7sas46')",
        "Zq7sas46",
        "snowflake",
    ),
)


def test_the_table_covers_at_least_35_forms() -> None:
    assert len(SECRET_FORMS) >= 35
    assert len({form.secret for form in SECRET_FORMS}) == len(SECRET_FORMS)


@pytest.mark.parametrize("form", SECRET_FORMS, ids=[form.name for form in SECRET_FORMS])
def test_masking_finds_and_hides_the_secret(form: Form) -> None:
    masked = mask_secrets(form.text)
    assert form.secret not in masked
    assert mask_secrets(masked) == masked  # idempotent
    assert any(form.secret in value for value in secret_values(form.text))


def _dump(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return "\n".join(conn.iterdump())


@pytest.mark.parametrize("full_text", [False, True], ids=["normalized", "full-text"])
@pytest.mark.parametrize("form", SECRET_FORMS, ids=[form.name for form in SECRET_FORMS])
def test_every_sink_masks_the_secret(form: Form, full_text: bool, tmp_path: Path) -> None:
    database = tmp_path / "audit.sqlite3"
    settings = Settings(home=tmp_path, audit_url=f"sqlite:///{database}", audit_full_text=full_text)
    guard = Guard(settings=settings)
    result = guard.check(form.text, kind=form.kind, dialect=form.dialect)
    decision = result.decision
    assert result.record_id is not None
    with AuditStore(settings.resolved_audit_url, full_text=full_text) as store:
        store.record_outcome(
            result.record_id, Outcome.FAILED, detail=f"error running {form.text}: denied"
        )
        history = store.history(result.record_id)
    facet = run_facet(history[-1])
    stored = history[0].decision
    assert stored is not None

    from airflow_guardrails._runtime import register_secrets
    from prefect_guardrails._approval import approval_markdown
    from prefect_guardrails._context import RunRef
    from prefect_guardrails._publish import _resource, _table_row, decision_markdown

    sinks: dict[str, Any] = {
        "store (raw database)": _dump(database),
        "outcome detail": history[-1].detail,
        "block message / exception": str(CommandBlocked(decision, result.record_id)),
        "task log (headline, report)": headline(decision) + render_text(decision, verbose=True),
        "xcom": projection.xcom_value(decision, full_text=full_text),
        "openlineage facet": [facet, stored.to_dict()],
        "prefect artifact": [
            decision_markdown(decision, None, RunRef()),
            _table_row(result, RunRef()),
        ],
        "prefect event": [projection.event_payload(decision, None), _resource(decision, None)],
        "approval form": approval_markdown(decision),
        "csv export": projection.csv_row(history[-1]),
    }
    leaked = [name for name, value in sinks.items() if form.secret in repr(value)]
    assert leaked == []

    # Under Airflow the secret is also taught to Airflow's own masker (any log line masks it).
    from airflow.sdk._shared.secrets_masker.secrets_masker import _secrets_masker

    register_secrets(form.text)
    assert form.secret not in str(_secrets_masker().redact(f"driver said: {form.text}"))


def test_fingerprint_is_a_keyed_hmac_that_a_guess_cannot_confirm(tmp_path: Path) -> None:
    text = "PGPASSWORD=hunter2 psql -c 'select 1'"
    previous = current_fingerprint_key() or Settings(home=tmp_path).fingerprint_secret()
    try:
        configure_fingerprints(b"key-one")
        first = fingerprint_text(text)
        configure_fingerprints(b"key-two")
        second = fingerprint_text(text)
    finally:
        configure_fingerprints(previous)  # the process's key, as other tests computed with it
    assert first.startswith("hmac-sha256:") and first != second
    guesses = (text.replace("hunter2", guess) for guess in ("hunter1", "hunter2", "hunter3"))
    unkeyed = {"sha256:" + hashlib.sha256(guess.encode()).hexdigest() for guess in guesses}
    assert first not in unkeyed and first.removeprefix("hmac-") not in unkeyed


def test_fingerprint_key_lives_outside_the_database(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", audit_url=f"sqlite:///{tmp_path / 'a.sqlite3'}")
    key = settings.fingerprint_secret()
    assert (tmp_path / "home" / "fingerprint.key").stat().st_mode & 0o077 == 0
    assert settings.fingerprint_secret() == key  # stable across loads
    guard = Guard(settings=settings)
    guard.check("SELECT 1")
    assert key.hex() not in _dump(tmp_path / "a.sqlite3")
    keyed = Settings(home=tmp_path, audit_key="k" * 32)
    assert keyed.fingerprint_secret() != key  # derived from the audit key when one is set


@pytest.mark.parametrize("cut", [40, 45, 60])
def test_a_secret_cut_short_by_a_truncated_message_is_still_masked(cut: int) -> None:
    text = "printf '-----BEGIN PRIVATE KEY-----\nZq7keyMATERIALxyz\n-----END PRIVATE KEY-----'"
    assert "Zq7key"[: max(0, cut - 36)] in text[:cut]
    masked = mask_secrets(text[:cut])
    assert "Zq7key" not in masked and "MATERIAL" not in masked


def test_outcome_details_lose_the_values_a_database_error_quotes_back(tmp_path: Path) -> None:
    error = (
        'duplicate key value violates unique constraint "users_email_key"\n'
        "DETAIL:  Key (email)=(alice@example.com) already exists. "
        "Failing row contains (7, bob@example.org, 'Zq7lit01')."
    )
    for full_text in (False, True):
        url = f"sqlite:///{tmp_path / f'audit-{full_text}.sqlite3'}"
        with AuditStore(url, full_text=full_text) as store:
            record_id = store.record(check("SELECT 1").model_copy())
            store.record_outcome(record_id, Outcome.FAILED, detail=error)
            detail = store.history(record_id)[-1].detail or ""
        leaked = [value for value in ("alice@", "bob@", "Zq7lit01") if value in detail]
        assert leaked == ([] if not full_text else ["alice@", "bob@", "Zq7lit01"])
        assert "users_email_key" in detail and "Key (email)=(" in detail
