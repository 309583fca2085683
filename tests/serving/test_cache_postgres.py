"""The recommendations cache on a Postgres warehouse: replaced per user in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personalize_pipelines.recommendation_cache import replace_rows
from tests.conftest import free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_server):
    import psycopg2

    schema = f"serving_test_{free_port()}"
    con = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname="postgres"
    )
    yield con, schema
    con.rollback()
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    con.close()


def test_a_reload_replaces_the_users_rows_and_leaves_other_users(pg):
    con, schema = pg
    table = f"{schema}.recommendations"
    first = [("u1", 1, "a", 0.9), ("u1", 2, "b", 0.5), ("u2", 1, "c", None)]
    assert replace_rows(
        con,
        dialect="postgres",
        table=table,
        rows=first,
        solution_version="sv1",
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
    ) == {"deleted": 0, "inserted": 3}
    again = [("u1", 1, "d", 0.7)]
    assert replace_rows(
        con,
        dialect="postgres",
        table=table,
        rows=again,
        solution_version="sv2",
        generated_at=datetime(2026, 11, 2, 1, tzinfo=UTC),
    ) == {"deleted": 2, "inserted": 1}
    with con.cursor() as cur:
        cur.execute(
            f"SELECT user_id, rank, item_id, score, solution_version, generated_at FROM {table} ORDER BY 1, 2"
        )
        assert cur.fetchall() == [
            ("u1", 1, "d", 0.7, "sv2", datetime(2026, 11, 2, 1)),
            ("u2", 1, "c", None, "sv1", datetime(2026, 11, 1)),
        ]


def test_a_failed_load_leaves_the_cache_as_it_was(pg):
    con, schema = pg
    table = f"{schema}.recommendations"
    replace_rows(
        con,
        dialect="postgres",
        table=table,
        rows=[("u1", 1, "a", 0.9)],
        solution_version="sv1",
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with pytest.raises(Exception, match="value too long"):
        replace_rows(
            con,
            dialect="postgres",
            table=table,
            rows=[("u1", 1, "x" * 300, 0.1)],
            solution_version="sv2",
            generated_at=datetime(2026, 11, 2, tzinfo=UTC),
        )
    with con.cursor() as cur:
        cur.execute(f"SELECT user_id, item_id, solution_version FROM {table}")
        assert cur.fetchall() == [("u1", "a", "sv1")]


def test_segments_replace_each_answered_query_and_an_empty_segment_empties_its_rows(pg):
    from personalize_pipelines.recommendation_cache import ATTRIBUTE_SEGMENTS

    con, schema = pg
    table = f"{schema}.segments"
    shoes, hats = 'ITEMS.CATEGORY = "shoes"', 'ITEMS.CATEGORY = "hats" AND ITEMS.BRAND = "' + "b" * 300 + '"'
    segments = {"dialect": "postgres", "table": table, "layout": ATTRIBUTE_SEGMENTS}
    replace_rows(
        con,
        rows=[(shoes, 1, "u1", None), (shoes, 2, "u2", None), (hats, 1, "u3", None)],
        solution_version="sv1",
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
        **segments,
    )
    assert replace_rows(
        con,
        rows=[(shoes, 1, "u4", None)],
        keys=[shoes, hats],
        solution_version="sv2",
        generated_at=datetime(2026, 11, 2, tzinfo=UTC),
        **segments,
    ) == {"deleted": 3, "inserted": 1}
    with con.cursor() as cur:
        cur.execute(f"SELECT * FROM {table}")
        assert cur.fetchall() == [(shoes, 1, "u4", "sv2", datetime(2026, 11, 2))]
