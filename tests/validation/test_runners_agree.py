"""The same suites on the same data through GX Core (Postgres) and validate_in_sql (Postgres, DuckDB).

The runners must agree expectation by expectation: success, observed value and counts.
"""

from __future__ import annotations

import json
import os

import psycopg2
import pytest
from psycopg2.extras import execute_values

from personalize_pipelines.validation import ContractViolation, validate_in_sql, validate_with_gx

from .conftest import PARAMETERS, RAW_COLUMNS, SUITES, WINDOW_END, interactions, raw_row, raw_rows

pytestmark = pytest.mark.postgres

SCHEMA = "personalize_staging"
PG_INTERACTION_COLUMNS = '"USER_ID" VARCHAR, "ITEM_ID" VARCHAR, "TIMESTAMP" BIGINT, "EVENT_TYPE" VARCHAR, "EVENT_VALUE" DOUBLE PRECISION'
TYPE_CHECKS = ("expect_column_values_to_be_in_type_list", "expect_column_values_to_be_of_type")
PG_RAW_COLUMNS = RAW_COLUMNS.replace("DOUBLE", "DOUBLE PRECISION")


def defective_interactions() -> list[tuple]:
    """Every contract defect at once, at known counts."""
    rows = interactions(users=20, per_user=40)  # 800 rows: too few; 20 users with two: too few
    rows[0] = (None, *rows[0][1:])
    rows[1] = (rows[1][0], "x" * 300, *rows[1][2:])
    rows[2] = (*rows[2][:2], WINDOW_END + 60, *rows[2][3:])
    rows[3] = (*rows[3][:3], "click", None)
    rows[4] = (*rows[4][:3], "click", None)
    return rows


def defective_raw() -> list[tuple]:
    rows = raw_rows(900, null_user_ids=30)
    return rows + [raw_row("clicks", "u1", None, -1.0, "Refund", 2.5)] * 20


TABLES = {
    "interactions_clean": (interactions, "personalize_contract"),
    "interactions_defects": (defective_interactions, "personalize_contract"),
    "raw_clean": (lambda: raw_rows(1000), "source_quality"),
    "raw_defects": (defective_raw, "source_quality"),
}


@pytest.fixture(scope="module")
def pg_database(pg_server):
    """A throwaway database holding every table in TABLES; dropped afterwards."""
    name = f"validation_test_{os.getpid()}"
    admin = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
    con = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname=name
    )
    with con, con.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {SCHEMA}")
        for table, (make_rows, suite) in TABLES.items():
            columns = PG_INTERACTION_COLUMNS if suite == "personalize_contract" else PG_RAW_COLUMNS
            cur.execute(f"CREATE TABLE {SCHEMA}.{table} ({columns})")
            execute_values(cur, f"INSERT INTO {SCHEMA}.{table} VALUES %s", make_rows())
    url = f"postgresql+psycopg2://{pg_server['user']}@{pg_server['host']}:{pg_server['port']}/{name}"
    yield {"connection": con, "url": url}
    con.close()
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="module")
def pg_query(pg_database):
    con = pg_database["connection"]

    def run(sql):
        with con.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
        con.rollback()
        return rows

    return run


def _comparable(result, *, type_names=True):
    """What a user reads off each expectation; type names differ between engines (DOUBLE vs DOUBLE PRECISION)."""
    return [
        {
            "type": r.type,
            "column": r.column,
            "success": r.success,
            "observed_value": r.observed_value
            if type_names or r.type not in TYPE_CHECKS
            else "(engine-specific)",
            "element_count": r.element_count,
            "unexpected_count": r.unexpected_count,
            "unexpected_percent": pytest.approx(r.unexpected_percent)
            if r.unexpected_percent is not None
            else None,
            "missing_count": r.missing_count,
            "sample": sorted(map(repr, r.partial_unexpected_list or [])),
            "unexpected_rows": (r.details or {}).get("unexpected_rows"),
            "severity": r.severity,
        }
        for r in result.results
    ]


