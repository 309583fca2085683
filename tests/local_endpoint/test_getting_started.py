"""The getting-started flow through boto3, from schema to teardown, with the service's error cases."""

from __future__ import annotations

import json
import time

import pytest

from tests.local_endpoint.conftest import (
    INTERACTIONS_SCHEMA,
    RECIPE,
    ROLE,
    create_group_with_data,
    interactions_csv,
    items_csv,
    unique,
    wait_for,
)


def gone(describe, **arguments) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            describe(**arguments)
        except Exception as error:  # botocore builds the modelled class per client
            if type(error).__name__ == "ResourceNotFoundException":
                return True
            raise
        time.sleep(0.02)
    return False


def test_getting_started_flow(clients, bucket):
    p, runtime, events = clients.personalize, clients.runtime, clients.events
    name = unique("flow")
    arns = create_group_with_data(
        clients, bucket=bucket, name=name, interactions=interactions_csv(), items=items_csv()
    )
    group = arns["group"]

    with pytest.raises(p.exceptions.ResourceAlreadyExistsException):
        p.create_dataset_group(name=name)
    with pytest.raises(p.exceptions.ResourceAlreadyExistsException):
        p.create_schema(name=f"{name}-interactions", schema=json.dumps(INTERACTIONS_SCHEMA))

    solution = p.create_solution(
        name=name, datasetGroupArn=group, recipeArn=RECIPE + "aws-user-personalization-v2"
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution, trainingMode="FULL")["solutionVersionArn"]
    with pytest.raises(p.exceptions.ResourceInUseException):
        p.get_solution_metrics(solutionVersionArn=version)
    trained = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert trained["status"] == "ACTIVE" and trained["trainingHours"] > 0
    assert (
        p.describe_solution(solutionArn=solution)["solution"]["latestSolutionVersion"]["status"] == "ACTIVE"
    )

    metrics = p.get_solution_metrics(solutionVersionArn=version)["metrics"]
    assert set(metrics) >= {
        "coverage",
        "mean_reciprocal_rank_at_25",
        "normalized_discounted_cumulative_gain_at_10",
        "precision_at_5",
        "precision_at_25",
    }
    assert 0 < metrics["normalized_discounted_cumulative_gain_at_10"] <= 1

    campaign = p.create_campaign(name=name, solutionVersionArn=version, minProvisionedTPS=2)["campaignArn"]
    assert wait_for(p.describe_campaign, "campaign", campaignArn=campaign)["minProvisionedTPS"] == 2

    items = runtime.get_recommendations(campaignArn=campaign, userId="u0", numResults=10)["itemList"]
    assert len(items) == 10
    assert sum(item["itemId"].startswith("a") for item in items) >= 6, items  # u0 is in the a-taste group
    assert len(runtime.get_recommendations(campaignArn=campaign, userId="u0")["itemList"]) == 25
    stranger = runtime.get_recommendations(campaignArn=campaign, userId="never-seen", numResults=5)[
        "itemList"
    ]
    assert len(stranger) == 5
    with pytest.raises(runtime.exceptions.InvalidInputException):
        runtime.get_recommendations(campaignArn=campaign, userId="u0", numResults=501)

    clients.s3.put_object(
        Bucket=bucket, Key=f"{name}/batch/users.json", Body=b'{"userId": "u0"}\n{"userId": "u1"}\nnot json\n'
    )
    batch = p.create_batch_inference_job(
        jobName=name,
        solutionVersionArn=version,
        roleArn=ROLE,
        numResults=4,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/{name}/batch/users.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/{name}/batch-out/"}},
    )["batchInferenceJobArn"]
    assert (
        wait_for(p.describe_batch_inference_job, "batchInferenceJob", batchInferenceJobArn=batch)["status"]
        == "ACTIVE"
    )
    body = clients.s3.get_object(Bucket=bucket, Key=f"{name}/batch-out/users.json.out")["Body"].read()
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [line["input"] for line in lines[:2]] == [{"userId": "u0"}, {"userId": "u1"}]
    assert len(lines[0]["output"]["recommendedItems"]) == 4 == len(lines[0]["output"]["scores"])
    assert lines[0]["error"] is None and lines[2]["output"] is None and "not JSON" in lines[2]["error"]

    tracker = p.create_event_tracker(name=name, datasetGroupArn=group)
    wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])
    with pytest.raises(p.exceptions.LimitExceededException):
        p.create_event_tracker(name=unique("second"), datasetGroupArn=group)
    before = [
        i["itemId"]
        for i in runtime.get_recommendations(campaignArn=campaign, userId="u0", numResults=10)["itemList"]
    ]
    clicked = [item for item in ("b30", "b31", "b32", "b33") if item not in before]
    events.put_events(
        trackingId=tracker["trackingId"],
        userId="u0",
        sessionId="s-1",
        eventList=[{"eventType": "click", "itemId": item, "sentAt": time.time()} for item in clicked],
    )
    after = [
        i["itemId"]
        for i in runtime.get_recommendations(campaignArn=campaign, userId="u0", numResults=10)["itemList"]
    ]
    assert after != before and not set(clicked) & set(after)
    with pytest.raises(events.exceptions.InvalidInputException):
        events.put_events(
            trackingId=tracker["trackingId"],
            userId="u0",
            sessionId="s-1",
            eventList=[{"eventType": "click", "itemId": "a1", "sentAt": time.time()}] * 11,
        )

    drama = p.create_filter(
        name=name, datasetGroupArn=group, filterExpression="INCLUDE ItemID WHERE Items.GENRE IN ($GENRES)"
    )["filterArn"]
    cheap = p.create_filter(
        name=unique("cheap"), datasetGroupArn=group, filterExpression="EXCLUDE ItemID WHERE Items.PRICE > 5"
    )["filterArn"]
    wait_for(p.describe_filter, "filter", filterArn=drama)
    wait_for(p.describe_filter, "filter", filterArn=cheap)
    only_drama = runtime.get_recommendations(
        campaignArn=campaign, userId="u0", numResults=10, filterArn=drama, filterValues={"GENRES": '"Drama"'}
    )["itemList"]
    assert only_drama and all(item["itemId"].startswith("b") for item in only_drama)
    cheap_items = runtime.get_recommendations(
        campaignArn=campaign, userId="u0", numResults=10, filterArn=cheap
    )["itemList"]
    assert cheap_items and all(int(item["itemId"][1:]) < 5 for item in cheap_items)
    with pytest.raises(p.exceptions.InvalidInputException):
        p.create_filter(name=unique("broken"), datasetGroupArn=group, filterExpression="INCLUDE everything")

    # teardown in dependency order, with the service's refusals on the way
    with pytest.raises(p.exceptions.ResourceInUseException):
        p.delete_solution(solutionArn=solution)
    with pytest.raises(p.exceptions.ResourceInUseException):
        p.delete_dataset_group(datasetGroupArn=group)
    with pytest.raises(p.exceptions.ResourceInUseException):
        p.delete_schema(schemaArn=arns["schema"])
    p.delete_campaign(campaignArn=campaign)
    assert gone(p.describe_campaign, campaignArn=campaign)
    for filter_arn in (drama, cheap):
        p.delete_filter(filterArn=filter_arn)
    p.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
    p.delete_solution(solutionArn=solution)
    assert gone(p.describe_solution, solutionArn=solution)
    assert gone(p.describe_solution_version, solutionVersionArn=version)
    for dataset in (arns["dataset"], arns["items_dataset"]):
        p.delete_dataset(datasetArn=dataset)
    assert gone(p.describe_dataset, datasetArn=arns["dataset"])
    assert gone(p.describe_filter, filterArn=drama)
    assert gone(p.describe_event_tracker, eventTrackerArn=tracker["eventTrackerArn"])
    assert gone(p.describe_dataset, datasetArn=arns["items_dataset"])
    p.delete_dataset_group(datasetGroupArn=group)
    assert gone(p.describe_dataset_group, datasetGroupArn=group)
    for schema in (arns["schema"], arns["items_schema"]):
        p.delete_schema(schemaArn=schema)
    with pytest.raises(p.exceptions.ResourceNotFoundException):
        p.describe_schema(schemaArn=arns["schema"])


def test_training_refuses_too_few_interactions(clients, bucket):
    p = clients.personalize
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("tiny"), interactions=interactions_csv(users=30, per_user=20)
    )
    solution = p.create_solution(
        name=unique("tiny"), datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-popularity-count"
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    failed = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert failed["status"] == "CREATE FAILED" and "fewer than 1000 interactions" in failed["failureReason"]


def test_training_refuses_too_few_users_with_two_interactions(clients, bucket):
    p = clients.personalize
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    lines += [f"u{n % 20},i{n % 50},{1_700_000_000 + n},click,1.0" for n in range(1000)]
    lines += [f"solo{n},i{n % 50},{1_700_000_000 + n},click,1.0" for n in range(100)]
    arns = create_group_with_data(
        clients, bucket=bucket, name=unique("few"), interactions="\n".join(lines) + "\n"
    )
    solution = p.create_solution(
        name=unique("few"), datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-user-personalization"
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    failed = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert failed["status"] == "CREATE FAILED"
    assert "fewer than 25 users with at least 2 interactions" in failed["failureReason"]
