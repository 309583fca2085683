"""The same input gives byte-identical CSV parts; versions never overwrite each other."""

from __future__ import annotations

import pytest

from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.engines import DuckDBEngine
from personalize_pipelines.export import ExportContext, publish, stage
from personalize_pipelines.publish import VersionExistsError, complete_versions, delete_folder
from personalize_pipelines.windows import sliding_window
from tests.export import shop_fixture

VALIDATION = {"success": True, "suites": {}, "report_html": "<html></html>"}


def export_once(warehouse, tmp_path, use_case, s3, run, version):
    engine = DuckDBEngine(database=warehouse, staging_path=tmp_path / f"{run}.duckdb")
    try:
        ctx = ExportContext(
            use_case=use_case,
            window=sliding_window(shop_fixture.WINDOW_END, months=6),
            names=StagingNames(engine.qualifier, run),
        )
        report = stage(engine, ctx)
        return publish(engine, ctx, s3_client=s3, report=report, validation=VALIDATION, version=version)
    finally:
        engine.close()


def test_same_input_gives_byte_identical_parts(tiny_warehouse, tmp_path, shop_use_case, s3):
    small_parts = shop_use_case.s3.model_copy(update={"part_rows": 1000})
    use_case = shop_use_case.model_copy(update={"s3": small_parts})
    first = export_once(tiny_warehouse, tmp_path, use_case, s3, "a", "v1")
    second = export_once(tiny_warehouse, tmp_path, use_case, s3, "b", "v2")

    def digests(manifest):
        return {f["key"]: f["sha256"] for f in manifest["files"] if f["key"].endswith(".csv")}

    assert digests(first) == digests(second)
    assert "interactions/part-00001.csv" in digests(first)  # 1444 rows in parts of 1000
    assert complete_versions(s3, bucket="personalize-demo", use_case_prefix="exports/shop") == ["v1", "v2"]


def test_a_version_is_never_overwritten(tiny_warehouse, tmp_path, shop_use_case, s3):
    export_once(tiny_warehouse, tmp_path, shop_use_case, s3, "a", "v1")
    with pytest.raises(VersionExistsError):
        export_once(tiny_warehouse, tmp_path, shop_use_case, s3, "b", "v1")


def test_versions_without_manifest_are_ignored(tiny_warehouse, tmp_path, shop_use_case, s3):
    s3.put_object(
        Bucket="personalize-demo", Key="exports/shop/v0-crashed/interactions/part-00000.csv", Body=b"x"
    )
    export_once(tiny_warehouse, tmp_path, shop_use_case, s3, "a", "v1")
    assert complete_versions(s3, bucket="personalize-demo", use_case_prefix="exports/shop") == ["v1"]


def test_deleting_a_folder_never_takes_a_sibling_that_shares_its_prefix(s3):
    for key in ("exports/shop/v1/part.csv", "exports/shop/v10/part.csv"):
        s3.put_object(Bucket="personalize-demo", Key=key, Body=b"x")
    with pytest.raises(ValueError, match="not a folder"):
        delete_folder(s3, bucket="personalize-demo", prefix="exports/shop/v1")
    assert delete_folder(s3, bucket="personalize-demo", prefix="exports/shop/v1/") == 1
    assert [
        o["Key"] for o in s3.list_objects_v2(Bucket="personalize-demo", Prefix="exports/shop/")["Contents"]
    ] == ["exports/shop/v10/part.csv"]
