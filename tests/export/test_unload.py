"""Unload mode: the warehouse writes the parts, the manifest is made from what landed and written last.

No warehouse that runs here writes to S3 itself (DuckDB's httpfs extension cannot download; Postgres has
no UNLOAD), so the statements Redshift and Snowflake run are golden files, and the publishing path is
exercised by ``WritingWarehouse``: a DuckDB engine standing in for a warehouse that unloads, whose
``unload`` writes the parts to the S3 API the way Redshift names them and reports them as
``stl_unload_log`` does (S3 key and rows). Everything after the warehouse's write is the real path.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.cleanup import remove_abandoned_exports
from personalize_pipelines.dialects import compile_sql
from personalize_pipelines.engines import DuckDBEngine
from personalize_pipelines.export import ExportContext, publish, run_key, stage
from personalize_pipelines.publish import complete_versions
from personalize_pipelines.unload import (
    UnloadedPart,
    UnloadError,
    landed_parts,
    redshift_unload_sql,
    s3_key,
    snowflake_unload_sql,
)
from personalize_pipelines.windows import sliding_window
from tests.export import shop_fixture

GOLDEN = Path(__file__).parent / "golden"
VALIDATION = {"success": True, "suites": {}, "report_html": "<html></html>"}
SELECT = (
    "SELECT user_id, item_id, timestamp, event_type, event_value FROM personalize_staging.r_k_interactions"
)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n")
    assert text + "\n" == path.read_text(), f"{name} changed; UPDATE_GOLDEN=1 rewrites it after review"


def test_redshift_unloads_csv_with_a_header_in_parallel_through_its_role():
    statement = redshift_unload_sql(
        compile_sql(SELECT + " WHERE event_type = 'View'", "redshift"),
        uri_prefix="s3://exports-bucket/personalize/shop/v1/interactions/",
        iam_role="arn:aws:iam::123456789012:role/personalize-unload",
    )
    golden("redshift_unload_interactions.sql", statement)
    assert "event_type = ''View''" in statement  # the select travels as one quoted literal


def test_snowflake_copies_into_the_stage_one_row_per_file():
    statement = snowflake_unload_sql(
        compile_sql(SELECT, "snowflake"),
        stage="analytics.public.personalize_exports",
        path="personalize/shop/v1/interactions/",
    )
    golden("snowflake_unload_interactions.sql", statement)


class WritingWarehouse(DuckDBEngine):
    """A DuckDB engine that also writes to S3 itself, as Redshift's UNLOAD does (see the module docstring)."""

    can_unload = True

    def __init__(self, *, s3, crash_after_write: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.s3, self.crash_after_write, self.unloads = s3, crash_after_write, []

    def unload(self, select, *, uri_prefix):
        bucket, prefix = s3_key(uri_prefix)
        table = self._con.sql(select).to_arrow_table()
        reported = []
        for index, offset in enumerate(range(0, max(table.num_rows, 1), 1000)):
            part = table.slice(offset, 1000)
            body = io.BytesIO()
            pacsv.write_csv(part, body)
            key = f"{prefix}part-{index:04d}_part_00.csv"
            self.s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue())
            reported.append(UnloadedPart(key=key, rows=part.num_rows))
        self.unloads.append(uri_prefix)
        return reported


def export(warehouse_path, tmp_path, use_case, s3, *, engine, version):
    try:
        ctx = ExportContext(
            use_case=use_case,
            window=sliding_window(shop_fixture.WINDOW_END, months=6),
            names=StagingNames(engine.qualifier, run_key(use_case.name, version)),
        )
        report = stage(engine, ctx)
        return publish(engine, ctx, s3_client=s3, report=report, validation=VALIDATION, version=version)
    finally:
        engine.close()


def unloading(use_case, **settings):
    return use_case.model_copy(update={"export": use_case.export.model_copy(update=settings)})


def test_an_unloaded_version_is_the_streamed_one_with_the_warehouse_s_parts(
    tiny_warehouse, tmp_path, shop_use_case, s3
):
    streamed = export(
        tiny_warehouse,
        tmp_path,
        shop_use_case,
        s3,
        engine=DuckDBEngine(database=tiny_warehouse, staging_path=tmp_path / "a.duckdb"),
        version="v1",
    )
    engine = WritingWarehouse(s3=s3, database=tiny_warehouse, staging_path=tmp_path / "b.duckdb")
    unloaded = export(
        tiny_warehouse, tmp_path, unloading(shop_use_case, unload=True), s3, engine=engine, version="v2"
    )

    assert engine.unloads == [
        f"s3://personalize-demo/exports/shop/v2/{folder}/"
        for folder in ("interactions", "holdout", "items", "users")
    ]
    for name, dataset in streamed["datasets"].items():
        assert unloaded["datasets"][name]["fingerprint"] == dataset["fingerprint"], name
        assert unloaded["datasets"][name]["rows"] == dataset["rows"], name
    parts = [f for f in unloaded["files"] if f["key"].startswith("interactions/")]
    assert [f["key"] for f in parts] == [
        "interactions/part-0000_part_00.csv",
        "interactions/part-0001_part_00.csv",
    ]
    assert sum(f["rows"] for f in parts) == 1444 and all(f["etag"] and f["bytes"] > 0 for f in parts)
    assert complete_versions(s3, bucket="personalize-demo", use_case_prefix="exports/shop") == ["v1", "v2"]


