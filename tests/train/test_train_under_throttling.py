"""30% of Personalize calls throttled: a train run still succeeds, and makes each resource exactly once.

The endpoint here has its own Personalize state (S3 is moto's, shared in the process, so the session's
export version is readable through it): every resource on it is this run's.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.train.conftest import PERSONALIZED, POPULAR, publish_copy, registry, run_train, write_use_case

RETRYING = {"retries": {"mode": "standard", "max_attempts": 10}}
USE_CASE = "shop_throttled"


@pytest.fixture(scope="module")
def throttled_endpoint(tmp_path_factory):
    from personalize_local.testing import running_endpoint

    state = tmp_path_factory.mktemp("throttled-train-endpoint")
    with running_endpoint(state_dir=state, phase_seconds=0.02, throttle_rate=0.3, fault_seed=7) as url:
        yield url


def throttled_share(url: str, calls: int = 40) -> float:
    """The fraction of single-attempt calls the endpoint answers ThrottlingException."""
    client = boto3.client(
        "personalize",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    throttled = 0
    for _ in range(calls):
        try:
            client.list_recipes()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ThrottlingException", error
            throttled += 1
    return throttled / calls


def test_a_train_run_succeeds_and_creates_each_resource_once_under_throttling(
    throttled_endpoint, config_dir, export_version, s3, monkeypatch
):
    assert 0.1 < throttled_share(throttled_endpoint) < 0.6  # the endpoint really throttles
    write_use_case(config_dir, USE_CASE, solutions=[PERSONALIZED, POPULAR])
    publish_copy(s3, version=export_version, use_case=USE_CASE)
    aws = {"endpoint_url": throttled_endpoint, "region_name": "us-east-1", "config_kwargs": RETRYING}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": aws}))

    run = run_train(USE_CASE, export_version)

    assert run.state == "success", run.tasks
    assert run.tasks["deploy.promote_champion"] == "success"
    p = boto3.client(
        "personalize", endpoint_url=throttled_endpoint, region_name="us-east-1", config=Config(**RETRYING)
    )
    (group,) = p.list_dataset_groups()["datasetGroups"]
    group_arn = group["datasetGroupArn"]
    assert group["name"].startswith(f"{USE_CASE}-run")
    datasets = p.list_datasets(datasetGroupArn=group_arn)["datasets"]
    assert sorted(d["datasetType"].upper() for d in datasets) == ["INTERACTIONS", "ITEMS", "USERS"]
    assert len(p.list_schemas()["schemas"]) == 3
    for dataset in datasets:
        (job,) = p.list_dataset_import_jobs(datasetArn=dataset["datasetArn"])["datasetImportJobs"]
        assert job["status"] == "ACTIVE"
    solutions = p.list_solutions(datasetGroupArn=group_arn)["solutions"]
    assert sorted(s["name"].split("-")[1] for s in solutions) == ["personalized", "popular"]
    versions = []
    for solution in solutions:
        (version,) = p.list_solution_versions(solutionArn=solution["solutionArn"])["solutionVersions"]
        assert version["status"] == "ACTIVE"
        versions.append(version["solutionVersionArn"])
        (job,) = p.list_batch_inference_jobs(solutionVersionArn=version["solutionVersionArn"])[
            "batchInferenceJobs"
        ]
        assert job["status"] == "ACTIVE"  # the evaluation's batch inference, once
    assert len(p.list_batch_inference_jobs()["batchInferenceJobs"]) == 2  # no champion yet to score
    (tracker,) = p.list_event_trackers()["eventTrackers"]
    (campaign,) = p.list_campaigns()["campaigns"]
    assert campaign["name"] == USE_CASE and campaign["status"] == "ACTIVE"

    champion, history = registry(s3, USE_CASE)
    assert champion.solution_version_arn in versions and champion.campaign_arn == campaign["campaignArn"]
    assert (
        champion.event_tracker_arn == tracker["eventTrackerArn"] and champion.dataset_group_arn == group_arn
    )
    assert len(history) == 1
    served = p.describe_campaign(campaignArn=campaign["campaignArn"])["campaign"]
    assert served["solutionVersionArn"] == champion.solution_version_arn
