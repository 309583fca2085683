"""`make bench`'s export benchmark, run small: every key the issue names, and figures that hang together."""

from __future__ import annotations

import pytest

import bench.run as bench_run


def test_export_benchmark_reports_the_export_against_its_baseline_and_floor(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_run, "BUILD", tmp_path)
    monkeypatch.setenv("BENCH_ROWS", "60000")
    monkeypatch.setenv("BENCH_SMALL_ROWS", "20000")

    result = bench_run.export_benchmark()

    assert result["rows"] > result["small_rows"] > 0
    assert 0 < result["train_rows"] < result["rows"]
    for key in (
        "seconds",
        "baseline_copy_seconds",
        "floor_copy_seconds",
        "floor_upload_seconds",
        "peak_rss_mb",
    ):
        assert result[key] > 0, key
    assert result["ratio_vs_copy"] == pytest.approx(
        result["seconds"] / result["baseline_copy_seconds"], rel=0.05
    )
    assert result["seconds"] > result["floor_copy_seconds"], (
        "the floor is the cleaning alone, so it cannot take longer"
    )
    assert sum(result["phases"].values()) <= result["seconds"] + 0.01
    # the floor writes the kept rows, training and holdout, as one CSV with a header
    floor_rows = sum(1 for _ in (tmp_path / "floor.csv").open()) - 1
    assert floor_rows >= result["train_rows"]
