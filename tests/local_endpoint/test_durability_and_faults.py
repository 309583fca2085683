"""Restart (state, data and models survive; work in flight fails with a reason) and fault injection."""

from __future__ import annotations

import json
import shutil

import pytest
from botocore.exceptions import ClientError

from personalize_local.testing import running_endpoint
from tests.local_endpoint.conftest import (
    ROLE,
    create_group_with_data,
    group_with_event_tracker,
    interactions_csv,
    items_csv,
    make_clients,
    train,
    train_popularity,
    unique,
    wait_for,
    wait_for_campaign_update,
)


@pytest.fixture(scope="module")
def restart_bucket(local_endpoint) -> str:
    # S3 lives in moto's in-process backend, shared by every endpoint in this process
    name = unique("restart")
    make_clients(local_endpoint).s3.create_bucket(Bucket=name)
    return name


def test_resources_data_and_models_survive_a_restart(tmp_path, restart_bucket):
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        clients = make_clients(url)
        arns = create_group_with_data(
            clients,
            bucket=restart_bucket,
            name=unique("durable"),
            interactions=interactions_csv(),
            items=items_csv(),
        )
        served = train(
            clients, group=arns["group"], name=unique("durable"), recipe="aws-user-personalization-v2"
        )
        before = clients.runtime.get_recommendations(
            campaignArn=served["campaign"], userId="u2", numResults=10
        )["itemList"]
        metrics = clients.personalize.get_solution_metrics(solutionVersionArn=served["version"])["metrics"]
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        clients = make_clients(url)
        p = clients.personalize
        assert p.describe_dataset_group(datasetGroupArn=arns["group"])["datasetGroup"]["status"] == "ACTIVE"
        assert p.describe_campaign(campaignArn=served["campaign"])["campaign"]["status"] == "ACTIVE"
        assert p.get_solution_metrics(solutionVersionArn=served["version"])["metrics"] == metrics
        after = clients.runtime.get_recommendations(
            campaignArn=served["campaign"], userId="u2", numResults=10
        )["itemList"]
        assert [i["itemId"] for i in after] == [i["itemId"] for i in before]
        # the imported data survived too: a new version trains on it without a new import
        version = p.create_solution_version(solutionArn=served["solution"])["solutionVersionArn"]
        assert (
            wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)["status"]
            == "ACTIVE"
        )
    with running_endpoint(state_dir=tmp_path, phase_seconds=30) as url:
        p = make_clients(url).personalize
        pending = p.create_dataset_group(name=unique("pending"))["datasetGroupArn"]
        assert p.describe_dataset_group(datasetGroupArn=pending)["datasetGroup"]["status"] == "CREATE PENDING"
        p.update_campaign(campaignArn=served["campaign"], solutionVersionArn=version)
        during = p.describe_campaign(campaignArn=served["campaign"])["campaign"]  # phases of 30 s: no race
        assert (during["status"], during["solutionVersionArn"]) == ("ACTIVE", served["version"])
        assert during["latestCampaignUpdate"]["status"] == "CREATE PENDING"
        assert during["latestCampaignUpdate"]["solutionVersionArn"] == version
        with pytest.raises(p.exceptions.ResourceInUseException):
            p.update_campaign(campaignArn=served["campaign"], minProvisionedTPS=5)
        with pytest.raises(p.exceptions.ResourceInUseException):
            p.delete_campaign(campaignArn=served["campaign"])
        p.delete_dataset(datasetArn=arns["dataset"])
        assert p.describe_dataset(datasetArn=arns["dataset"])["dataset"]["status"] == "DELETE PENDING"
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        p = make_clients(url).personalize
        with pytest.raises(p.exceptions.ResourceNotFoundException):
            p.describe_dataset(datasetArn=arns["dataset"])  # the delete completed at restart
        abandoned = p.describe_dataset_group(datasetGroupArn=pending)["datasetGroup"]
        assert abandoned["status"] == "CREATE FAILED" and "CREATE PENDING" in abandoned["failureReason"]
        campaign = p.describe_campaign(campaignArn=served["campaign"])["campaign"]
        assert (campaign["status"], campaign["solutionVersionArn"]) == ("ACTIVE", served["version"])
        assert campaign["latestCampaignUpdate"]["status"] == "CREATE FAILED"
        assert "stopped while" in campaign["latestCampaignUpdate"]["failureReason"]
        # a model lost from the state directory fails the campaign with a reason instead of hanging it
        for directory in (tmp_path / "models").glob(f"*{version.rsplit('/', 1)[1]}"):
            shutil.rmtree(directory)
        lost = p.create_campaign(name=unique("lost"), solutionVersionArn=version)["campaignArn"]
        failed = wait_for(p.describe_campaign, "campaign", campaignArn=lost)
        assert failed["status"] == "CREATE FAILED" and "Cannot load the model" in failed["failureReason"]


