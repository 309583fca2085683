"""A served use case on personalize-local: the shop warehouse, a trained champion with a campaign and an
event tracker in the registry, and the serving DAGs loaded against a test copy of include/config."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import DAG_FILE, ROOT, project_with_own_config
from tests.export import shop_fixture

BUCKET = "personalize-demo"
PREFIX = "exports/shop"
ROLE = "arn:aws:iam::123456789012:role/personalize-serving-test"
EXPORT_WINDOW_END = datetime(2026, 10, 20, tzinfo=UTC)
RUN_AT = shop_fixture.WINDOW_END  # the batch's "active in the last 30 days" ends here
RETRYING = {"retries": {"mode": "standard", "max_attempts": 10}}
INTERACTIONS_SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "version": "1.0",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
        {"name": "EVENT_VALUE", "type": ["null", "float"]},
    ],
}
COLD_USER = "u777"  # active in the warehouse, never seen in training


@dataclass
class World:
    url: str
    bucket: str
    state_dir: Path
    warehouse: Path
    personalize: Any
    s3: Any
    group: str
    dataset: str
    schema: str
    solution: str
    version: str
    campaign: str
    tracker: str
    tracking_id: str

    def records(self) -> list[dict[str, Any]]:
        """What PutEvents recorded into the Interactions dataset (personalize-local's state)."""
        path = (
            self.state_dir / "datasets" / self.dataset.split(":", 5)[-1].replace("/", "__") / "records.jsonl"
        )
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def bulk_rows(self) -> int:
        import pyarrow.parquet as pq

        path = (
            self.state_dir / "datasets" / self.dataset.split(":", 5)[-1].replace("/", "__") / "bulk.parquet"
        )
        return pq.read_metadata(path).num_rows


def wait_active(describe, key: str, timeout: float = 120, **arguments: Any) -> dict:
    deadline = time.monotonic() + timeout
    while (resource := describe(**arguments)[key])["status"] not in ("ACTIVE", "CREATE FAILED"):
        assert time.monotonic() < deadline, f"{key} stayed {resource['status']}"
        time.sleep(0.05)
    assert resource["status"] == "ACTIVE", resource.get("failureReason")
    return resource


def build_warehouse(path: Path) -> Path:
    """The export's tiny shop, plus a customer the model never saw who was active last week."""
    import duckdb

    shop_fixture.build(path)
    con = duckdb.connect(str(path))
    recent = int((RUN_AT - timedelta(days=3)).timestamp())
    con.execute(
        "INSERT INTO clickstream VALUES (900001, 's-cold', ?, 'p001', 'view', ?, 'web')", [COLD_USER, recent]
    )
    con.close()
    return path


def training_csv(warehouse: Path) -> str:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "SELECT DISTINCT trim(customer_id), product_id, event_ts FROM clickstream "
        "WHERE trim(coalesce(customer_id, '')) <> '' AND customer_id <> ? AND product_id IS NOT NULL "
        "AND length(product_id) < 256 AND event_ts BETWEEN 1600000000 AND ? ORDER BY 1, 3",
        [COLD_USER, int(EXPORT_WINDOW_END.timestamp()) - 1],
    ).fetchall()
    con.close()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"])
    writer.writerows([user, item, ts, "View", ""] for user, item, ts in rows)
    return out.getvalue()


