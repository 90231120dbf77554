"""A realistic, reproducible corpus of pipeline SQL for the benchmarks.

Statements are generated from templates of what ETL steps actually run (incremental loads,
merges, window-function reports, DDL of staging tables, maintenance) with names and literals
drawn from a seeded generator, across the dialects the analyzer supports.
"""

from __future__ import annotations

import random

SCHEMAS = ["raw", "staging", "mart", "sales", "crm", "finance", "events", "ops"]
TABLES = [
    "orders",
    "customers",
    "payments",
    "invoices",
    "sessions",
    "clicks",
    "products",
    "shipments",
    "refunds",
    "accounts",
    "ledger",
    "inventory",
]
COLUMNS = [
    "id",
    "customer_id",
    "total",
    "status",
    "created_at",
    "updated_at",
    "region",
    "amount",
    "currency",
    "sku",
    "quantity",
    "channel",
    "score",
    "country",
]

TEMPLATES: list[tuple[str, str]] = [
    (
        "postgres",
        "SELECT {c1}, {c2}, sum({c3}) AS total FROM {t1} WHERE {c4} >= '{date}' "
        "GROUP BY {c1}, {c2} ORDER BY total DESC LIMIT {n}",
    ),
    (
        "postgres",
        "INSERT INTO {t1} ({c1}, {c2}, {c3}) SELECT {c1}, {c2}, {c3} FROM {t2} "
        "WHERE {c4} > now() - interval '{n} days' ON CONFLICT ({c1}) DO UPDATE SET "
        "{c2} = EXCLUDED.{c2}",
    ),
    (
        "postgres",
        "WITH recent AS (SELECT * FROM {t1} WHERE {c1} > '{date}'), ranked AS ("
        "SELECT r.*, row_number() OVER (PARTITION BY r.{c2} ORDER BY r.{c3} DESC) AS rn "
        "FROM recent r) SELECT * FROM ranked r JOIN {t2} x ON r.{c2} = x.{c1} "
        "WHERE rn <= {n}",
    ),
    (
        "postgres",
        "UPDATE {t1} SET {c1} = '{word}', {c2} = now() WHERE {c3} = {n} AND "
        "{c4} IN ('a', 'b', 'c')",
    ),
    ("postgres", "DELETE FROM {t1} WHERE {c1} < now() - interval '{n} days'"),
    (
        "postgres",
        "CREATE TABLE IF NOT EXISTS {t1} ({c1} bigint PRIMARY KEY, {c2} text, "
        "{c3} numeric(12, 2), {c4} timestamptz DEFAULT now())",
    ),
    ("postgres", "CREATE INDEX IF NOT EXISTS idx_{word} ON {t1} ({c1}, {c2})"),
    ("postgres", "ALTER TABLE {t1} ADD COLUMN IF NOT EXISTS {c1}_v{n} text"),
    ("postgres", "COPY {t1} FROM '/data/landing/{word}.csv' WITH (FORMAT csv, HEADER true)"),
    (
        "postgres",
        "SELECT c.{c1}, count(*) FILTER (WHERE o.{c2} = 'paid') AS paid, "
        "avg(o.{c3}) AS avg_total FROM {t1} c LEFT JOIN {t2} o ON o.{c4} = c.{c1} "
        "GROUP BY c.{c1} HAVING count(*) > {n}",
    ),
    ("mysql", "SELECT {c1}, {c2} FROM {t1} WHERE {c3} = {n} ORDER BY {c4} DESC LIMIT 100"),
    (
        "mysql",
        "INSERT INTO {t1} ({c1}, {c2}) VALUES ({n}, '{word}') ON DUPLICATE KEY UPDATE "
        "{c2} = VALUES({c2})",
    ),
    (
        "mysql",
        "UPDATE {t1} t JOIN {t2} s ON t.{c1} = s.{c1} SET t.{c2} = s.{c2} WHERE s.{c3} > '{date}'",
    ),
    ("mysql", "DELETE FROM {t1} WHERE {c1} = {n} LIMIT 1000"),
    (
        "snowflake",
        "MERGE INTO {t1} t USING (SELECT * FROM {t2} WHERE {c1} >= '{date}') s "
        "ON t.{c2} = s.{c2} WHEN MATCHED THEN UPDATE SET t.{c3} = s.{c3} "
        "WHEN NOT MATCHED THEN INSERT ({c2}, {c3}) VALUES (s.{c2}, s.{c3})",
    ),
    ("snowflake", "COPY INTO {t1} FROM @landing/{word}/ FILE_FORMAT = (TYPE = 'CSV')"),
    (
        "snowflake",
        "CREATE TABLE IF NOT EXISTS {t1} AS SELECT {c1}, {c2}, {c3} FROM {t2} "
        "WHERE {c4} IS NOT NULL",
    ),
    (
        "snowflake",
        "SELECT {c1}, APPROX_COUNT_DISTINCT({c2}) FROM {t1} "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY {c1} ORDER BY {c3}) = 1",
    ),
    (
        "bigquery",
        "SELECT {c1}, SUM({c2}) AS s FROM `proj.{s1}.{t}` WHERE DATE({c3}) = "
        "'{date}' GROUP BY {c1}",
    ),
    (
        "bigquery",
        "MERGE `proj.{s1}.{t}` t USING `proj.{s2}.{t}` s ON t.{c1} = s.{c1} "
        "WHEN MATCHED THEN UPDATE SET {c2} = s.{c2} "
        "WHEN NOT MATCHED THEN INSERT ROW",
    ),
    (
        "bigquery",
        "INSERT INTO `proj.{s1}.{t}` ({c1}, {c2}) SELECT {c1}, {c2} FROM "
        "`proj.{s2}.{t}` WHERE {c3} > {n}",
    ),
    (
        "redshift",
        "SELECT {c1}, LISTAGG({c2}, ',') WITHIN GROUP (ORDER BY {c2}) FROM {t1} GROUP BY {c1}",
    ),
    (
        "redshift",
        "COPY {t1} FROM 's3://landing/{word}/' IAM_ROLE 'arn:aws:iam::1:role/etl' "
        "FORMAT AS PARQUET",
    ),
    ("tsql", "SELECT TOP 100 {c1}, {c2} FROM {t1} WITH (NOLOCK) WHERE {c3} > {n}"),
    ("tsql", "UPDATE {t1} SET {c1} = GETDATE() WHERE {c2} = {n}"),
    ("tsql", "INSERT INTO {t1} ({c1}) SELECT {c1} FROM {t2} WHERE {c2} = '{word}'"),
    ("spark", "INSERT INTO {t1} SELECT {c1}, {c2}, {c3} FROM {t2} WHERE dt = '{date}'"),
    (
        "spark",
        "SELECT {c1}, collect_list({c2}) FROM {t1} LATERAL VIEW explode(array({c3})) "
        "x AS v GROUP BY {c1}",
    ),
    (
        "databricks",
        "MERGE INTO {t1} t USING {t2} s ON t.{c1} = s.{c1} "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
    ),
    ("duckdb", "SELECT {c1}, count(*) FROM read_parquet('landing/{word}/*.parquet') GROUP BY ALL"),
    ("duckdb", "CREATE TABLE {t} AS SELECT * FROM read_csv('landing/{word}.csv')"),
    (
        "trino",
        "SELECT {c1}, approx_percentile({c2}, 0.95) FROM hive.{s1}.{t} "
        "WHERE dt = '{date}' GROUP BY {c1}",
    ),
    ("oracle", "SELECT {c1}, {c2} FROM {t1} WHERE ROWNUM <= {n} AND {c3} = '{word}'"),
    ("oracle", "UPDATE {t1} SET {c1} = SYSDATE WHERE {c2} = {n}"),
    (
        "clickhouse",
        "SELECT {c1}, uniqExact({c2}) FROM {t1} WHERE {c3} >= toDate('{date}') GROUP BY {c1}",
    ),
    ("clickhouse", "INSERT INTO {t1} SELECT * FROM {t2} WHERE {c1} = {n}"),
    ("sqlite", "INSERT OR REPLACE INTO {t} ({c1}, {c2}) VALUES ({n}, '{word}')"),
    ("sqlite", "SELECT {c1}, {c2} FROM {t} WHERE {c3} BETWEEN {n} AND {n2}"),
    # the few dangerous ones a copilot writes
    ("postgres", "DELETE FROM {t1}"),
    ("postgres", "DROP TABLE {t1}"),
    ("mysql", "UPDATE {t1} SET {c1} = 0 WHERE 1 = 1"),
    ("snowflake", "COPY INTO @exports/{word} FROM {t1}"),
]