def test_training_in_flight_at_shutdown_fails_with_a_reason_on_restart(tmp_path, restart_bucket):
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02, train_seconds=60) as url:
        clients = make_clients(url)
        p = clients.personalize
        arns = create_group_with_data(
            clients, bucket=restart_bucket, name=unique("inflight"), interactions=interactions_csv()
        )
        solution = p.create_solution(
            name=unique("inflight"),
            datasetGroupArn=arns["group"],
            recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
        )["solutionArn"]
        wait_for(p.describe_solution, "solution", solutionArn=solution)
        version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        wait_for(
            p.describe_solution_version,
            "solutionVersion",
            until=("CREATE IN_PROGRESS",),
            solutionVersionArn=version,
        )
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        failed = make_clients(url).personalize.describe_solution_version(solutionVersionArn=version)[
            "solutionVersion"
        ]
        assert failed["status"] == "CREATE FAILED"
        assert "stopped while this solution version was CREATE IN_PROGRESS" in failed["failureReason"]


def test_a_resent_event_id_is_recorded_once_across_a_restart(tmp_path):
    """990 distinct events, 50 of them sent again after a restart: the group still holds exactly 990."""

    def send(clients, tracker: dict, call: int) -> None:
        clients.events.put_events(
            trackingId=tracker["trackingId"],
            userId=f"u{call % 40}",
            sessionId=f"s{call}",
            eventList=[
                {
                    "eventId": f"e{call}-{n}",
                    "eventType": "click",
                    "itemId": f"i{(call + n) % 30}",
                    "sentAt": 1_700_000_000 + call,
                }
                for n in range(10)
            ],
        )

    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        clients = make_clients(url)
        name, group, tracker = group_with_event_tracker(clients, "restarted-events")
        for call in range(99):
            send(clients, tracker, call)
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        clients = make_clients(url)
        for call in range(5):
            send(clients, tracker, call)
        trained = train_popularity(clients, name, group)
    assert trained["status"] == "CREATE FAILED"
    assert "fewer than 1000 interactions in the dataset group (990)" in trained["failureReason"]


def test_throttling_and_server_errors_are_injected_on_chosen_operations(tmp_path):
    with running_endpoint(
        state_dir=tmp_path, throttle_rate=1.0, fault_operations=frozenset({"ListDatasetGroups"})
    ) as url:
        p = make_clients(url).personalize
        with pytest.raises(ClientError) as raised:
            p.list_dataset_groups()
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        assert p.list_schemas()["schemas"] == []  # other operations are untouched
    with running_endpoint(
        state_dir=tmp_path, error_rate=1.0, fault_operations=frozenset({"ListSchemas"})
    ) as url:
        with pytest.raises(ClientError) as raised:
            make_clients(url).personalize.list_schemas()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_partial_fault_rate_is_absorbed_by_botocore_retries(tmp_path):
    from botocore.config import Config

    with running_endpoint(state_dir=tmp_path, throttle_rate=0.3, fault_seed=1) as url:
        p = make_clients(url, config=Config(retries={"max_attempts": 10, "mode": "standard"})).personalize
        assert all(p.list_recipes()["recipes"] for _ in range(10))


def test_a_named_job_is_forced_to_fail(tmp_path, restart_bucket):
    doomed = unique("doomed")
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02, fail_jobs=frozenset({doomed})) as url:
        clients = make_clients(url)
        arns = create_group_with_data(
            clients,
            bucket=restart_bucket,
            name=unique("faults"),
            interactions=interactions_csv(users=30, per_user=2),
        )
        job = clients.personalize.create_dataset_import_job(
            jobName=doomed,
            datasetArn=arns["dataset"],
            roleArn=ROLE,
            dataSource={
                "dataLocation": f"s3://{restart_bucket}/{arns['group'].rsplit('/', 1)[1]}/interactions/"
            },
        )
        failed = wait_for(
            clients.personalize.describe_dataset_import_job,
            "datasetImportJob",
            datasetImportJobArn=job["datasetImportJobArn"],
        )
        assert failed["status"] == "CREATE FAILED" and doomed in failed["failureReason"]


