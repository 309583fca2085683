"""<use_case>__experiment end to end with dag.test() against personalize-local, on small synthetic
warehouses: one whose users' tastes change two months before the end, one whose tastes never change."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from personalize_pipelines.project import Project
from tests.airflow_compat import DagBag
from tests.conftest import DAG_FILE
from tests.experiment import taste_warehouse

BUNDLES = "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
DRIFT_AT = taste_warehouse.END - timedelta(days=60)
BUCKET = "taste-experiment"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    from personalize_local.testing import running_endpoint

    with running_endpoint(state_dir=tmp_path_factory.mktemp("experiment-local"), phase_seconds=0.02) as url:
        yield url


@pytest.fixture(scope="module")
def clients(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return s3, boto3.client("personalize", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture(scope="module")
def project(airflow_db, endpoint, tmp_path_factory):
    """The taste project: use cases ``drift`` and ``still``, each on its own warehouse, and their DAG files."""
    folder = taste_warehouse.project(tmp_path_factory.mktemp("experiment-project"))
    warehouses = tmp_path_factory.mktemp("taste-warehouses")
    values = {
        "AIRFLOW__PERSONALIZE__PROJECT_DIR": str(folder),
        "AIRFLOW__PERSONALIZE__POLL_SECONDS": "1",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
        ),
        BUNDLES: json.dumps(
            [
                {
                    "name": "experiment-tests",
                    "classpath": LOCAL_BUNDLE,
                    "kwargs": {"path": str(folder / "dags")},
                }
            ]
        ),
    }
    (folder / "dags").mkdir()
    for name, drift in (("drift", DRIFT_AT), ("still", None)):
        path = taste_warehouse.build(warehouses / f"{name}.duckdb", drift_at=drift)
        values[f"AIRFLOW_CONN_{name.upper()}_WAREHOUSE"] = json.dumps(
            {"conn_type": "duckdb", "host": str(path)}
        )
        config = taste_warehouse.USE_CASE.replace(
            "warehouse_conn_id: warehouse", f"warehouse_conn_id: {name}_warehouse"
        )
        (folder / "include" / "config" / f"{name}.yaml").write_text(config)
        (folder / "dags" / f"{name}.py").write_text(DAG_FILE.read_text().replace('"shop"', f'"{name}"'))
    (folder / "include" / "config" / "taste.yaml").unlink()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield Project(folder)


def run_experiment(project, name: str, **conf):
    bag = DagBag(dag_folder=str(project.root / "dags" / f"{name}.py"))
    assert bag.import_errors == {}
    moment = taste_warehouse.END
    return bag.dags[f"{name}__experiment"].test(logical_date=moment, run_after=moment, run_conf=conf)


def xcom(run, task_id: str):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel)
            .where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
            .order_by(XComModel.timestamp.desc())  # dag.test() of an earlier session may have left one
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def report_of(s3, result):
    key = result["report"].removeprefix(f"s3://{BUCKET}/")
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def ndcg(report, months, solution="personalized"):
    (row,) = [
        r
        for r in report["rows"]
        if r["variant"]["months"] == months
        and r["solution"] == solution
        and r["variant"]["cap"] is None
        and not r["variant"]["lag_weeks"]
    ]
    return row["metrics"]["ndcg_at_10"]


@pytest.fixture(scope="module")
def drift_run(project, clients):
    from airflow.utils.state import DagRunState

    run = run_experiment(project, "drift", caps=[None])
    failed = {ti.task_id: ti.state for ti in run.get_task_instances() if ti.state != "success"}
    assert run.state == DagRunState.SUCCESS, failed
    return run


def test_after_a_drift_the_short_window_wins_and_is_recommended(drift_run, clients):
    s3, _ = clients
    result = xcom(drift_run, "report")
    report = report_of(s3, result)
    assert ndcg(report, 3) > ndcg(report, 12)
    assert result["recommendation"] == report["recommendation"]  # returned as XCom
    assert result["recommendation"]["variant"]["months"] == 3
    assert len(report["rows"]) == 2 * 2  # windows × solutions
    for row in report["rows"]:
        low, high = row["intervals"]["ndcg_at_10"]
        assert low <= row["metrics"]["ndcg_at_10"] <= high
        assert row["training_hours"] is not None and row["cost_usd"] > 0


def test_the_experiment_leaves_nothing_behind_but_its_report(drift_run, clients):
    s3, personalize = clients
    result = xcom(drift_run, "report")
    prefix = result["report"].removeprefix(f"s3://{BUCKET}/").rsplit("/", 1)[0]
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/").get("Contents", [])]
    assert sorted(left) == [f"{prefix}/experiment.html", f"{prefix}/experiment.json"]
    assert personalize.list_dataset_groups()["datasetGroups"] == []
    assert personalize.list_solutions()["solutions"] == []
    assert personalize.list_schemas()["schemas"] == []


def test_variants_never_move_latest_nor_announce_a_version(project, drift_run, clients):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    s3, _ = clients
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="exports/drift/latest.json").get("KeyCount", 0) == 0
    bag = DagBag(dag_folder=str(project.root / "dags" / "drift.py"))
    assert [t.task_id for t in bag.dags["drift__experiment"].tasks if t.outlets] == []
    with create_session() as session:
        announced = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "drift__export")
        ).all()
    assert announced == []


def test_without_a_drift_the_longer_window_wins_or_ties_and_the_cheapest_within_tolerance_is_picked(
    project, clients
):
    s3, _ = clients
    run = run_experiment(project, "still", cadence_weeks=[0, 2])
    result = xcom(run, "report")
    report = report_of(s3, result)
    tolerance = report["params"]["tolerance"]
    assert ndcg(report, 12) >= ndcg(report, 3) * (1 - tolerance)
    best = max(r["metrics"]["ndcg_at_10"] for r in report["rows"])
    within = [r for r in report["rows"] if r["metrics"]["ndcg_at_10"] >= best * (1 - tolerance)]
    assert result["recommendation"]["label"] == min(within, key=lambda r: r["cost_usd"])["label"]
    weeks = [(p["solution"], p["weeks_old"]) for p in report["cadence"]]
    assert weeks == [("personalized", 0), ("personalized", 2), ("popular", 0), ("popular", 2)]
    assert "retraining weekly instead of every 2 weeks" in report["cadence_statement"]