def _fill(template: str, rng: random.Random) -> str:
    def table() -> str:
        return f"{rng.choice(SCHEMAS)}.{rng.choice(TABLES)}"

    columns = rng.sample(COLUMNS, 4)
    return template.format(
        t1=table(),
        t2=table(),
        t=rng.choice(TABLES),
        s1=rng.choice(SCHEMAS),
        s2=rng.choice(SCHEMAS),
        c1=columns[0],
        c2=columns[1],
        c3=columns[2],
        c4=columns[3],
        n=rng.randint(1, 500),
        n2=rng.randint(500, 1000),
        word=rng.choice(TABLES) + "_x",
        date=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    )


def corpus(size: int = 2400, seed: int = 7) -> list[tuple[str, str]]:
    """`size` (dialect, statement) pairs, the same for a given seed."""
    rng = random.Random(seed)
    return [
        (dialect, _fill(template, rng))
        for dialect, template in (rng.choice(TEMPLATES) for _ in range(size))
    ]


def script(target_bytes: int, seed: int = 11) -> str:
    """A PostgreSQL script of roughly `target_bytes`, as a migration or a dbt run would send."""
    rng = random.Random(seed)
    postgres = [template for dialect, template in TEMPLATES if dialect == "postgres"]
    parts: list[str] = []
    size = 0
    while size < target_bytes:
        statement = _fill(rng.choice(postgres[:-2]), rng) + ";\n"
        parts.append(statement)
        size += len(statement)
    return "".join(parts)
