"""The export DAG end to end with dag.test(): files, manifest, checksums, counts, Asset event."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest

from tests.conftest import DAG_FILE
from tests.export import shop_fixture

PREFIX = "exports/shop"


def _load_dag(dag_id):
    from tests.airflow_compat import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def _connections(monkeypatch, warehouse_path, s3_endpoint, kind="duckdb", pg=None):
    if kind == "duckdb":
        monkeypatch.setenv(
            "AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "duckdb", "host": str(warehouse_path)})
        )
    else:
        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "postgres", **pg}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}),
    )


def _get(s3, key):
    return s3.get_object(Bucket="personalize-demo", Key=key)["Body"].read()


def run_export(dag_id="shop__export", logical_date=shop_fixture.WINDOW_END):
    from airflow.utils.state import DagRunState

    dag = _load_dag(dag_id)
    run = dag.test(logical_date=logical_date)
    return run, run.state == DagRunState.SUCCESS


def assert_published_version(s3):
    latest = json.loads(_get(s3, f"{PREFIX}/latest.json"))
    version_prefix = f"{PREFIX}/{latest['version']}"
    manifest = json.loads(_get(s3, f"{version_prefix}/manifest.json"))
    assert manifest["window"] == {"start": "2026-05-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"}
    keys = {f["key"] for f in manifest["files"]}
    for required in (
        "interactions/part-00000.csv",
        "holdout/part-00000.csv",
        "items/part-00000.csv",
        "users/part-00000.csv",
        "schemas/interactions.json",
        "schemas/items.json",
        "validation/personalize_contract.json",
        "validation/report.html",
    ):
        assert required in keys
    for entry in manifest["files"]:
        body = _get(s3, f"{version_prefix}/{entry['key']}")
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["key"]
        if entry["key"].endswith(".csv"):
            rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
            assert len(rows) - 1 == entry["rows"], entry["key"]
    interactions = list(
        csv.DictReader(io.StringIO(_get(s3, f"{version_prefix}/interactions/part-00000.csv").decode()))
    )
    assert list(interactions[0]) == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    assert (
        len(interactions)
        == manifest["datasets"]["interactions"]["rows"]
        == manifest["cleaning"]["train_rows"]
    )
    return manifest


@pytest.fixture
def exported(airflow_db, tiny_warehouse, s3_endpoint, s3, monkeypatch):
    _connections(monkeypatch, tiny_warehouse, s3_endpoint)
    run, ok = run_export()
    assert ok, f"export run ended {run.state}"
    return run


def test_export_dag_publishes_a_complete_version(exported, s3):
    manifest = assert_published_version(s3)
    assert manifest["cleaning"]["dropped"]["missing_user_id"] == 5
    assert manifest["validation"]["success"] is True
    schema = json.loads(_get(s3, f"{PREFIX}/{manifest['version']}/schemas/interactions.json"))
    assert [f["name"] for f in schema["fields"]] == [
        "USER_ID",
        "ITEM_ID",
        "TIMESTAMP",
        "EVENT_TYPE",
        "EVENT_VALUE",
    ]


def test_export_dag_emits_the_asset_event_with_the_version(exported, s3):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    latest = json.loads(_get(s3, f"{PREFIX}/latest.json"))
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "shop__export")
            .order_by(AssetEvent.id.desc())
        ).all()
        assert events, "no asset event"
        assert events[0].extra["version"] == latest["version"]
        assert events[0].extra["uri"] == latest["uri"]


def test_a_rerun_writes_a_new_version_and_keeps_the_old(exported, s3):
    first = json.loads(_get(s3, f"{PREFIX}/latest.json"))["version"]
    run, ok = run_export()
    assert ok
    second = json.loads(_get(s3, f"{PREFIX}/latest.json"))["version"]
    assert second != first
    assert _get(s3, f"{PREFIX}/{first}/manifest.json")


@pytest.mark.postgres
def test_export_dag_on_a_postgres_warehouse(airflow_db, pg_warehouse, s3_endpoint, s3, monkeypatch):
    _connections(monkeypatch, None, s3_endpoint, kind="postgres", pg=pg_warehouse)
    run, ok = run_export()
    assert ok, f"export run ended {run.state}"
    manifest = assert_published_version(s3)
    assert manifest["cleaning"]["dropped"]["missing_user_id"] == 5
    assert manifest["cleaning"]["train_rows"] == 1444


def test_a_contract_failure_publishes_nothing(
    airflow_db, tiny_warehouse, s3_endpoint, s3, monkeypatch, tmp_path
):
    """Too few users with two interactions: the run fails at validate, no manifest, latest unchanged."""
    import duckdb

    _connections(monkeypatch, tiny_warehouse, s3_endpoint)
    assert run_export()[1]
    before = json.loads(_get(s3, f"{PREFIX}/latest.json"))
    con = duckdb.connect(str(tiny_warehouse))
    con.execute("DELETE FROM clickstream WHERE customer_id NOT IN ('u001', 'u002', 'u003')")
    con.execute("DELETE FROM orders")
    con.close()

    run, ok = run_export(logical_date=shop_fixture.WINDOW_END + timedelta(hours=1))

    assert not ok
    failed = {ti.task_id for ti in run.get_task_instances() if ti.state == "failed"}
    assert failed == {"validate"}
    assert json.loads(_get(s3, f"{PREFIX}/latest.json")) == before
    listed = s3.list_objects_v2(Bucket="personalize-demo", Prefix=f"{PREFIX}/")
    manifests = [o["Key"] for o in listed["Contents"] if o["Key"].endswith("manifest.json")]
    assert manifests == [f"{PREFIX}/{before['version']}/manifest.json"]
