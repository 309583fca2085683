"""What each SQL template receives: the README's table equals the code, and the millisecond bounds run as
BIGINT on both warehouses."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import duckdb
import psycopg2
import pytest

from personalize_pipelines.batch_scoring import template_context as batch_context
from personalize_pipelines.event_sync import template_context as events_context
from personalize_pipelines.events import Position
from personalize_pipelines.templates import render_query
from personalize_pipelines.windows import sliding_window
from tests.conftest import ROOT

WINDOW = sliding_window(datetime(2026, 11, 1, tzinfo=UTC), months=3)
MS_SOURCE = (
    "SELECT user_id FROM clicks WHERE event_ms >= {{ window.start_epoch_ms }} "
    "AND event_ms < {{ window.end_epoch_ms }} ORDER BY user_id"
)


def readme_variables(template: str) -> set[str]:
    """The variables the README's template table lists in the row starting with ``template``."""
    readme = (ROOT / "README.md").read_text()
    (row,) = [line for line in readme.splitlines() if line.startswith(f"| {template}")]
    return set(re.findall(r"`([a-z_.]+)`", row.split("|")[2]))


def test_the_readme_lists_what_each_template_receives():
    export = {f"window.{key}" for key in WINDOW.template_context()} | {"use_case"}
    assert readme_variables("sources") == export
    assert readme_variables("`serving.events.sql`") == set(events_context(Position(0, "")))

    class Batch:
        active_days = 30

    assert readme_variables("`serving.batch.users_sql`") == set(batch_context(Batch, WINDOW.end))


def clicks() -> list[tuple[str, int]]:
    """One row a millisecond before the window, one at its start, one at its last millisecond, one at its end."""
    start, end = WINDOW.start_epoch * 1000, WINDOW.end_epoch * 1000
    return [("before", start - 1), ("first", start), ("last", end - 1), ("after", end)]


def render(tmp_path) -> str:
    (tmp_path / "source.sql").write_text(MS_SOURCE)
    return render_query("source.sql", sql_root=tmp_path, window=WINDOW.template_context(), use_case="x")


def test_millisecond_bounds_run_on_duckdb(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE clicks (user_id VARCHAR, event_ms BIGINT)")
    con.executemany("INSERT INTO clicks VALUES (?, ?)", clicks())
    assert [r[0] for r in con.execute(render(tmp_path)).fetchall()] == ["first", "last"]


@pytest.mark.postgres
def test_millisecond_bounds_run_on_postgres(tmp_path, pg_server):
    con = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname="postgres"
    )
    try:
        with con.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE clicks (user_id VARCHAR, event_ms BIGINT)")
            cur.executemany("INSERT INTO clicks VALUES (%s, %s)", clicks())
            cur.execute(render(tmp_path))
            assert [r[0] for r in cur.fetchall()] == ["first", "last"]
    finally:
        con.close()
