"""One export, every warehouse: the tiny shop staged, validated and published from DuckDB, Postgres,
Redshift and Snowflake gives the same per-rule counts, the same validation and the same published rows.

What runs where:
- DuckDB and Postgres (the local server, 15 here): themselves.
- Snowflake: fakesnow 0.12.1's server (Snowflake's REST API answered by DuckDB) through the real
  snowflake-connector, with the shop's queries in Snowflake's dialect (tests/export/sql_snowflake/). Every
  statement of the export is the Snowflake-compiled one; fakesnow translates it back to DuckDB, so this
  shows the export speaks the connector's API and SQL that fakesnow reads as Snowflake's, not what a
  Snowflake account would do with it. fakesnow's TRIM(x, characters) bug is fixed for the test
  (tests/export/warehouses.py).
- Redshift: ``RedshiftEngine`` (dialect "redshift") on the local Postgres, over psycopg2 and over
  redshift_connector (through tests/export/warehouses.py's redshift_wire). Postgres accepts every
  statement the Redshift-compiled export issues: the LIMIT 0 probes of the use case's queries, the
  classification (CREATE TABLE AS), the raw and part views, the partition (CREATE TABLE AS WITH), the
  count queries, the items and users tables, the validation's information_schema lookups and aggregates,
  the fingerprints, the published rows through DECLARE CURSOR / FETCH FORWARD 1000, and the DROPs; the
  one function Postgres lacks, Redshift's STRTOL in the fingerprint, is stood in for by a Postgres
  function of that name (REDSHIFT_STRTOL, base 16 only). What is Redshift's own and Postgres does not
  show: VARCHAR lengths in bytes, leader-node rules, cursor result limits, STRTOL itself.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pytest

from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.engines import (
    DuckDBEngine,
    Engine,
    PostgresEngine,
    QueryError,
    RedshiftEngine,
    SnowflakeEngine,
)
from personalize_pipelines.export import (
    ExportContext,
    ExportQueryError,
    drop_staging,
    publish,
    stage,
    validate,
)
from personalize_pipelines.windows import sliding_window
from tests.conftest import free_port
from tests.export import shop_fixture, warehouses

WINDOW = sliding_window(shop_fixture.WINDOW_END, months=6)
FOLDERS = ("interactions", "holdout", "items", "users")


@pytest.fixture
def use_case(shop_use_case):
    bots = shop_use_case.cleaning.model_copy(update={"max_events_per_user": shop_fixture.MAX_EVENTS_PER_USER})
    return shop_use_case.model_copy(update={"cleaning": bots})


@dataclass
class Exported:
    report: dict[str, Any]
    validation: dict[str, Any]
    manifest: dict[str, Any]
    rows: dict[str, list[list[str]]]
    """Each dataset's published CSV rows (header apart), sorted: the rows as a multiset."""
    dropped_staging: list[str]


def export(engine: Engine, use_case, sql_root, s3, version: str) -> Exported:
    """stage, validate, publish, then drop the staging; the engine is closed afterwards."""
    ctx = ExportContext(
        use_case=use_case, window=WINDOW, names=StagingNames(engine.qualifier, "wh"), sql_root=sql_root
    )
    try:
        report = stage(engine, ctx)
        validation = validate(engine, ctx)
        manifest = publish(engine, ctx, s3_client=s3, report=report, validation=validation, version=version)
        dropped = drop_staging(engine, ctx.names)
        assert engine.staged_tables(f"r_{ctx.names.run_key}_") == []
    finally:
        engine.close()
    return Exported(report, validation, manifest, published_rows(s3, use_case, manifest), dropped)


def published_rows(s3, use_case, manifest) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for folder in FOLDERS:
        for entry in manifest["files"]:
            if entry["key"].startswith(f"{folder}/") and entry["key"].endswith(".csv"):
                key = f"{use_case.s3_prefix}/{manifest['version']}/{entry['key']}"
                body = s3.get_object(Bucket=use_case.s3.bucket, Key=key)["Body"].read().decode()
                header, *data = csv.reader(io.StringIO(body))
                assert header == manifest["datasets"][folder]["columns"]
                rows.setdefault(folder, []).extend(data)
    return {folder: sorted(data) for folder, data in rows.items()}


def expectations(validation: dict[str, Any]) -> dict[str, list[tuple]]:
    """Per suite, each expectation's outcome; type checks without their observed names (Snowflake's
    BIGINT is NUMBER(38,0), Postgres's DOUBLE is DOUBLE PRECISION)."""
    outcomes = {}
    for name, suite in validation["suites"].items():
        outcomes[name] = []
        for r in suite["results"]:
            config = r["expectation_config"]
            column = config["kwargs"].get("column")
            outcomes[name].append(
                (
                    config["type"],
                    column and column.lower(),  # spelled as each warehouse spells the table's columns
                    r["success"],
                    None if "type" in config["type"] else r["result"].get("observed_value"),
                    r["result"].get("unexpected_count"),
                    r["result"].get("element_count"),
                )
            )
    return outcomes


