"""The manifest's fingerprints say whether two versions hold the same rows, in whatever order they were
read or written; versions never overwrite each other."""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter

import duckdb
import pytest

from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.engines import DuckDBEngine
from personalize_pipelines.export import ExportContext, publish, stage
from personalize_pipelines.publish import VersionExistsError, complete_versions, delete_folder
from personalize_pipelines.windows import sliding_window
from tests.export import shop_fixture

VALIDATION = {"success": True, "suites": {}, "report_html": "<html></html>"}
TABLES = ("clickstream", "orders", "order_items", "products", "customers")


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


def fingerprints(manifest):
    return {name: dataset["fingerprint"] for name, dataset in manifest["datasets"].items()}


def published_rows(s3, manifest, folder):
    """Every published row of a folder, as a multiset of CSV lines."""
    rows = Counter()
    for entry in manifest["files"]:
        if entry["key"].startswith(f"{folder}/") and entry["key"].endswith(".csv"):
            body = s3.get_object(
                Bucket="personalize-demo", Key=f"exports/shop/{manifest['version']}/{entry['key']}"
            )["Body"]
            rows.update(tuple(row) for row in list(csv.reader(io.StringIO(body.read().decode())))[1:])
    return rows


def rewritten(warehouse, tmp_path, name, *statements):
    """A copy of the warehouse with every table stored in reverse, then ``statements`` run on it."""
    copy = tmp_path / f"{name}.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY rowid DESC")
    for statement in statements:
        con.execute(statement)
    con.close()
    return copy


def test_the_same_rows_in_another_order_give_the_same_fingerprints(
    tiny_warehouse, tmp_path, shop_use_case, s3
):
    small_parts = shop_use_case.s3.model_copy(update={"part_rows": 1000})
    use_case = shop_use_case.model_copy(update={"s3": small_parts})
    first = export_once(tiny_warehouse, tmp_path, use_case, s3, "a", "v1")
    reversed_warehouse = rewritten(tiny_warehouse, tmp_path, "reversed")
    second = export_once(reversed_warehouse, tmp_path, use_case, s3, "b", "v2")

    assert fingerprints(first) == fingerprints(second)
    assert set(fingerprints(first)) == {"interactions", "holdout", "items", "users"}
    assert fingerprints(first)["interactions"].startswith("1444:")  # 1444 rows in parts of 1000
    assert [f["key"] for f in first["files"] if f["key"].startswith("interactions/")] == [
        "interactions/part-00000.csv",
        "interactions/part-00001.csv",
    ]
    for folder in ("interactions", "holdout", "items", "users"):
        assert published_rows(s3, first, folder) == published_rows(s3, second, folder), folder
    assert complete_versions(s3, bucket="personalize-demo", use_case_prefix="exports/shop") == ["v1", "v2"]


def test_one_changed_row_changes_its_datasets_fingerprint_only(tiny_warehouse, tmp_path, shop_use_case, s3):
    first = export_once(tiny_warehouse, tmp_path, shop_use_case, s3, "a", "v1")
    one_view_moved = rewritten(
        tiny_warehouse,
        tmp_path,
        "changed",
        f"UPDATE clickstream SET event_ts = event_ts + 1 WHERE customer_id = 'u005' AND event_ts = "
        f"{shop_fixture.BASE + 5 * 3600}",
    )
    second = export_once(one_view_moved, tmp_path, shop_use_case, s3, "b", "v2")
    changed = {
        name for name in fingerprints(first) if fingerprints(first)[name] != fingerprints(second)[name]
    }
    assert changed == {"interactions"}
    assert first["datasets"]["interactions"]["rows"] == second["datasets"]["interactions"]["rows"]


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