def build_world(
    url: str, state_dir: Path, tmp: Path, *, name: str = "shop", bucket: str | None = None
) -> World:
    """Train and deploy a champion on the endpoint and record it in the registry, as the train DAG would.

    Each world has its own bucket (moto's S3 is shared by every endpoint in the process) unless given one.
    """
    from personalize_pipelines.registry import RegistryLocation, promote

    bucket = bucket or f"serving-{uuid.uuid4().hex[:10]}"

    options = {"endpoint_url": url, "region_name": "us-east-1", "config": Config(**RETRYING)}
    s3, p = boto3.client("s3", **options), boto3.client("personalize", **options)
    if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=bucket)
    warehouse = build_warehouse(tmp / "shop.duckdb")
    s3.put_object(
        Bucket=bucket, Key=f"{PREFIX}/v1/interactions/part-00000.csv", Body=training_csv(warehouse).encode()
    )
    window = {"start": "2026-05-01T00:00:00+00:00", "end": EXPORT_WINDOW_END.isoformat()}
    s3.put_object(
        Bucket=bucket, Key=f"{PREFIX}/v1/manifest.json", Body=json.dumps({"window": window}).encode()
    )

    group = p.create_dataset_group(name=f"{name}-group")["datasetGroupArn"]
    wait_active(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    schema = p.create_schema(name=f"{name}-interactions", schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    dataset = p.create_dataset(
        name=f"{name}-interactions", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
    )["datasetArn"]
    wait_active(p.describe_dataset, "dataset", datasetArn=dataset)
    job = p.create_dataset_import_job(
        jobName=f"{name}-import",
        datasetArn=dataset,
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/{PREFIX}/v1/interactions/"},
    )
    wait_active(
        p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
    )
    solution = p.create_solution(
        name=f"{name}-personalized",
        datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-user-personalization",
    )["solutionArn"]
    wait_active(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    wait_active(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    campaign = p.create_campaign(name=f"{name}-campaign", solutionVersionArn=version, minProvisionedTPS=1)[
        "campaignArn"
    ]
    wait_active(p.describe_campaign, "campaign", campaignArn=campaign)
    tracker = p.create_event_tracker(name=f"{name}-events", datasetGroupArn=group)
    wait_active(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])

    location = RegistryLocation(bucket=bucket, use_case_prefix=PREFIX)
    promote(
        s3,
        location=location,
        solution_version_arn=version,
        solution_arn=solution,
        campaign_arn=campaign,
        recipe="aws-user-personalization",
        metrics={"ndcg_at_10": 0.1},
        export_version="v1",
        dataset_group_arn=group,
        event_tracker_arn=tracker["eventTrackerArn"],
        promotion_id=f"{name}-1",
    )
    return World(
        url=url,
        bucket=bucket,
        state_dir=state_dir,
        warehouse=warehouse,
        personalize=p,
        s3=s3,
        group=group,
        dataset=dataset,
        schema=schema,
        solution=solution,
        version=version,
        campaign=campaign,
        tracker=tracker["eventTrackerArn"],
        tracking_id=tracker["trackingId"],
    )


def recipe_versions(world: World, recipe: str) -> list[dict]:
    """The versions of the one solution of the world's dataset group that uses ``recipe``."""
    p = world.personalize
    solutions = [
        s
        for s in p.list_solutions(datasetGroupArn=world.group)["solutions"]
        if p.describe_solution(solutionArn=s["solutionArn"])["solution"]["recipeArn"].endswith(f"/{recipe}")
    ]
    assert len(solutions) == 1, solutions
    return p.list_solution_versions(solutionArn=solutions[0]["solutionArn"])["solutionVersions"]


def run_before_any_promotion(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp: Path, dag_id: str, **serving: dict[str, Any]
) -> dict[str, str]:
    """The task states of one run of the DAG with a bucket whose registry has no champion yet; the cache
    would go to ``tmp/cache.duckdb``."""
    bucket = f"{world.bucket}-empty"
    if bucket not in [b["Name"] for b in world.s3.list_buckets().get("Buckets", [])]:
        world.s3.create_bucket(Bucket=bucket)
    use_test_config(monkeypatch, tmp, bucket=bucket, **serving)
    connect(monkeypatch, world, cache_path=tmp / "cache.duckdb")
    return task_states(load_dag(dag_id).test(logical_date=RUN_AT))


def use_test_config(
    monkeypatch: pytest.MonkeyPatch, tmp: Path, *, bucket: str = BUCKET, **serving: dict[str, Any]
) -> Path:
    """include/config/shop.yaml with the world's bucket, short waits and the given serving overrides, as the
    DAGs' config."""
    document = yaml.safe_load((ROOT / "include/config/shop.yaml").read_text())
    document["s3"]["bucket"] = bucket
    document["serving"]["waiter_delay"] = 1
    for section, values in serving.items():
        document["serving"].setdefault(section, {}).update(values)
    folder = project_with_own_config(tmp / "project")
    (folder / "shop.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setenv("AIRFLOW__PERSONALIZE__PROJECT_DIR", str(tmp / "project"))
    return folder


def connect(monkeypatch: pytest.MonkeyPatch, world: World, *, cache_path: Path | None = None) -> None:
    """aws_default → the endpoint (standard retries, as production should set them); warehouse → DuckDB."""
    aws = {"endpoint_url": world.url, "region_name": "us-east-1", "config_kwargs": RETRYING}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": aws}))
    extra = {"cache_path": str(cache_path)} if cache_path else {}
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE",
        json.dumps({"conn_type": "duckdb", "host": str(world.warehouse), "extra": extra}),
    )


def load_dag(dag_id: str):
    from tests.airflow_compat import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def task_states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def xcom(run, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalars(
            select(XComModel.value).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        ).first()
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    from personalize_local.testing import running_endpoint

    state = tmp_path_factory.mktemp("serving-endpoint")
    with running_endpoint(state_dir=state, phase_seconds=0.05) as url:
        yield url, state


@pytest.fixture(scope="module")
def world(endpoint, tmp_path_factory) -> World:
    url, state = endpoint
    return build_world(url, state, tmp_path_factory.mktemp("serving-world"))


@pytest.fixture(scope="module")
def worlds(endpoint, tmp_path_factory):
    """An old champion (superseded), the current champion with a losing challenger beside it, and a dataset
    group of another team."""
    url, state = endpoint
    # Named as the train DAG names the use case's resources (shop-…), which the worker policy is scoped to.
    old = build_world(url, state, tmp_path_factory.mktemp("old"), name="shop-old")
    new = build_world(url, state, tmp_path_factory.mktemp("new"), name="shop", bucket=old.bucket)
    p = new.personalize
    filters = {}
    for world in (old, new):
        arn = p.create_filter(
            name=f"{world.group.rsplit('/', 1)[-1]}-no-views",
            datasetGroupArn=world.group,
            filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("View")',
        )["filterArn"]
        wait_active(p.describe_filter, "filter", filterArn=arn)
        filters[world.group] = arn
    challenger = p.create_solution(
        name="shop-popular",
        datasetGroupArn=new.group,
        recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
    )["solutionArn"]
    wait_active(p.describe_solution, "solution", solutionArn=challenger)
    other = p.create_dataset_group(name="other-team")["datasetGroupArn"]
    wait_active(p.describe_dataset_group, "datasetGroup", datasetGroupArn=other)
    return {"old": old, "new": new, "filters": filters, "challenger": challenger, "other": other}


def exists(describe, **arguments) -> bool:
    try:
        describe(**arguments)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True
