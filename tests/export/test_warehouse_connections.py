"""The export's warehouse is chosen by the Airflow connection's conn_type: duckdb, postgres, redshift or
snowflake, each through its provider's hook, with extra staging_schema."""

from __future__ import annotations

import json

import pytest

from personalize_airflow.warehouse import warehouse_engine
from personalize_pipelines.engines import RedshiftEngine, SnowflakeEngine
from tests.export import warehouses


def _connection(monkeypatch, **fields):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(fields))


def test_a_snowflake_connection_opens_a_snowflake_engine_through_the_providers_hook(monkeypatch):
    import fakesnow

    _connection(
        monkeypatch,
        conn_type="snowflake",
        login="analyst",
        password="secret",
        schema="PUBLIC",
        extra={
            "account": "acme",
            "database": "SHOP",
            "warehouse": "EXPORTS",
            "staging_schema": "EXPORT_STAGING",
        },
    )
    with fakesnow.patch():  # SnowflakeHook.get_conn() calls snowflake.connector.connect, answered by fakesnow
        engine, gx_url = warehouse_engine("warehouse", run_key="k")
        try:
            assert isinstance(engine, SnowflakeEngine) and gx_url is None  # validated as aggregate SQL
            assert engine.qualifier == "EXPORT_STAGING."
            assert engine.query("SELECT current_database(), current_schema()") == [("SHOP", "PUBLIC")]
            assert engine.query(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'EXPORT_STAGING'"
            ) == [(1,)]
            assert engine.columns("SELECT 1 AS user_id") == ["USER_ID"]
        finally:
            engine.close()


@pytest.mark.postgres
def test_a_redshift_connection_opens_a_redshift_engine_through_the_amazon_providers_hook(
    monkeypatch, pg_warehouse
):
    """RedshiftSQLHook hands the connection's extras to redshift_connector, which would refuse
    staging_schema and unload_iam_role: the engine gets a connection all the same (Postgres here, through
    the relay)."""
    with warehouses.redshift_wire((pg_warehouse["host"], pg_warehouse["port"])) as port:
        _connection(
            monkeypatch,
            conn_type="redshift",
            host="127.0.0.1",
            port=port,
            login=pg_warehouse["login"],
            password="unused",
            schema=pg_warehouse["schema"],
            extra={
                "ssl": False,
                "staging_schema": "export_staging",
                "unload_iam_role": "arn:aws:iam::123456789012:role/personalize-unload",
            },
        )
        engine, gx_url = warehouse_engine("warehouse", run_key="k")
        try:
            assert isinstance(engine, RedshiftEngine) and gx_url is None
            assert type(engine._con).__module__.startswith("redshift_connector")
            assert engine.qualifier == "export_staging."
            assert engine.can_unload and engine.unload_iam_role.endswith(":role/personalize-unload")
            assert engine.query("SELECT count(*) FROM clickstream") == [(1499,)]
            assert engine.query(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'export_staging'"
            ) == [(1,)]
        finally:
            engine.close()


def test_an_unsupported_conn_type_names_the_supported_ones(monkeypatch):
    _connection(monkeypatch, conn_type="mysql", host="db")
    with pytest.raises(
        ValueError, match=r"'mysql' is not a supported warehouse \(duckdb, postgres, redshift, snowflake\)"
    ):
        warehouse_engine("warehouse", run_key="k")