def test_unload_above_a_row_count_only(tiny_warehouse, tmp_path, shop_use_case, s3):
    engine = WritingWarehouse(s3=s3, database=tiny_warehouse, staging_path=tmp_path / "a.duckdb")
    export(
        tiny_warehouse,
        tmp_path,
        unloading(shop_use_case, unload_above_rows=10_000),
        s3,
        engine=engine,
        version="v1",
    )
    assert engine.unloads == []  # 1,524 published interactions stream
    engine = WritingWarehouse(s3=s3, database=tiny_warehouse, staging_path=tmp_path / "b.duckdb")
    export(
        tiny_warehouse,
        tmp_path,
        unloading(shop_use_case, unload_above_rows=1_000),
        s3,
        engine=engine,
        version="v2",
    )
    assert len(engine.unloads) == 4


def test_a_warehouse_that_cannot_write_s3_streams_and_says_so(
    tiny_warehouse, tmp_path, shop_use_case, s3, caplog
):
    engine = DuckDBEngine(database=tiny_warehouse, staging_path=tmp_path / "a.duckdb")
    with caplog.at_level("INFO"):
        manifest = export(
            tiny_warehouse, tmp_path, unloading(shop_use_case, unload=True), s3, engine=engine, version="v1"
        )
    assert "a duckdb warehouse cannot write to S3; the rows stream through the worker" in caplog.text
    assert manifest["datasets"]["interactions"]["rows"] == 1444


def test_parts_that_landed_must_be_the_ones_the_warehouse_reported(s3):
    folder = "exports/shop/v9/interactions/"
    for name in ("part-0000_part_00.csv", "part-0001_part_00.csv"):
        s3.put_object(Bucket="personalize-demo", Key=folder + name, Body=b"USER_ID\nu1\n")
    reported = [UnloadedPart(key=folder + "part-0000_part_00.csv", rows=1)]
    with pytest.raises(UnloadError, match="holds .*part-0001_part_00.csv.* it did not report"):
        landed_parts(s3, bucket="personalize-demo", folder_key=folder, reported=reported)
    reported += [
        UnloadedPart(key=folder + "part-0001_part_00.csv", rows=1),
        UnloadedPart(key=folder + "part-0002_part_00.csv", rows=5),
    ]
    with pytest.raises(UnloadError, match="reported writing .*part-0002_part_00.csv.* not found"):
        landed_parts(s3, bucket="personalize-demo", folder_key=folder, reported=reported)
    entries = landed_parts(s3, bucket="personalize-demo", folder_key=folder, reported=reported[:2])
    assert [(e["key"], e["rows"], e["bytes"]) for e in entries] == [
        ("interactions/part-0000_part_00.csv", 1, 11),
        ("interactions/part-0001_part_00.csv", 1, 11),
    ]


def test_a_crash_after_the_warehouse_wrote_leaves_a_folder_readers_ignore_and_cleanup_removes(
    tiny_warehouse, tmp_path, shop_use_case, s3, monkeypatch
):
    from personalize_pipelines import publish as publishing

    def crash(self, manifest):
        raise RuntimeError("worker killed before the manifest")

    monkeypatch.setattr(publishing.VersionWriter, "commit", crash)
    engine = WritingWarehouse(s3=s3, database=tiny_warehouse, staging_path=tmp_path / "a.duckdb")
    version = "20261101T000000Z-20261101T010000-000001"
    with pytest.raises(RuntimeError, match="before the manifest"):
        export(
            tiny_warehouse,
            tmp_path,
            unloading(shop_use_case, unload=True),
            s3,
            engine=engine,
            version=version,
        )
    listed = s3.list_objects_v2(Bucket="personalize-demo", Prefix=f"exports/shop/{version}/")["Contents"]
    assert any(o["Key"].endswith("_part_00.csv") for o in listed)
    assert complete_versions(s3, bucket="personalize-demo", use_case_prefix="exports/shop") == []
    removed = remove_abandoned_exports(
        s3,
        use_case=shop_use_case,
        moment=datetime(2027, 1, 1, tzinfo=UTC),
        dry_run=False,
        now=datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=1),
    )
    assert removed["abandoned"] == [version]
    assert s3.list_objects_v2(Bucket="personalize-demo", Prefix=f"exports/shop/{version}/")["KeyCount"] == 0