def test_a_campaign_update_forced_to_fail_leaves_the_campaign_serving_its_version(tmp_path, restart_bucket):
    name = unique("stuck")
    with running_endpoint(
        state_dir=tmp_path, phase_seconds=0.02, fail_jobs=frozenset({f"update:{name}"})
    ) as url:
        clients = make_clients(url)
        p = clients.personalize
        arns = create_group_with_data(
            clients, bucket=restart_bucket, name=unique("updates"), interactions=interactions_csv()
        )
        served = train(clients, group=arns["group"], name=name, recipe="aws-popularity-count")
        newer = p.create_solution_version(solutionArn=served["solution"])["solutionVersionArn"]
        assert (
            wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=newer)["status"]
            == "ACTIVE"
        )

        p.update_campaign(campaignArn=served["campaign"], solutionVersionArn=newer)
        campaign = wait_for_campaign_update(p, served["campaign"])

        update = campaign["latestCampaignUpdate"]
        assert (update["status"], update["solutionVersionArn"]) == ("CREATE FAILED", newer)
        assert f"update:{name}" in update["failureReason"]
        assert (campaign["status"], campaign["solutionVersionArn"]) == ("ACTIVE", served["version"])
        assert clients.runtime.get_recommendations(campaignArn=served["campaign"], userId="u1")["itemList"]


@pytest.mark.parametrize(
    ("header", "rows", "reason"),
    [
        (
            "USER_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE",
            ["u1,1700000000,click,1.0"],
            "missing required column(s) ITEM_ID",
        ),
        (
            "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE",
            ["u1,i1,yesterday,click,1.0"],
            "column TIMESTAMP has value 'yesterday', which is not of the schema's type long",
        ),
        (
            "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,COLOUR",
            ["u1,i1,1700000000,click,1.0,red"],
            "COLOUR that the schema does not define",
        ),
        (
            "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE",
            ["u1,,1700000000,click,1.0"],
            "line 2: column ITEM_ID is empty",
        ),
    ],
)
def test_import_rows_are_checked_against_the_schema(clients, bucket, header, rows, reason):
    p = clients.personalize
    arns = create_group_with_data(
        clients,
        bucket=bucket,
        name=unique("schema-check"),
        interactions=interactions_csv(users=2, per_user=2),
    )
    key = f"{unique('bad')}.csv"
    clients.s3.put_object(Bucket=bucket, Key=key, Body="\n".join([header, *rows]).encode())
    job = p.create_dataset_import_job(
        jobName=unique("bad"),
        datasetArn=arns["dataset"],
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/{key}"},
    )
    failed = wait_for(
        p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
    )
    assert failed["status"] == "CREATE FAILED"
    assert reason in failed["failureReason"] and key in failed["failureReason"]


def test_header_case_and_byte_order_mark_do_not_matter(clients, bucket):
    p = clients.personalize
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("case"), interactions=interactions_csv(users=2, per_user=2)
    )
    key = f"{unique('lower')}.csv"
    body = "\ufeffuser_id,item_id,timestamp,event_type,event_value\nu1,i1,1700000000,click,1.0\n"
    clients.s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    job = p.create_dataset_import_job(
        jobName=unique("lower"),
        datasetArn=arns["dataset"],
        roleArn=ROLE,
        importMode="INCREMENTAL",
        dataSource={"dataLocation": f"s3://{bucket}/{key}"},
    )
    done = wait_for(
        p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
    )
    assert done["status"] == "ACTIVE", done.get("failureReason")


def test_incremental_import_appends_and_full_replaces(clients, bucket):
    p = clients.personalize
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("modes"), interactions=interactions_csv(users=30, per_user=20)
    )  # 600 rows: too few
    key = f"{unique('more')}.csv"
    clients.s3.put_object(
        Bucket=bucket, Key=key, Body=interactions_csv(users=30, per_user=20, seed=9).encode()
    )
    job = p.create_dataset_import_job(
        jobName=unique("more"),
        datasetArn=arns["dataset"],
        roleArn=ROLE,
        importMode="INCREMENTAL",
        dataSource={"dataLocation": f"s3://{bucket}/{key}"},
    )
    wait_for(
        p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
    )
    solution = p.create_solution(
        name=unique("modes"),
        datasetGroupArn=arns["group"],
        recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    assert (
        wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)["status"]
        == "ACTIVE"
    )  # 1200 rows now
    job = p.create_dataset_import_job(
        jobName=unique("replace"),
        datasetArn=arns["dataset"],
        roleArn=ROLE,
        importMode="FULL",
        dataSource={"dataLocation": f"s3://{bucket}/{key}"},
    )
    wait_for(
        p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
    )
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    failed = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert failed["status"] == "CREATE FAILED" and "(600)" in failed["failureReason"]


def test_schema_must_suit_the_dataset_type(clients):
    p = clients.personalize
    schema = p.create_schema(
        name=unique("items-only"),
        schema=json.dumps(
            {"type": "record", "name": "Items", "fields": [{"name": "ITEM_ID", "type": "string"}]}
        ),
    )["schemaArn"]
    group = p.create_dataset_group(name=unique("types"))["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    with pytest.raises(p.exceptions.InvalidInputException, match="USER_ID, TIMESTAMP"):
        p.create_dataset(
            name=unique("d"), schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
        )
