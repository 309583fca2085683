"""The serving SQL and the cache on a Postgres warehouse: shop__batch end to end, and the events query."""

from __future__ import annotations

import json

import pytest

from tests.conftest import free_port
from tests.serving.conftest import (
    EXPORT_WINDOW_END,
    RUN_AT,
    connect,
    load_dag,
    task_states,
    use_test_config,
    xcom,
)
from tests.serving.test_events import pending_in_warehouse

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_warehouse(pg_server, world, monkeypatch):
    """The world's DuckDB shop copied into a fresh Postgres database, as the `warehouse` connection."""
    import psycopg2

    from personalize_pipelines.warehouse.postgres_copy import copy_to_postgres

    name = f"serving_test_{free_port()}"
    admin = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    dsn = f"host={pg_server['host']} port={pg_server['port']} user={pg_server['user']} dbname={name}"
    copy_to_postgres(duckdb_path=world.warehouse, dsn=dsn)
    connect(monkeypatch, world)
    fields = {
        "conn_type": "postgres",
        "host": pg_server["host"],
        "port": pg_server["port"],
        "login": pg_server["user"],
        "schema": name,
    }
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(fields))
    yield dsn
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def test_batch_on_postgres_and_the_events_query_agrees_with_duckdb(
    world, pg_warehouse, monkeypatch, tmp_path, airflow_db
):
    import psycopg2

    from personalize_airflow.serving_support import warehouse_query
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.event_sync import pending_interactions
    from personalize_pipelines.events import Position

    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, batch={"table": "serving.recommendations"})
    run = load_dag("shop__batch").test(logical_date=RUN_AT)
    assert run.state == "success", task_states(run)
    with psycopg2.connect(pg_warehouse) as con, con.cursor() as cur:
        cur.execute("SELECT count(DISTINCT user_id), count(*), min(rank) FROM serving.recommendations")
        users, rows, first_rank = cur.fetchone()
    loaded = xcom(run, "load_recommendations")
    assert (users, rows, first_rank) == (loaded["loaded"], loaded["rows"], 1) and users > 40 - 1

    start = Position(int(EXPORT_WINDOW_END.timestamp()) - 1, "~")
    uc = use_case("shop")
    pending, overflow = pending_interactions(warehouse_query(uc), use_case=uc, after=start, limit=None)
    assert not overflow and len(pending.interactions) == pending_in_warehouse(world.warehouse)
