"""Fixtures for the Personalize integration: a personalize-local endpoint reached only via the AWS connection."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from airflow.providers.common.compat.sdk import TaskDeferred


def failing(kind: str, number: int) -> str:
    """A resource name personalize-local is told to fail (its ``fail_jobs`` setting): it ends CREATE FAILED."""
    return f"forced-failure-{kind}-{number}"


FORCED_FAILURES = {
    failing(kind, n)
    for kind in ("import", "training", "campaign", "batch", "recommender")
    for n in range(1, 5)
}
ROLE = "arn:aws:iam::123456789012:role/personalize-airflow-test"
RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization-v2"

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
    ],
}


@pytest.fixture(scope="session")
def personalize_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A personalize-local endpoint of our own, told which named jobs must end CREATE FAILED."""
    from personalize_local.testing import running_endpoint

    with running_endpoint(
        state_dir=tmp_path_factory.mktemp("personalize-airflow"),
        phase_seconds=0.3,
        # a sensor started right after a create must find the training unfinished, even on a loaded machine
        train_seconds=3,
        fail_jobs=FORCED_FAILURES,
    ) as url:
        yield url


@pytest.fixture
def aws_default(personalize_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the ``aws_default`` connection at the endpoint: the only place the code learns about it."""
    extra = {"endpoint_url": personalize_endpoint, "region_name": "us-east-1"}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": extra}))
    return personalize_endpoint


@pytest.fixture(scope="session")
def clients(personalize_endpoint: str) -> dict[str, Any]:
    """Plain boto3 clients the tests use to look at what the operators did."""
    options = {"endpoint_url": personalize_endpoint, "region_name": "us-east-1"}
    return {"personalize": boto3.client("personalize", **options), "s3": boto3.client("s3", **options)}


@pytest.fixture(scope="session")
def bucket(clients: dict[str, Any]) -> str:
    name = f"personalize-airflow-{uuid.uuid4().hex[:8]}"
    clients["s3"].create_bucket(Bucket=name)
    return name


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def imported_group(clients: dict[str, Any], bucket: str, *, csv: str, domain: str | None = None) -> str:
    """A dataset group (of ``domain``, when given) with ``csv`` imported as its interactions, set up with
    plain boto3."""
    p = clients["personalize"]
    name = unique(domain.lower().replace("_", "-") if domain else "models")
    in_domain = {"domain": domain} if domain else {}
    clients["s3"].put_object(Bucket=bucket, Key=f"{name}/interactions.csv", Body=csv.encode())
    group_arn = p.create_dataset_group(name=name, **in_domain)["datasetGroupArn"]
    wait_status(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group_arn)
    schema = p.create_schema(name=name, schema=json.dumps(INTERACTIONS_SCHEMA), **in_domain)["schemaArn"]
    dataset = p.create_dataset(
        name=name, schemaArn=schema, datasetGroupArn=group_arn, datasetType="Interactions"
    )
    wait_status(p.describe_dataset, "dataset", datasetArn=dataset["datasetArn"])
    job = p.create_dataset_import_job(
        jobName=name,
        datasetArn=dataset["datasetArn"],
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/{name}/interactions.csv"},
    )
    imported = wait_status(
        p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
    )
    assert imported["status"] == "ACTIVE", imported
    return group_arn


def interactions_csv(*, users: int = 60, per_user: int = 25, seed: int = 3) -> str:
    """Two taste groups of users over 80 items: enough for Personalize's training minimums."""
    rng = random.Random(seed)
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE"]
    for user in range(users):
        own = "a" if user % 2 == 0 else "b"
        for step in range(per_user):
            group = own if rng.random() < 0.9 else ("b" if own == "a" else "a")
            item = f"{group}{min(int(rng.expovariate(0.15)), 39)}"
            lines.append(f"u{user},{item},{1_700_000_000 + user * 1000 + step},click")
    return "\n".join(lines) + "\n"


@dataclass
class TaskInstanceRecord:
    """The slice of a task instance an operator touches during execute: identity and XCom pushes."""

    dag_id: str = "personalize_test"
    task_id: str = "task"
    run_id: str = "manual__2026-11-29T00:00:00+00:00"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        assert value is not None, f"{key}: Airflow 3.0 cannot push a None XCom (apache/airflow#55062)"
        self.xcoms[key] = value


def make_context(run_id: str = "manual__2026-11-29T00:00:00+00:00", task_id: str = "task") -> dict[str, Any]:
    ti = TaskInstanceRecord(run_id=run_id, task_id=task_id)
    return {"ti": ti, "task_instance": ti, "run_id": run_id}


def run_trigger(trigger) -> dict[str, Any]:
    """Run a trigger to its first event, as the triggerer would; return the event's payload."""

    async def first_event():
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())


def run_deferrable(operator, context: dict[str, Any]) -> Any:
    """Execute an operator; if it defers, run its trigger and resume it with the event, as Airflow does."""
    try:
        return operator.execute(context)
    except TaskDeferred as deferred:
        event = run_trigger(deferred.trigger)
        return getattr(operator, deferred.method_name)(context, event, **(deferred.kwargs or {}))


def wait_status(describe, key: str, timeout: float = 120, **arguments: Any) -> dict:
    """Poll a Describe call (test set-up, outside the code under test) until ACTIVE or CREATE FAILED."""
    deadline = time.monotonic() + timeout
    while (resource := describe(**arguments)[key])["status"] not in ("ACTIVE", "CREATE FAILED"):
        assert time.monotonic() < deadline, f"{key} stayed {resource['status']}"
        time.sleep(0.1)
    return resource
