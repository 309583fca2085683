"""copy_to_postgres against the real Postgres server: same rows, same types, NULL vs blank kept, idempotent."""

from __future__ import annotations

import secrets

import duckdb
import psycopg2
import pytest
from psycopg2 import sql

from personalize_pipelines.warehouse.postgres_copy import copy_to_postgres

pytestmark = pytest.mark.postgres

EXPECTED_TYPES = {
    ("customers", "customer_id"): "character varying",
    ("customers", "signup_date"): "date",
    ("customers", "marketing_opt_in"): "boolean",
    ("products", "price"): "numeric(10,2)",
    ("products", "created_at"): "timestamp without time zone",
    ("orders", "ordered_at"): "timestamp without time zone",
    ("order_items", "line_no"): "integer",
    ("clickstream", "event_id"): "bigint",
    ("clickstream", "event_ts"): "bigint",
}
# Aggregates compared between DuckDB and Postgres: the same SQL runs on both.
FINGERPRINTS = {
    "null_customer_id": "SELECT count(*) FROM {s}clickstream WHERE customer_id IS NULL",
    "blank_customer_id": "SELECT count(*) FROM {s}clickstream WHERE customer_id IS NOT NULL AND "
    "trim(customer_id, ' ' || chr(9)) = ''",
    "tab_event_types": "SELECT count(*) FROM {s}clickstream WHERE event_type LIKE '%' || chr(9)",
    "long_ids": "SELECT count(*) FROM {s}clickstream WHERE length(product_id) > 256",
    "event_ts_sum": "SELECT sum(event_ts) FROM {s}clickstream",
    "distinct_rows": "SELECT count(*) FROM (SELECT DISTINCT * FROM {s}clickstream) d",
    "price_sum": "SELECT sum(price) FROM {s}products",
    "notes": "SELECT count(discontinued_note) FROM {s}products",
    "created_span": "SELECT CAST(min(created_at) AS VARCHAR) || ' ' || CAST(max(created_at) AS VARCHAR) FROM {s}products",
    "unit_price_sum": "SELECT sum(unit_price * quantity) FROM {s}order_items",
    "signup_span": "SELECT CAST(min(signup_date) AS VARCHAR) || CAST(max(signup_date) AS VARCHAR) FROM {s}customers",
    "null_regions": "SELECT count(*) FROM {s}customers WHERE region IS NULL",
    "opted_in": "SELECT count(*) FROM {s}customers WHERE marketing_opt_in",
    "ordered_span": "SELECT CAST(min(ordered_at) AS VARCHAR) || CAST(max(ordered_at) AS VARCHAR) FROM {s}orders",
}


@pytest.fixture
def pg_dsn(pg_server):
    """A fresh database for this test, dropped afterwards."""
    name = f"warehouse_test_{secrets.token_hex(6)}"
    server = f"host={pg_server['host']} port={pg_server['port']} user={pg_server['user']}"
    admin = psycopg2.connect(f"{server} dbname=postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield f"{server} dbname={name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def pg_query(dsn: str, query: str, *params):
    con = psycopg2.connect(dsn)
    try:
        with con.cursor() as cur:
            cur.execute(query, params or None)
            rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def counts(dsn: str, schema: str, tables) -> dict[str, int]:
    return {t: pg_query(dsn, f"SELECT count(*) FROM {schema}.{t}")[0][0] for t in tables}


def test_round_trip_keeps_rows_types_and_values(shop, pg_dsn):
    loaded = copy_to_postgres(duckdb_path=shop.path, dsn=pg_dsn, schema="shop")
    assert loaded == shop.report["rows"]
    assert counts(pg_dsn, "shop", shop.report["rows"]) == shop.report["rows"]
    columns = pg_query(
        pg_dsn,
        """SELECT table_name, column_name, data_type, numeric_precision, numeric_scale
           FROM information_schema.columns WHERE table_schema = 'shop'""",
    )
    types = {(t, c): f"{kind}({p},{s})" if kind == "numeric" else kind for t, c, kind, p, s in columns}
    assert {key: types[key] for key in EXPECTED_TYPES} == EXPECTED_TYPES
    con = duckdb.connect(str(shop.path), read_only=True)
    try:
        in_duckdb = {k: con.execute(q.format(s="")).fetchone()[0] for k, q in FINGERPRINTS.items()}
    finally:
        con.close()
    in_postgres = {k: pg_query(pg_dsn, q.format(s="shop."))[0][0] for k, q in FINGERPRINTS.items()}
    assert in_postgres == in_duckdb
    assert in_postgres["blank_customer_id"] == shop.report["planted"]["blank_customer_id"] > 0


def test_copy_is_idempotent_and_replaces_stale_tables(shop, pg_dsn):
    pg_query(pg_dsn, "CREATE SCHEMA shop; CREATE TABLE shop.clickstream (junk TEXT); SELECT 1")
    copy_to_postgres(duckdb_path=shop.path, dsn=pg_dsn, schema="shop")
    again = copy_to_postgres(duckdb_path=shop.path, dsn=pg_dsn, schema="shop")
    assert again == shop.report["rows"]
    assert counts(pg_dsn, "shop", shop.report["rows"]) == shop.report["rows"]
    assert pg_query(
        pg_dsn,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'shop' AND column_name = 'junk'",
    ) == [(0,)]


def test_a_failed_copy_leaves_the_previous_tables_untouched(shop, pg_dsn, tmp_path):
    copy_to_postgres(duckdb_path=shop.path, dsn=pg_dsn, schema="public", tables=("customers", "products"))
    bad = tmp_path / "bad.duckdb"
    con = duckdb.connect(str(bad))
    con.execute("CREATE TABLE customers AS SELECT 'only-one' AS customer_id")
    con.execute("CREATE TABLE products AS SELECT 'p' AS product_id, ['a', 'b'] AS tags")
    con.close()
    with pytest.raises(ValueError, match=r"products\.tags"):
        copy_to_postgres(duckdb_path=bad, dsn=pg_dsn, tables=("customers", "products"))
    assert counts(pg_dsn, "public", ("customers", "products")) == {
        "customers": shop.report["rows"]["customers"],
        "products": shop.report["rows"]["products"],
    }


def test_missing_file_or_table_is_named(tmp_path, shop):
    with pytest.raises(FileNotFoundError, match="nowhere.duckdb"):
        copy_to_postgres(duckdb_path=tmp_path / "nowhere.duckdb", dsn="dbname=unused")
    with pytest.raises(ValueError, match=r"tables \['returns'\] not found"):
        copy_to_postgres(duckdb_path=shop.path, dsn="dbname=unused", tables=("customers", "returns"))
