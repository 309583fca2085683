"""`make bench`'s Postgres export benchmark, run on the tiny shop: every key the issue names, figures that
hang together, a second run that reuses the loaded tables, and a skip with the reason when Postgres is
unreachable."""

from __future__ import annotations

import psycopg2
import pytest

import bench.run as bench_run
from tests.conftest import free_port
from tests.export import shop_fixture


@pytest.fixture
def bench_database(pg_server, monkeypatch):
    """The driver's database, under a name of this test's own, dropped afterwards."""
    name = f"personalize_bench_test_{free_port()}"
    monkeypatch.setattr(bench_run, "PG_DATABASE", name)
    monkeypatch.setenv("PG_HOST", pg_server["host"])
    monkeypatch.setenv("PG_PORT", str(pg_server["port"]))
    monkeypatch.setenv("PG_USER", pg_server["user"])
    yield name
    admin = psycopg2.connect(
        host=pg_server["host"], port=pg_server["port"], user=pg_server["user"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def test_postgres_export_benchmark_reports_each_size_against_its_bare_copy(
    tmp_path, monkeypatch, bench_database
):
    tiny = shop_fixture.build(tmp_path / "tiny.duckdb")
    monkeypatch.setattr(bench_run, "BUILD", tmp_path)
    monkeypatch.setattr(bench_run, "warehouse", lambda rows: tiny)  # both sizes: the tiny shop
    monkeypatch.setenv("BENCH_ROWS", "2000")
    monkeypatch.setenv("BENCH_SMALL_ROWS", "1000")

    result = bench_run.postgres_export_benchmark()

    assert result["database"] == bench_database
    assert (result["small"]["schema"], result["big"]["schema"]) == ("bench_1k", "bench_2k")
    for label in ("small", "big"):
        size = result[label]
        assert 0 < size["train_rows"] < size["raw_rows"], label
        for key in ("seconds", "baseline_copy_seconds", "peak_rss_mb", "load_seconds"):
            assert size[key] > 0, (label, key)
        assert size["ratio_vs_copy"] > 1, "the bare COPY is the extraction alone, so it cannot take longer"
        assert set(size["phases"]) == {"stage_seconds", "validate_seconds", "publish_seconds"}
        assert sum(size["phases"].values()) <= size["seconds"] + 0.01
    assert result["rss_growth_1m_to_10m"] == pytest.approx(
        result["big"]["peak_rss_mb"] / result["small"]["peak_rss_mb"], rel=0.05
    )
    assert len(result["load_average"]["before"]) == 3
    # the export removed its staged tables; the warehouse's tables stay for the next run, which reuses them
    dsn = bench_run.pg_dsn(bench_database)
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
            (bench_run.PG_STAGING_SCHEMA,),
        )
        assert cur.fetchone()[0] == 0
    con.close()
    assert bench_run.load_postgres(tiny, dsn, "bench_1k") is None


def test_postgres_export_benchmark_is_skipped_with_the_reason_when_postgres_is_unreachable(monkeypatch):
    monkeypatch.setenv("PG_HOST", "127.0.0.1")
    monkeypatch.setenv("PG_PORT", str(free_port()))  # nothing listens there

    result = bench_run.postgres_export_benchmark()

    assert list(result) == ["skipped"]
    assert "unreachable" in result["skipped"]
