"""The cleaning is written once and compiled per warehouse; a use case's own SQL is never rewritten."""

from __future__ import annotations

import pytest

from personalize_pipelines import cleaning
from personalize_pipelines.dialects import DIALECTS, DialectError, compile_sql

# Snowflake-only syntax sqlglot would rewrite for any other dialect: it must reach the warehouse as written.
SNOWFLAKE_SOURCE = """SELECT customer_id AS user_id, sku AS item_id, DATE_PART(epoch_second, ts) AS event_ts,
  'view' AS event_type
FROM raw.events
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ts DESC) = 1 -- keep the last delivery"""


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_use_case_query_reaches_every_warehouse_as_written(shop_use_case, dialect):
    source = shop_use_case.sources[0]
    compiled = compile_sql(cleaning.source_select_sql(source, SNOWFLAKE_SOURCE + ";"), dialect)
    assert f"(\n{SNOWFLAKE_SOURCE}\n)" in compiled
    assert "use-case-sql" not in compiled


def test_the_cleaning_itself_is_compiled_to_the_warehouse_dialect(shop_use_case):
    names = cleaning.StagingNames("stg.main.", "k")
    written = cleaning.classify_sql(
        names,
        cleaning.raw_union_sql({s.name: "SELECT 1" for s in shop_use_case.sources}, shop_use_case),
        shop_use_case,
        window_start=0,
        window_end=1,
    )
    assert "TRIM(BOTH" in written.upper()
    assert "TRIM(USER_ID, " in compile_sql(written, "duckdb").upper()
    assert "DOUBLE PRECISION" not in compile_sql(written, "snowflake").upper()


def test_an_unknown_dialect_is_refused_naming_the_known_ones():
    with pytest.raises(DialectError, match="bigquery.*duckdb, postgres, redshift, snowflake"):
        compile_sql("SELECT 1", "bigquery")


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "REGEXP_MATCHES(user_id, '^u[0-9]')"),
        ("postgres", "user_id ~ '^u[0-9]'"),
        ("snowflake", "REGEXP_INSTR(user_id, '^u[0-9]') > 0"),
    ],
)
def test_a_regex_matches_anywhere_in_the_text_on_every_warehouse(dialect, expected):
    compiled = compile_sql("SELECT count(*) FROM t WHERE NOT (regex_search(user_id, '^u[0-9]'))", dialect)
    assert expected in compiled
