"""User segments, called the way AWS's user_segmentation_example notebook does: solution, version, input
JSON in S3, CreateBatchSegmentJob, then the ``.out`` file read as the notebook reads it."""

from __future__ import annotations

import json

import pytest

from personalize_local.testing import running_endpoint
from tests.local_endpoint.conftest import (
    RECIPE,
    ROLE,
    create_group_with_data,
    interactions_csv,
    items_csv,
    make_clients,
    unique,
    wait_for,
)


def train_segmentation(clients, *, group: str, recipe: str, name: str) -> str:
    """create_solution → create_solution_version → ACTIVE; the solution version ARN."""
    p = clients.personalize
    solution = p.create_solution(
        name=name, datasetGroupArn=group, recipeArn=f"arn:aws:personalize:::recipe/{recipe}"
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    trained = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert trained["status"] == "ACTIVE", trained.get("failureReason")
    return version


def segment_job(clients, *, bucket: str, version: str, lines: list[str], name: str, **options) -> dict:
    """Input JSON lines to S3, a batch segment job over them; the finished job."""
    clients.s3.put_object(Bucket=bucket, Key=f"{name}/query.json", Body="\n".join(lines).encode())
    job = clients.personalize.create_batch_segment_job(
        jobName=name,
        solutionVersionArn=version,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/{name}/query.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/{name}/output/"}},
        roleArn=ROLE,
        **options,
    )["batchSegmentJobArn"]
    return wait_for(clients.personalize.describe_batch_segment_job, "batchSegmentJob", batchSegmentJobArn=job)


def output_lines(clients, bucket: str, name: str) -> list[dict]:
    body = clients.s3.get_object(Bucket=bucket, Key=f"{name}/output/query.json.out")["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


@pytest.fixture(scope="module")
def shop(clients, bucket) -> dict:
    """Even users mostly touch a-items (GENRE Action), odd users b-items (Drama); one solution per recipe."""
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("segments"), interactions=interactions_csv(), items=items_csv()
    )
    for recipe in ("aws-item-affinity", "aws-item-attribute-affinity"):
        arns[recipe] = train_segmentation(clients, group=arns["group"], recipe=recipe, name=unique("seg"))
    return arns


def test_item_affinity_segments_are_the_items_taste_group_and_bad_lines_get_an_error(clients, bucket, shop):
    name = unique("affinity")
    lines = [
        '{"itemId": "a20"}',
        '{"itemId": "b20"}',
        '{"itemId": "nobody-has-this"}',
        "not json",
        '{"user": 1}',
    ]
    job = segment_job(
        clients, bucket=bucket, version=shop["aws-item-affinity"], lines=lines, name=name, numResults=15
    )
    assert job["status"] == "ACTIVE", job.get("failureReason")
    assert job["numResults"] == 15 and job["jobInput"]["s3DataSource"]["path"].endswith("/query.json")

    output = output_lines(clients, bucket, name)
    segments = {
        x["input"]["itemId"]: x["output"]["usersList"] for x in output[:2]
    }  # as the notebook reads them
    assert {len(users) for users in segments.values()} == {15}
    assert sum(int(user[1:]) % 2 == 0 for user in segments["a20"]) >= 13  # a random 15 would hold 7.5
    assert sum(int(user[1:]) % 2 == 1 for user in segments["b20"]) >= 13
    assert [line["error"] is None for line in output] == [True, True, False, False, False]
    assert "nobody-has-this" in output[2]["error"] and output[2]["output"] is None
    assert output[3]["input"] == "not json" and "itemId" in output[4]["error"]


def test_attribute_affinity_segments_users_by_the_attributes_of_the_items_they_touch(clients, bucket, shop):
    name = unique("attributes")
    lines = [
        json.dumps({"itemAttributes": 'ITEMS.genre = "Drama"'}),
        json.dumps({"itemAttributes": 'ITEMS.GENRE = "Action" AND ITEMS.GENRE = "Drama"'}),
        json.dumps({"itemAttributes": 'ITEMS.COLOUR = "red"'}),
        json.dumps({"itemAttributes": 'ITEMS.GENRE IN ("Drama")'}),
        json.dumps({"itemAttributes": 'ITEMS.PRICE = 20.5 AND ITEMS.GENRE = "Action"'}),  # a20 only
    ]
    version = shop["aws-item-attribute-affinity"]
    job = segment_job(clients, bucket=bucket, version=version, lines=lines, name=name)
    assert (job["status"], job["numResults"]) == ("ACTIVE", 25)

    output = output_lines(clients, bucket, name)
    drama = output[0]["output"]["usersList"]
    assert len(drama) == 25 and sum(int(user[1:]) % 2 == 1 for user in drama) >= 20
    assert "No item has the attributes" in output[1]["error"]
    assert "no field 'COLOUR'" in output[2]["error"] and "GENRE" in output[2]["error"]
    assert "ITEMS.<FIELD> = <value>" in output[3]["error"]
    assert sum(int(user[1:]) % 2 == 0 for user in output[4]["output"]["usersList"][:10]) >= 8


def test_a_user_filter_with_values_from_each_line_narrows_the_segment(clients, bucket, shop, trained_group):
    p = clients.personalize
    schema = p.create_schema(
        name=unique("tiers"),
        schema=json.dumps(
            {
                "type": "record",
                "name": "Users",
                "fields": [
                    {"name": "USER_ID", "type": "string"},
                    {"name": "TIER", "type": "string", "categorical": True},
                ],
            }
        ),
    )["schemaArn"]
    users = p.create_dataset(
        name=unique("tiers"), schemaArn=schema, datasetGroupArn=shop["group"], datasetType="Users"
    )["datasetArn"]
    wait_for(p.describe_dataset, "dataset", datasetArn=users)
    for start in range(0, 60, 10):
        clients.events.put_users(
            datasetArn=users,
            users=[
                {"userId": f"u{n}", "properties": json.dumps({"tier": "gold" if n % 4 == 0 else "basic"})}
                for n in range(start, start + 10)
            ],
        )
    tiers = p.create_filter(
        name=unique("tiers"),
        datasetGroupArn=shop["group"],
        filterExpression="INCLUDE UserID WHERE Users.TIER IN ($TIER)",
    )["filterArn"]
    wait_for(p.describe_filter, "filter", filterArn=tiers)
    name = unique("gold")
    lines = [
        json.dumps({"itemId": "a20", "filterValues": {"TIER": '"gold"'}}),
        json.dumps({"itemId": "a20"}),
    ]
    version = shop["aws-item-affinity"]
    job = segment_job(clients, bucket=bucket, version=version, lines=lines, name=name, filterArn=tiers)
    assert (job["status"], job["filterArn"]) == ("ACTIVE", tiers)
    gold, unfilled = output_lines(clients, bucket, name)
    assert gold["output"]["usersList"] and all(int(user[1:]) % 4 == 0 for user in gold["output"]["usersList"])
    assert "filterValues must give TIER" in unfilled["error"]

    genres = p.create_filter(
        name=unique("genres"),
        datasetGroupArn=shop["group"],
        filterExpression='EXCLUDE ItemID WHERE Items.GENRE IN ("Drama")',
    )["filterArn"]
    wait_for(p.describe_filter, "filter", filterArn=genres)
    with pytest.raises(p.exceptions.InvalidInputException, match="takes a user filter"):
        segment_job(
            clients, bucket=bucket, version=version, lines=lines, name=unique("items"), filterArn=genres
        )
    campaign_filter = p.create_filter(
        name=unique("users"),
        datasetGroupArn=trained_group["group"],
        filterExpression='EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click")',
    )["filterArn"]
    wait_for(p.describe_filter, "filter", filterArn=campaign_filter)
    with pytest.raises(clients.runtime.exceptions.InvalidInputException, match="filters users"):
        clients.runtime.get_recommendations(
            campaignArn=trained_group["personalization"]["campaign"], userId="u1", filterArn=campaign_filter
        )
    p.delete_filter(filterArn=campaign_filter)


def test_an_input_file_over_the_recipes_query_quota_fails_the_job_with_the_quota(clients, bucket, shop):
    lines = [json.dumps({"itemAttributes": f"ITEMS.PRICE = {n}.5"}) for n in range(11)]
    name = unique("too-many")
    job = segment_job(
        clients, bucket=bucket, version=shop["aws-item-attribute-affinity"], lines=lines, name=name
    )
    assert job["status"] == "CREATE FAILED"
    assert "holds 11 queries; aws-item-attribute-affinity takes at most 10" in job["failureReason"]


def test_segment_jobs_are_listed_by_solution_version_and_named_failures_are_forced(clients, bucket, shop):
    p = clients.personalize
    version = shop["aws-item-affinity"]
    listed = p.list_batch_segment_jobs(solutionVersionArn=version)["batchSegmentJobs"]
    assert listed and all(job["solutionVersionArn"] == version for job in listed)
    assert {"batchSegmentJobArn", "jobName", "status", "creationDateTime"} <= set(listed[0])
    assert len(p.list_batch_segment_jobs(maxResults=1)["batchSegmentJobs"]) == 1
    with pytest.raises(p.exceptions.ResourceNotFoundException):
        p.describe_batch_segment_job(
            batchSegmentJobArn=version.split(":solution/")[0] + ":batch-segment-job/nope"
        )


def test_segmentation_versions_refuse_campaigns_and_batch_inference_and_other_versions_refuse_segments(
    clients, bucket, shop, trained_group
):
    p = clients.personalize
    version = shop["aws-item-affinity"]
    io = {
        "jobInput": {"s3DataSource": {"path": f"s3://{bucket}/in.json"}},
        "jobOutput": {"s3DataDestination": {"path": f"s3://{bucket}/out/"}},
        "roleArn": ROLE,
    }
    with pytest.raises(p.exceptions.InvalidInputException, match="CreateBatchSegmentJob"):
        p.create_batch_inference_job(jobName=unique("no"), solutionVersionArn=version, **io)
    with pytest.raises(p.exceptions.InvalidInputException, match="CreateBatchSegmentJob"):
        p.create_campaign(name=unique("no"), solutionVersionArn=version)
    with pytest.raises(p.exceptions.InvalidInputException, match="USER_SEGMENTATION recipe"):
        p.create_batch_segment_job(
            jobName=unique("no"), solutionVersionArn=trained_group["personalization"]["version"], **io
        )
    with pytest.raises(p.exceptions.InvalidInputException, match="numResults must be between 1 and 5000000"):
        p.create_batch_segment_job(jobName=unique("no"), solutionVersionArn=version, numResults=0, **io)
    with pytest.raises(p.exceptions.ResourceNotFoundException):
        p.create_batch_segment_job(jobName=unique("no"), solutionVersionArn=version + "x", **io)
    taken = unique("taken")
    p.create_batch_segment_job(jobName=taken, solutionVersionArn=version, **io)
    with pytest.raises(p.exceptions.ResourceAlreadyExistsException):
        p.create_batch_segment_job(jobName=taken, solutionVersionArn=version, **io)
    failed = wait_for(
        p.describe_batch_segment_job,
        "batchSegmentJob",
        batchSegmentJobArn=version.split(":solution/")[0] + f":batch-segment-job/{taken}",
    )
    assert failed["status"] == "CREATE FAILED" and "in.json" in failed["failureReason"]


def test_attribute_affinity_without_an_items_dataset_fails_training_with_the_reason(clients, bucket):
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("no-items"), interactions=interactions_csv()
    )
    p = clients.personalize
    solution = p.create_solution(
        name=unique("attr"), datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-item-attribute-affinity"
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    failed = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert failed["status"] == "CREATE FAILED" and "needs an Items dataset" in failed["failureReason"]


def test_segment_jobs_move_through_their_states_survive_a_restart_and_fail_when_named(tmp_path, bucket):
    doomed = unique("doomed")
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02, fail_jobs=frozenset({doomed})) as url:
        clients = make_clients(url)
        arns = create_group_with_data(
            clients,
            bucket=bucket,
            name=unique("seg-restart"),
            interactions=interactions_csv(),
            items=items_csv(),
        )
        version = train_segmentation(
            clients, group=arns["group"], recipe="aws-item-affinity", name=unique("seg")
        )
        name = unique("kept")
        done = segment_job(clients, bucket=bucket, version=version, lines=['{"itemId": "a1"}'], name=name)
        failed = segment_job(clients, bucket=bucket, version=version, lines=['{"itemId": "a1"}'], name=doomed)
        assert failed["status"] == "CREATE FAILED" and doomed in failed["failureReason"]
    with running_endpoint(state_dir=tmp_path, phase_seconds=30) as url:
        p = make_clients(url).personalize
        assert (
            p.describe_batch_segment_job(batchSegmentJobArn=done["batchSegmentJobArn"])["batchSegmentJob"]
            == done
        )
        io = {
            "jobInput": {"s3DataSource": {"path": f"s3://{bucket}/{name}/query.json"}},
            "jobOutput": {"s3DataDestination": {"path": f"s3://{bucket}/{name}/again/"}},
            "roleArn": ROLE,
        }
        pending = [
            p.create_batch_segment_job(jobName=unique("pending"), solutionVersionArn=version, **io)[
                "batchSegmentJobArn"
            ]
            for _ in range(5)
        ]
        statuses = {
            p.describe_batch_segment_job(batchSegmentJobArn=job)["batchSegmentJob"]["status"]
            for job in pending
        }
        assert statuses == {"CREATE PENDING"}  # phases of 30 s: no race
        with pytest.raises(p.exceptions.LimitExceededException, match="At most 5 batch segment jobs"):
            p.create_batch_segment_job(jobName=unique("sixth"), solutionVersionArn=version, **io)
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        abandoned = make_clients(url).personalize.describe_batch_segment_job(batchSegmentJobArn=pending[0])[
            "batchSegmentJob"
        ]
        assert abandoned["status"] == "CREATE FAILED" and "CREATE PENDING" in abandoned["failureReason"]
