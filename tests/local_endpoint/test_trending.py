"""aws-trending-now, called the way AWS's trending_now_example notebook does, on data with a planted trend."""

from __future__ import annotations

import random

import pytest

from personalize_local.testing import running_endpoint
from tests.local_endpoint.conftest import (
    RECIPE,
    ROLE,
    create_group_with_data,
    make_clients,
    unique,
    wait_for,
)

HOUR = 3600
START = 472_222 * HOUR  # an hour boundary in November 2023
HOURS = 12


def planted_trend_csv(*, seed: int = 3) -> str:
    """12 hours of steady items, plus "rising" (2 → 30 an hour in the last hour) and "falling" (30 → 2).

    One last interaction exactly at the end of hour 12 closes that interval: trends are measured over
    whole intervals of the interactions' TIMESTAMPs.
    """
    rng = random.Random(seed)
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]

    def add(item: str, hour: int, count: int) -> None:
        for _ in range(count):
            moment = START + hour * HOUR + rng.randint(1, HOUR - 1)
            lines.append(f"u{rng.randint(0, 99)},{item},{moment},watch,1.0")

    for hour in range(HOURS):
        last = hour == HOURS - 1
        for index in range(20):
            add(f"steady{index}", hour, 5)
        add("rising", hour, 30 if last else 2)
        add("falling", hour, 2 if last else 30)
    lines.append(f"u0,steady0,{START + HOURS * HOUR},watch,1.0")
    return "\n".join(lines) + "\n"


def create_trending_campaign(clients, *, group: str, name: str) -> dict:
    """As the sample notebook: a solution with a 1 hour trend discovery frequency, its version, a campaign."""
    p = clients.personalize
    solution = p.create_solution(
        name=name,
        datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-trending-now",
        solutionConfig={"featureTransformationParameters": {"trend_discovery_frequency": "1 hour"}},
    )["solutionArn"]
    wait_for(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    trained = wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    assert trained["status"] == "ACTIVE", trained.get("failureReason")
    campaign = p.create_campaign(name=name, solutionVersionArn=version, minProvisionedTPS=1)["campaignArn"]
    assert wait_for(p.describe_campaign, "campaign", campaignArn=campaign)["status"] == "ACTIVE"
    return {"solution": solution, "version": version, "campaign": campaign}


def trending_items(clients, campaign: str, count: int = 25) -> list[str]:
    response = clients.runtime.get_recommendations(campaignArn=campaign, numResults=count)
    return [item["itemId"] for item in response["itemList"]]


@pytest.fixture(scope="module")
def trending(clients, bucket) -> dict:
    name = unique("trending")
    arns = create_group_with_data(clients, bucket=bucket, name=name, interactions=planted_trend_csv())
    return {**arns, **create_trending_campaign(clients, group=arns["group"], name=name)}


def test_items_whose_share_rose_trend_above_items_whose_share_fell_without_a_user(clients, trending):
    items = trending_items(clients, trending["campaign"])
    assert items[0] == "rising"
    assert items[-1] == "falling"
    assert len(items) == 22  # every item of the interactions, no user needed


def test_a_put_events_burst_trends_once_its_interval_closes_without_a_new_solution_version(clients, trending):
    p = clients.personalize
    tracker = p.create_event_tracker(name=unique("trending-events"), datasetGroupArn=trending["group"])
    wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])
    before = trending_items(clients, trending["campaign"])
    for call in range(4):
        clients.events.put_events(
            trackingId=tracker["trackingId"],
            userId=f"u{call}",
            sessionId=f"burst-{call}",
            eventList=[
                {
                    "eventType": "watch",
                    "itemId": "breaking",
                    "sentAt": START + HOURS * HOUR + 60 * (call * 10 + n + 1),
                }
                for n in range(10)
            ],
        )
    assert trending_items(clients, trending["campaign"]) == before  # hour 13 is still open: no recompute

    clients.events.put_events(
        trackingId=tracker["trackingId"],
        userId="u7",
        sessionId="tick",
        eventList=[{"eventType": "watch", "itemId": "steady3", "sentAt": START + (HOURS + 1) * HOUR}],
    )
    assert trending_items(clients, trending["campaign"], 3)[0] == "breaking"
    versions = p.list_solution_versions(solutionArn=trending["solution"])["solutionVersions"]
    assert [v["solutionVersionArn"] for v in versions] == [trending["version"]]
    p.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])


def test_an_incremental_import_moves_the_trend_without_a_new_solution_version(clients, bucket):
    p = clients.personalize
    name = unique("trending-import")
    arns = create_group_with_data(clients, bucket=bucket, name=name, interactions=planted_trend_csv(seed=11))
    served = create_trending_campaign(clients, group=arns["group"], name=name)
    assert trending_items(clients, served["campaign"], 1) == ["rising"]
    hour = START + HOURS * HOUR
    rows = [f"u{n},imported,{hour + 60 * n + 1},watch,1.0" for n in range(40)]
    rows.append(f"u1,steady2,{hour + HOUR},watch,1.0")  # closes hour 13
    key = f"{name}/more.csv"
    body = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n" + "\n".join(rows) + "\n"
    clients.s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    job = p.create_dataset_import_job(
        jobName=unique("more"),
        datasetArn=arns["dataset"],
        roleArn=ROLE,
        importMode="INCREMENTAL",
        dataSource={"dataLocation": f"s3://{bucket}/{key}"},
    )["datasetImportJobArn"]
    assert (
        wait_for(p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job)["status"]
        == "ACTIVE"
    )
    assert trending_items(clients, served["campaign"], 1) == ["imported"]
    assert len(p.list_solution_versions(solutionArn=served["solution"])["solutionVersions"]) == 1


def test_batch_recommendations_and_unknown_frequencies_are_refused_as_aws_refuses_them(
    clients, bucket, trending
):
    p = clients.personalize
    with pytest.raises(p.exceptions.InvalidInputException, match="Trending-Now"):
        p.create_batch_inference_job(
            jobName=unique("trending-batch"),
            solutionVersionArn=trending["version"],
            roleArn=ROLE,
            jobInput={"s3DataSource": {"path": f"s3://{bucket}/in.json"}},
            jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/out/"}},
        )
    with pytest.raises(p.exceptions.InvalidInputException, match="'30 minutes', '1 hour'"):
        p.create_solution(
            name=unique("trending-5m"),
            datasetGroupArn=trending["group"],
            recipeArn=RECIPE + "aws-trending-now",
            solutionConfig={"featureTransformationParameters": {"trend_discovery_frequency": "5 minutes"}},
        )
    assert p.describe_recipe(recipeArn=RECIPE + "aws-trending-now")["recipe"]["recipeType"] == (
        "USER_PERSONALIZATION"
    )


def test_a_trending_campaign_serves_the_same_trend_after_a_restart(tmp_path, bucket):
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        clients = make_clients(url)
        name = unique("trending-restart")
        arns = create_group_with_data(
            clients, bucket=bucket, name=name, interactions=planted_trend_csv(seed=5)
        )
        served = create_trending_campaign(clients, group=arns["group"], name=name)
        before = trending_items(clients, served["campaign"], 10)
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.02) as url:
        assert trending_items(make_clients(url), served["campaign"], 10) == before
    assert before[0] == "rising"