# ---- the warehouses ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def fakesnow_kwargs():
    with warehouses.fakesnow_server() as kwargs:
        yield kwargs


@pytest.fixture
def snowflake_connect(fakesnow_kwargs, tiny_warehouse):
    """Connections to a Snowflake database (its own per test) holding the tiny shop in schema PUBLIC."""
    import snowflake.connector

    database = f"SHOP_{free_port()}"

    def connect():
        return snowflake.connector.connect(**fakesnow_kwargs, database=database, schema="PUBLIC")

    loader = connect()
    warehouses.load_into_snowflake(tiny_warehouse, loader)
    loader.close()
    return connect


@pytest.fixture
def pg_connect(pg_warehouse):
    import psycopg2

    def connect():
        return psycopg2.connect(
            host=pg_warehouse["host"],
            port=pg_warehouse["port"],
            user=pg_warehouse["login"],
            dbname=pg_warehouse["schema"],
        )

    return connect


@pytest.fixture
def redshift_connector_connect(pg_warehouse, redshift_on_postgres):
    """redshift_connector connections to the Postgres warehouse (STRTOL stood in for), through the relay."""
    import redshift_connector

    with warehouses.redshift_wire((pg_warehouse["host"], pg_warehouse["port"])) as port:
        yield lambda: redshift_connector.connect(
            host="127.0.0.1",
            port=port,
            user=pg_warehouse["login"],
            password="unused",
            database=pg_warehouse["schema"],
            ssl=False,
        )


REDSHIFT_STRTOL = """
CREATE FUNCTION strtol(digits text, base integer) RETURNS bigint LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN base = 16 THEN CAST(CAST('x' || lpad(digits, 16, '0') AS bit(64)) AS bigint) END $$
"""
"""Redshift's STRTOL (the fingerprint's hex digits as an integer), which Postgres lacks: base 16 only."""


@pytest.fixture
def redshift_on_postgres(pg_connect):
    """The Postgres warehouse with Redshift's STRTOL stood in for."""
    with pg_connect() as connection, connection.cursor() as cur:
        cur.execute(REDSHIFT_STRTOL)
    return pg_connect


WAREHOUSES = {
    "postgres": lambda request: PostgresEngine(connection=request.getfixturevalue("pg_connect")()),
    "redshift_psycopg2": lambda request: RedshiftEngine(
        connection=request.getfixturevalue("redshift_on_postgres")()
    ),
    "redshift_connector": lambda request: RedshiftEngine(
        connection=request.getfixturevalue("redshift_connector_connect")()
    ),
    "snowflake": lambda request: SnowflakeEngine(connection=request.getfixturevalue("snowflake_connect")()),
}
SQL_ROOTS = {"snowflake": warehouses.SNOWFLAKE_SQL}


@pytest.mark.parametrize(
    "warehouse",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redshift_psycopg2", marks=pytest.mark.postgres),
        pytest.param("redshift_connector", marks=pytest.mark.postgres),
        "snowflake",
    ],
)
def test_the_export_is_the_same_in_every_warehouse(
    request, warehouse, tiny_warehouse, tmp_path, use_case, sql_root, s3
):
    duck = export(
        DuckDBEngine(database=tiny_warehouse, staging_path=tmp_path / "duck" / "run.duckdb"),
        use_case,
        sql_root,
        s3,
        "v-duckdb",
    )
    assert {rule: n for rule, n in duck.report["dropped"].items() if n} == shop_fixture.EXPECTED_DROPS
    assert duck.report["changed"] == shop_fixture.EXPECTED_CHANGES

    other = export(
        WAREHOUSES[warehouse](request), use_case, SQL_ROOTS.get(warehouse, sql_root), s3, f"v-{warehouse}"
    )

    assert other.report["dropped"] == duck.report["dropped"]
    assert other.report["changed"] == duck.report["changed"]
    assert other.report["by_source"] == duck.report["by_source"]
    assert (other.report["train_rows"], other.report["holdout_rows"]) == (
        duck.report["train_rows"],
        duck.report["holdout_rows"],
    )
    assert other.report == duck.report  # and everything else it counts: items, users, event types, bots
    assert other.validation["success"] and expectations(other.validation) == expectations(duck.validation)
    assert other.rows == duck.rows
    assert {f: len(rows) for f, rows in other.rows.items()} == {
        "interactions": duck.report["train_rows"],
        "holdout": duck.report["holdout_rows"],
        "items": duck.report["items"]["rows"],
        "users": duck.report["users"]["rows"],
    }
    fingerprints = {name: d["fingerprint"] for name, d in other.manifest["datasets"].items()}
    assert fingerprints == {name: d["fingerprint"] for name, d in duck.manifest["datasets"].items()}
    assert set(fingerprints) == set(FOLDERS)
    assert other.manifest["datasets"] == duck.manifest["datasets"]
    assert len(other.dropped_staging) == len(duck.dropped_staging) == 7  # tables and views alike


