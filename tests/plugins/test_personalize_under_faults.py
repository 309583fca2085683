"""Throttling and HTTP 500s from Personalize: creates, polls and deferred waits ride them out, no duplicates."""

from __future__ import annotations

import json

import boto3
import pytest

from personalize_airflow.operators.personalize import (
    PersonalizeCreateDatasetGroupOperator,
    PersonalizeCreateDatasetOperator,
    PersonalizeCreateSchemaOperator,
)
from tests.plugins.conftest import INTERACTIONS_SCHEMA, make_context, run_deferrable, unique

RETRYING = {"retries": {"mode": "standard", "max_attempts": 10}}
OPTIONS = {"waiter_delay": 1, "waiter_max_attempts": 60, "botocore_config": RETRYING}


@pytest.fixture(scope="module")
def flaky_endpoint(tmp_path_factory):
    from personalize_local.testing import running_endpoint

    with running_endpoint(
        state_dir=tmp_path_factory.mktemp("personalize-flaky"),
        phase_seconds=0.3,
        throttle_rate=0.3,
        error_rate=0.1,
        fault_seed=11,
    ) as url:
        yield url


def test_creates_and_waits_succeed_once_despite_throttling_and_server_errors(flaky_endpoint, monkeypatch):
    extra = {"endpoint_url": flaky_endpoint, "region_name": "us-east-1"}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": extra}))
    name = unique("flaky")

    group = run_deferrable(
        PersonalizeCreateDatasetGroupOperator(task_id="g", name=name, **OPTIONS), make_context()
    )
    schema = PersonalizeCreateSchemaOperator(
        task_id="s", name=name, schema=INTERACTIONS_SCHEMA, botocore_config=RETRYING
    ).execute(make_context())
    dataset_args = dict(name=name, dataset_group_arn=group, schema_arn=schema, dataset_type="Interactions")
    dataset = PersonalizeCreateDatasetOperator(
        task_id="d", deferrable=False, **dataset_args, **OPTIONS
    ).execute(make_context())
    again = run_deferrable(
        PersonalizeCreateDatasetOperator(task_id="d", **dataset_args, **OPTIONS), make_context()
    )
    assert again == dataset

    p = boto3.client("personalize", endpoint_url=flaky_endpoint, region_name="us-east-1", config=_config())
    groups = [g["name"] for g in p.list_dataset_groups()["datasetGroups"]]
    assert groups.count(name) == 1
    assert [s["name"] for s in p.list_schemas()["schemas"]].count(name) == 1
    [described] = p.list_datasets(datasetGroupArn=group)["datasets"]
    assert (described["datasetArn"], described["status"]) == (dataset, "ACTIVE")


def _config():
    from botocore.config import Config

    return Config(**RETRYING)
