"""The experiment's exports: one extraction, every variant filtered from it, one shared holdout."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from personalize_pipelines.engines import DuckDBEngine
from personalize_pipelines.experiment.grid import Variant
from personalize_pipelines.experiment.variants import (
    experiment_windows,
    publish_variant,
    shared_context,
    stage_shared,
    stage_variant,
)
from personalize_pipelines.export import drop_staging
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import abandoned_versions, complete_versions, read_json
from personalize_pipelines.windows import parse_instant
from tests.experiment import taste_warehouse

VARIANTS = [Variant(3), Variant(3, 20), Variant(12), Variant(12, None, 2)]


@pytest.fixture
def published(stationary_warehouse, taste_use_case, s3, tmp_path):
    """The four variants exported from one extraction: (manifests by variant, the shared report)."""
    engine = DuckDBEngine(database=stationary_warehouse, staging_path=tmp_path / "staging.duckdb")
    windows = experiment_windows(taste_use_case, taste_warehouse.END)
    shared = shared_context(taste_use_case, engine, experiment="x1", windows=windows, variants=VARIANTS)
    experiment = UseCaseLayout.for_use_case(taste_use_case).experiment("x1")
    shared_report = stage_shared(engine, shared)
    manifests = {}
    for variant in VARIANTS:
        ctx, report = stage_variant(engine, shared, shared_report, variant, windows=windows)
        manifests[variant] = publish_variant(
            engine,
            ctx,
            s3_client=s3,
            report=report,
            experiment=experiment,
            variant=variant,
            training=windows.training(variant),
        )
        drop_staging(engine, ctx.names)
    drop_staging(engine, shared.names)
    engine.close()
    return manifests, shared_report


def _rows(s3, bucket, manifest, folder):
    rows = []
    prefix = manifest["uri"].removeprefix(f"s3://{bucket}/")
    for entry in manifest["files"]:
        if entry["key"].startswith(f"{folder}/"):
            body = s3.get_object(Bucket=bucket, Key=prefix + entry["key"])["Body"].read().decode()
            rows += list(csv.DictReader(io.StringIO(body)))
    return rows


def test_every_variant_publishes_the_same_holdout_file(published):
    manifests, shared_report = published
    holdouts = {
        variant: [(f["key"], f["sha256"]) for f in manifest["files"] if f["key"].startswith("holdout/")]
        for variant, manifest in manifests.items()
    }
    assert len(set(map(tuple, holdouts.values()))) == 1
    assert all(
        m["datasets"]["holdout"]["rows"] == shared_report["holdout_rows"] > 0 for m in manifests.values()
    )


def test_each_variant_trains_on_its_own_window_only(published, s3, taste_use_case):
    manifests, _ = published
    bucket = taste_use_case.s3.bucket
    spans = {}
    for variant, manifest in manifests.items():
        window = manifest["experiment"]["training_window"]
        stamps = [int(r["TIMESTAMP"]) for r in _rows(s3, bucket, manifest, "interactions")]
        spans[variant] = (min(stamps), max(stamps), len(stamps))
        assert parse_instant(window["start"]).timestamp() <= min(stamps)
        assert max(stamps) < parse_instant(window["end"]).timestamp()
    assert spans[Variant(3)][2] < spans[Variant(12)][2]
    assert spans[Variant(12, None, 2)][1] < spans[Variant(12)][1] - 7 * 86400  # ends two weeks earlier


def test_the_cap_keeps_exactly_each_users_latest_k_rows_of_its_window(published, s3, taste_use_case):
    manifests, _ = published
    bucket = taste_use_case.s3.bucket
    by_user: dict[str, list[int]] = {}
    for row in _rows(s3, bucket, manifests[Variant(3)], "interactions"):
        by_user.setdefault(row["USER_ID"], []).append(int(row["TIMESTAMP"]))
    capped: dict[str, list[int]] = {}
    for row in _rows(s3, bucket, manifests[Variant(3, 20)], "interactions"):
        capped.setdefault(row["USER_ID"], []).append(int(row["TIMESTAMP"]))
    assert any(len(stamps) > 20 for stamps in by_user.values())  # the cap bites
    for user, stamps in by_user.items():
        assert sorted(capped[user]) == sorted(stamps)[-20:]
    report = manifests[Variant(3, 20)]["cleaning"]
    dropped = sum(max(0, len(s) - 20) for s in by_user.values())
    assert report["dropped"]["beyond_recent_cap"] == report["recent_cap"]["rows"] == dropped


def test_variants_leave_latest_and_the_versions_alone(published, s3, taste_use_case):
    bucket, prefix = taste_use_case.s3.bucket, taste_use_case.s3_prefix
    assert read_json(s3, bucket, UseCaseLayout.for_use_case(taste_use_case).latest) is None
    assert complete_versions(s3, bucket=bucket, use_case_prefix=prefix) == []
    assert (
        abandoned_versions(s3, bucket=bucket, use_case_prefix=prefix, started_before=datetime.now(UTC)) == []
    )