# ---- what differs per warehouse ---------------------------------------------------------------------------
def test_snowflake_column_names_compare_as_snowflake_folds_them(snowflake_connect, use_case, tmp_path):
    """Snowflake returns unquoted names upper-cased: they match the export's names, and a missing one is
    reported with the columns as Snowflake spells them."""
    root = tmp_path / "sql"
    (root / "shop").mkdir(parents=True)
    for path in (warehouses.SNOWFLAKE_SQL / "shop").iterdir():
        (root / "shop" / path.name).write_text(path.read_text())
    (root / "shop" / "clickstream.sql").write_text(
        "SELECT customer_id AS user_id, product_id AS item_id, event_ts FROM clickstream"
    )
    engine = SnowflakeEngine(connection=snowflake_connect())
    ctx = ExportContext(
        use_case=use_case, window=WINDOW, names=StagingNames(engine.qualifier, "c"), sql_root=root
    )
    try:
        with pytest.raises(ExportQueryError) as err:
            stage(engine, ctx)
    finally:
        engine.close()
    assert str(err.value) == (
        f"shop: source 'clickstream' ({root / 'shop' / 'clickstream.sql'}) returns no event_type: "
        "expected columns user_id, item_id, event_ts, event_type; the query returns USER_ID, ITEM_ID, EVENT_TS"
    )


def test_snowflake_stages_in_its_own_schema_and_keeps_the_connections(snowflake_connect):
    engine = SnowflakeEngine(connection=snowflake_connect(), schema="personalize_stg")
    try:
        assert engine.qualifier == "PERSONALIZE_STG."
        assert engine.query("SELECT current_schema()") == [("PUBLIC",)]  # the use case's tables resolve there
        assert engine.query(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'PERSONALIZE_STG'"
        ) == [(1,)]
        with pytest.raises(QueryError, match="NO_SUCH_COLUMN"):
            engine.columns("SELECT no_such_column FROM clickstream")
    finally:
        engine.close()


@pytest.mark.postgres
@pytest.mark.parametrize("connect", ["pg_connect", "redshift_connector_connect"])
def test_redshift_streams_in_fetches_of_at_most_1000_rows(request, connect):
    engine = RedshiftEngine(connection=request.getfixturevalue(connect)())
    try:
        batches = list(
            engine.stream(
                "SELECT n, CAST(n AS VARCHAR) AS t FROM generate_series(1, 6000) n", batch_rows=2500
            )
        )
        assert [b.num_rows for b in batches] == [2500, 2500, 1000]
        assert batches[0].schema.names == ["n", "t"] and batches[-1].column("n").to_pylist()[-1] == 6000
        assert list(engine.stream("SELECT 1 AS n WHERE false", batch_rows=10)) == []
        assert engine.query("SELECT 1") == [(1,)]  # the cursor's transaction is over
        with pytest.raises(QueryError) as err:
            engine.query("SELECT no_such_column")
        assert str(err.value).startswith('column "no_such_column" does not exist')
    finally:
        engine.close()


@pytest.mark.parametrize("driver", ["psycopg2", "psycopg"])
def test_postgres_streams_typed_rows_keeping_null_apart_from_empty_and_fails_as_a_query_error(
    pg_connect, pg_warehouse, driver
):
    if driver == "psycopg2":
        connection = pg_connect()
    else:  # psycopg 3, which the Postgres provider's hook hands out where it is installed
        import psycopg

        connection = psycopg.connect(
            host=pg_warehouse["host"],
            port=pg_warehouse["port"],
            user=pg_warehouse["login"],
            dbname=pg_warehouse["schema"],
        )
    engine = PostgresEngine(connection=connection)
    try:
        rows = (
            "SELECT * FROM (VALUES ('a', 1::bigint, 1.5::float8, true, 2.25::numeric), "
            "(NULL, NULL, NULL, false, NULL), ('', 3, NULL, NULL, 1)) v(s, i, f, b, n)"
        )
        batches = list(engine.stream(rows, batch_rows=2))
        table = pa.Table.from_batches(batches)
        assert [str(t) for t in table.schema.types] == ["string", "int64", "double", "bool", "double"]
        assert table.to_pylist() == [
            {"s": "a", "i": 1, "f": 1.5, "b": True, "n": 2.25},
            {"s": None, "i": None, "f": None, "b": False, "n": None},
            {"s": "", "i": 3, "f": None, "b": None, "n": 1.0},
        ]
        with pytest.raises(QueryError, match="division by zero"):
            list(engine.stream("SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g", batch_rows=2))
        assert engine.query("SELECT 1") == [(1,)]  # the connection is usable after a refused COPY
    finally:
        engine.close()
