"""The train DAG against personalize-local: one exported version (the export DAG on a small synthetic
warehouse) shared by every test, and a use-case YAML per scenario so each has its own registry and campaign."""

from __future__ import annotations

import copy
import itertools
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from tests.conftest import DAG_FILE, ROOT, project_with_own_config

BUNDLES = "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"

WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
EXPORT_PREFIX = "exports"
PERSONALIZED = {"name": "personalized", "recipe": "aws-user-personalization"}
POPULAR = {"name": "popular", "recipe": "aws-popularity-count"}
_run_dates = itertools.count(1)


CAMPAIGN_FAILS = "shop_campaign_fails"  # a use case whose campaign (named after it) the endpoint fails
UPDATE_FAILS = "shop_update_fails"  # a use case whose campaign is created, but every update of it fails


@pytest.fixture(scope="session")
def train_endpoint(tmp_path_factory):
    from personalize_local.testing import running_endpoint

    state = tmp_path_factory.mktemp("train-personalize-local")
    with running_endpoint(
        state_dir=state, phase_seconds=0.02, fail_jobs=[CAMPAIGN_FAILS, f"update:{UPDATE_FAILS}"]
    ) as url:
        yield url


@pytest.fixture(scope="session")
def s3(train_endpoint):
    return boto3.client("s3", endpoint_url=train_endpoint, region_name="us-east-1")


@pytest.fixture(scope="session")
def personalize(train_endpoint):
    return boto3.client("personalize", endpoint_url=train_endpoint, region_name="us-east-1")


@pytest.fixture(scope="session")
def config_dir(tmp_path_factory):
    """A use-case folder the DAG files read instead of include/config (the real shop.yaml is in it)."""
    project = tmp_path_factory.mktemp("project")
    folder = project_with_own_config(project)
    (folder / "shop.yaml").write_text((ROOT / "include" / "config" / "shop.yaml").read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__PERSONALIZE__PROJECT_DIR", str(project))
        yield folder


@pytest.fixture(scope="session")
def environment(airflow_db, train_endpoint, config_dir, tmp_path_factory):
    """Connections to a small synthetic warehouse and the endpoint; status checks every second."""
    from personalize_pipelines.warehouse.synthetic import generate

    warehouse = tmp_path_factory.mktemp("warehouse") / "shop.duckdb"
    generate(warehouse, interactions=20_000)
    values = {
        "AIRFLOW_CONN_WAREHOUSE": json.dumps({"conn_type": "duckdb", "host": str(warehouse)}),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": train_endpoint, "region_name": "us-east-1"}}
        ),
        "AIRFLOW__PERSONALIZE__POLL_SECONDS": "1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield


@pytest.fixture(scope="session")
def export_version(environment, s3) -> str:
    """The export DAG, run once: the version every train test starts from."""
    from airflow.utils.state import DagRunState

    from tests.airflow_compat import DagBag

    s3.create_bucket(Bucket="personalize-demo")
    run = DagBag(dag_folder=str(DAG_FILE)).dags["shop__export"].test(logical_date=WINDOW_END)
    assert run.state == DagRunState.SUCCESS
    latest = json.loads(
        s3.get_object(Bucket="personalize-demo", Key=f"{EXPORT_PREFIX}/shop/latest.json")["Body"].read()
    )
    return latest["version"]


def write_use_case(config_dir: Path, name: str, *, solutions: list[dict], **sections: dict) -> None:
    """<name>.yaml: the shop use case with these solutions and overridden sections."""
    document = yaml.safe_load((config_dir / "shop.yaml").read_text())
    document["training"] = {
        **document["training"],
        "solutions": copy.deepcopy(solutions),
        "retries": 1,
        "retry_delay_seconds": 1,
    }
    document["evaluation"] = {**document["evaluation"], "max_users": 300, "min_relative_lift": 0.02}
    for key, value in sections.items():
        document[key] = {**document.get(key, {}), **value}
    (config_dir / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def publish_copy(
    s3, *, version: str, use_case: str, as_version: str | None = None, source_use_case: str = "shop"
) -> None:
    """The shared export version (the shop's, unless another is named), copied under another use case's
    prefix (its own registry and campaign), as ``as_version`` when given."""
    source = f"{EXPORT_PREFIX}/{source_use_case}/{version}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="personalize-demo", Prefix=source):
        for obj in page.get("Contents", []):
            if "/evaluation/" in obj["Key"]:
                continue
            target = f"{EXPORT_PREFIX}/{use_case}/{as_version or version}/{obj['Key'][len(source) :]}"
            s3.copy_object(
                Bucket="personalize-demo",
                Key=target,
                CopySource={"Bucket": "personalize-demo", "Key": obj["Key"]},
            )


class TrainRun:
    """One finished run of a train DAG: its state, task states and return values."""

    def __init__(self, run) -> None:
        self.run = run
        self.state = run.state
        self.tasks = {ti.task_id: ti.state for ti in run.get_task_instances()}

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            row = session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == self.run.dag_id,
                    XComModel.run_id == self.run.run_id,
                    XComModel.task_id == task_id,
                    XComModel.key == key,
                )
            ).first()
            return None if row is None else XComModel.deserialize_value(row)


def run_train(
    use_case: str, version: str, *, logical_date: datetime | None = None, same_data_trains: bool = False
) -> TrainRun:
    """dag.test() of <use_case>__train on `version`, as a hand-triggered run with the version param."""
    conf = {"version": version, **({"same_data_trains": True} if same_data_trains else {})}
    return run_dag(use_case, "train", logical_date=logical_date, run_conf=conf)


def run_dag(
    use_case: str, flow: str, *, logical_date: datetime | None = None, run_conf: dict | None = None
) -> TrainRun:
    """dag.test() of <use_case>__<flow>, read from a DAG file of the use case's own."""
    from personalize_airflow.use_cases import project
    from tests.airflow_compat import DagBag

    # The tests' own use cases (shop_gate, shop_rollback...) get a DAG file like dags/shop.py, in their
    # project's dags/, which dag.test() reads as a DAG bundle of its own.
    dags = project().root / "dags"
    dags.mkdir(exist_ok=True)
    dag_file = dags / f"{use_case}.py"
    if not dag_file.exists():  # the example project's own dags/shop.py stays as it is
        dag_file.write_text(DAG_FILE.read_text().replace('"shop"', f'"{use_case}"'))
    bundles = [
        {"name": "personalize-train-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(dags)}},
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
    ]
    previous = os.environ.get(BUNDLES)
    os.environ[BUNDLES] = json.dumps(bundles)
    try:
        bag = DagBag(dag_folder=str(dag_file))
        assert bag.import_errors == {}
        moment = logical_date or WINDOW_END + timedelta(hours=next(_run_dates))
        run = bag.dags[f"{use_case}__{flow}"].test(logical_date=moment, run_after=moment, run_conf=run_conf)
    finally:
        if previous is None:
            os.environ.pop(BUNDLES)
        else:
            os.environ[BUNDLES] = previous
    return TrainRun(run)


def registry(s3, use_case: str):
    from personalize_pipelines.registry import RegistryLocation, history, read_champion

    location = RegistryLocation(bucket="personalize-demo", use_case_prefix=f"{EXPORT_PREFIX}/{use_case}")
    return read_champion(s3, location=location), history(s3, location=location)


def campaign(personalize, use_case: str) -> dict | None:
    for summary in personalize.list_campaigns()["campaigns"]:
        if summary["name"] == use_case:
            return personalize.describe_campaign(campaignArn=summary["campaignArn"])["campaign"]
    return None