@pytest.mark.parametrize("table", TABLES)
def test_gx_and_sql_runners_agree(
    table, pg_database, pg_query, contract, source_quality, load_duck, duck_query
):
    make_rows, suite_name = TABLES[table]
    suite = contract if suite_name == "personalize_contract" else source_quality

    gx_result = validate_with_gx(
        suite=suite, connection_string=pg_database["url"], schema=SCHEMA, table=table, parameters=PARAMETERS
    )
    sql_pg = validate_in_sql(
        suite=suite, table=f"{SCHEMA}.{table}", dialect="postgres", run_query=pg_query, parameters=PARAMETERS
    )
    columns = None if suite_name == "personalize_contract" else RAW_COLUMNS
    duck_table = (
        load_duck(f"stg.{table}", make_rows(), columns) if columns else load_duck(f"stg.{table}", make_rows())
    )
    sql_duck = validate_in_sql(
        suite=suite, table=duck_table, dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
    )

    assert gx_result.engine == "great_expectations:postgres"
    assert _comparable(gx_result) == _comparable(sql_pg)
    assert _comparable(sql_duck, type_names=False) == _comparable(sql_pg, type_names=False)
    assert gx_result.success is sql_pg.success is sql_duck.success is table.endswith("clean")


def test_gx_names_every_planted_contract_defect(pg_database, contract):
    result = validate_with_gx(
        suite=contract,
        connection_string=pg_database["url"],
        schema=SCHEMA,
        table="interactions_defects",
        parameters=PARAMETERS,
    )
    with pytest.raises(ContractViolation) as caught:
        result.raise_for_contract()
    message = str(caught.value)
    assert "6 of 20 expectations failed" in message
    for fragment in (
        "expect_column_values_to_not_be_null (column USER_ID): 1 of 800 rows unexpected",
        "expect_column_value_lengths_to_be_between (column ITEM_ID): 1 of 800 rows unexpected",
        "expect_column_values_to_be_between (column TIMESTAMP): 1 of 800 rows unexpected",
        "expect_column_values_to_be_in_set (column EVENT_TYPE): 2 of 800 rows unexpected",
        "expect_table_row_count_to_be_between: observed 800",
        "users_with_two=20, required=25",
    ):
        assert fragment in message


def test_gx_loads_the_suite_files_with_every_expectation():
    import great_expectations as gx

    for path in sorted(SUITES.glob("*.json")):
        document = json.loads(path.read_text())
        suite = gx.ExpectationSuite(**document)
        assert [e.expectation_type for e in suite.expectations] == [
            e["type"] for e in document["expectations"]
        ]


def test_contract_meets_lower_case_postgres_columns_in_both_runners(pg_database, pg_query, contract):
    con = pg_database["connection"]
    with con, con.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {SCHEMA}.lower_case AS SELECT "
            '"USER_ID" AS user_id, "ITEM_ID" AS item_id, "TIMESTAMP" AS timestamp, "EVENT_TYPE" AS event_type, '
            f'"EVENT_VALUE" AS event_value FROM {SCHEMA}.interactions_clean'
        )
        cur.execute(f"UPDATE {SCHEMA}.lower_case SET user_id = NULL WHERE item_id = 'item-3'")
        cur.execute(f"SELECT count(*) FROM {SCHEMA}.lower_case WHERE user_id IS NULL")
        nulls = cur.fetchone()[0]
    gx_result = validate_with_gx(
        suite=contract,
        connection_string=pg_database["url"],
        schema=SCHEMA,
        table="lower_case",
        parameters=PARAMETERS,
    )
    sql_result = validate_in_sql(
        suite=contract,
        table=f"{SCHEMA}.lower_case",
        dialect="postgres",
        run_query=pg_query,
        parameters=PARAMETERS,
    )

    for result in (gx_result, sql_result):
        assert [(r.label, r.unexpected_count) for r in result.failures] == [
            ("expect_column_values_to_not_be_null (column user_id)", nulls)
        ]
    assert _comparable(gx_result) == _comparable(sql_result)


def test_gx_runner_names_a_missing_table(pg_database, contract):
    with pytest.raises(ValueError, match="personalize_staging.nope not found"):
        validate_with_gx(
            suite=contract,
            connection_string=pg_database["url"],
            schema=SCHEMA,
            table="nope",
            parameters=PARAMETERS,
        )
