"""Runtime and events: related items, ranking, filters with values, and real-time records."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.local_endpoint.conftest import (
    group_with_event_tracker,
    interactions_csv,
    train_popularity,
    unique,
    wait_for,
    wait_for_campaign_update,
)


def item_ids(response: dict, key: str = "itemList") -> list[str]:
    return [entry["itemId"] for entry in response[key]]


def test_related_items_come_from_the_same_taste_group(clients, trained_group):
    related = item_ids(
        clients.runtime.get_recommendations(
            campaignArn=trained_group["sims"]["campaign"], itemId="b3", numResults=10
        )
    )
    assert "b3" not in related and len(related) == 10
    assert sum(item.startswith("b") for item in related) >= 7, related
    with pytest.raises(clients.runtime.exceptions.InvalidInputException, match="itemId"):
        clients.runtime.get_recommendations(campaignArn=trained_group["sims"]["campaign"], userId="u1")


def test_related_items_filtered_by_the_current_items_genre(clients, trained_group):
    p = clients.personalize
    same_genre = p.create_filter(
        name=unique("same-genre"),
        datasetGroupArn=trained_group["group"],
        filterExpression="INCLUDE ItemID WHERE Items.GENRE IN (CurrentItem.GENRE)",
    )
    wait_for(p.describe_filter, "filter", filterArn=same_genre["filterArn"])
    related = item_ids(
        clients.runtime.get_recommendations(
            campaignArn=trained_group["sims"]["campaign"],
            itemId="a3",
            numResults=15,
            filterArn=same_genre["filterArn"],
        )
    )
    assert related and all(item.startswith("a") for item in related) and "a3" not in related


def test_personalized_ranking_orders_the_users_taste_first(clients, trained_group):
    campaign = trained_group["ranking"]["campaign"]
    ranked = clients.runtime.get_personalized_ranking(
        campaignArn=campaign, userId="u1", inputList=["a50", "b50", "a51", "b51"]
    )
    order = item_ids(ranked, "personalizedRanking")
    assert sorted(order) == ["a50", "a51", "b50", "b51"]
    assert {order[0], order[1]} == {"b50", "b51"}  # u1 is in the b-taste group
    with pytest.raises(clients.runtime.exceptions.InvalidInputException, match="GetPersonalizedRanking"):
        clients.runtime.get_recommendations(campaignArn=campaign, userId="u1")
    with pytest.raises(clients.runtime.exceptions.InvalidInputException, match="ranking campaign"):
        clients.runtime.get_personalized_ranking(
            campaignArn=trained_group["personalization"]["campaign"], userId="u1", inputList=["a1"]
        )


def test_interaction_filter_excludes_what_the_user_did_of_that_type(clients, trained_group):
    p, runtime = clients.personalize, clients.runtime
    campaign = trained_group["ranking"]["campaign"]
    purchased = p.create_filter(
        name=unique("no-repurchase"),
        datasetGroupArn=trained_group["group"],
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
    )
    wait_for(p.describe_filter, "filter", filterArn=purchased["filterArn"])
    # u0's purchases are the first of every five of its interactions in interactions_csv
    everything = ["a0", "a1", "a2", "a3", "a4", "a5", "a59", "b59"]
    unfiltered = item_ids(
        runtime.get_personalized_ranking(campaignArn=campaign, userId="u0", inputList=everything),
        "personalizedRanking",
    )
    filtered = item_ids(
        runtime.get_personalized_ranking(
            campaignArn=campaign, userId="u0", inputList=everything, filterArn=purchased["filterArn"]
        ),
        "personalizedRanking",
    )
    assert set(filtered) < set(unfiltered) and "b59" in filtered


def test_filter_values_must_be_given_for_include(clients, trained_group):
    p = clients.personalize
    genre = p.create_filter(
        name=unique("genre"),
        datasetGroupArn=trained_group["group"],
        filterExpression="INCLUDE ItemID WHERE Items.GENRE IN ($G) AND Items.PRICE < 10",
    )
    wait_for(p.describe_filter, "filter", filterArn=genre["filterArn"])
    campaign = trained_group["personalization"]["campaign"]
    with pytest.raises(clients.runtime.exceptions.InvalidInputException, match="filterValues must give G"):
        clients.runtime.get_recommendations(campaignArn=campaign, userId="u0", filterArn=genre["filterArn"])
    action = item_ids(
        clients.runtime.get_recommendations(
            campaignArn=campaign,
            userId="u1",
            numResults=20,
            filterArn=genre["filterArn"],
            filterValues={"G": '"Action"'},
        )
    )
    assert action and all(item.startswith("a") and int(item[1:]) < 10 for item in action)


def test_put_items_makes_new_items_visible_to_filters(clients, trained_group):
    p, runtime, events = clients.personalize, clients.runtime, clients.events
    genre = p.create_filter(
        name=unique("comedy"),
        datasetGroupArn=trained_group["group"],
        filterExpression='INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")',
    )
    wait_for(p.describe_filter, "filter", filterArn=genre["filterArn"])
    campaign = trained_group["personalization"]["campaign"]
    assert (
        item_ids(runtime.get_recommendations(campaignArn=campaign, userId="u0", filterArn=genre["filterArn"]))
        == []
    )
    events.put_items(
        datasetArn=trained_group["items_dataset"],
        items=[{"itemId": "a7", "properties": json.dumps({"genre": "Comedy", "price": 1.0})}],
    )
    assert item_ids(
        runtime.get_recommendations(campaignArn=campaign, userId="u1", filterArn=genre["filterArn"])
    ) == ["a7"]
    with pytest.raises(events.exceptions.InvalidInputException, match="colour"):
        events.put_items(
            datasetArn=trained_group["items_dataset"],
            items=[{"itemId": "a8", "properties": json.dumps({"colour": "red"})}],
        )


def test_new_events_change_only_that_users_recommendations(clients, trained_group):
    p, runtime, events = clients.personalize, clients.runtime, clients.events
    group = trained_group["group"]
    trackers = p.list_event_trackers(datasetGroupArn=group)["eventTrackers"]
    if trackers:
        tracking_id = p.describe_event_tracker(eventTrackerArn=trackers[0]["eventTrackerArn"])[
            "eventTracker"
        ]["trackingId"]
    else:
        tracker = p.create_event_tracker(name=unique("runtime"), datasetGroupArn=group)
        wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])
        tracking_id = tracker["trackingId"]
    campaign = trained_group["personalization"]["campaign"]
    mine = item_ids(runtime.get_recommendations(campaignArn=campaign, userId="u10", numResults=10))
    theirs = item_ids(runtime.get_recommendations(campaignArn=campaign, userId="u12", numResults=10))
    burst = [f"b{n}" for n in range(40, 50) if f"b{n}" not in mine][:10]
    events.put_events(
        trackingId=tracking_id,
        userId="u10",
        sessionId="session-u10",
        eventList=[{"eventType": "click", "itemId": item, "sentAt": time.time()} for item in burst],
    )
    after = item_ids(runtime.get_recommendations(campaignArn=campaign, userId="u10", numResults=10))
    assert after != mine and not set(burst) & set(after)
    assert sum(item.startswith("b") for item in after) > sum(item.startswith("b") for item in mine)
    assert item_ids(runtime.get_recommendations(campaignArn=campaign, userId="u12", numResults=10)) == theirs


def test_list_pagination_walks_every_resource(clients):
    p = clients.personalize
    names = {unique("page") for _ in range(5)}
    for name in names:
        p.create_schema(
            name=name,
            schema=json.dumps(
                {"type": "record", "name": "Items", "fields": [{"name": "ITEM_ID", "type": "string"}]}
            ),
        )
    seen, token, pages = [], None, 0
    while True:
        page = p.list_schemas(maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["schemas"]) <= 2
        seen += [schema["name"] for schema in page["schemas"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert names <= set(seen) and len(seen) == len(set(seen)) and pages >= 3
    paginated = [
        s["name"]
        for page in p.get_paginator("list_schemas").paginate(PaginationConfig={"PageSize": 2})
        for s in page["schemas"]
    ]
    assert paginated == seen
    with pytest.raises(clients.personalize.exceptions.InvalidNextTokenException):
        p.list_schemas(nextToken="bogus")


def test_update_training_then_campaign_switch(clients, trained_group):
    p = clients.personalize
    personalization = trained_group["personalization"]
    with pytest.raises(p.exceptions.InvalidInputException, match="only for aws-user-personalization"):
        p.create_solution_version(solutionArn=trained_group["sims"]["solution"], trainingMode="UPDATE")
    update = p.create_solution_version(solutionArn=personalization["solution"], trainingMode="UPDATE")
    updated = wait_for(
        p.describe_solution_version, "solutionVersion", solutionVersionArn=update["solutionVersionArn"]
    )
    assert (updated["status"], updated["trainingMode"]) == ("ACTIVE", "UPDATE")
    campaign = trained_group["sims"]["campaign"]
    with pytest.raises(p.exceptions.ResourceNotFoundException):
        p.update_campaign(campaignArn=campaign, solutionVersionArn=personalization["solution"] + "/nope")
    campaign = p.create_campaign(name=unique("switch"), solutionVersionArn=personalization["version"])[
        "campaignArn"
    ]
    wait_for(p.describe_campaign, "campaign", campaignArn=campaign)
    p.update_campaign(campaignArn=campaign, solutionVersionArn=update["solutionVersionArn"])
    assert clients.runtime.get_recommendations(campaignArn=campaign, userId="u4")[
        "itemList"
    ]  # serves meanwhile
    switched = wait_for_campaign_update(p, campaign)
    assert switched["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert switched["solutionVersionArn"] == update["solutionVersionArn"]


def test_context_and_unknown_users_are_served(clients, trained_group):
    campaign = trained_group["personalization"]["campaign"]
    with_context = clients.runtime.get_recommendations(
        campaignArn=campaign, userId="brand-new", numResults=7, context={"DEVICE": "mobile"}
    )
    assert len(with_context["itemList"]) == 7 and with_context["recommendationId"].startswith("RID-")
    counts = Counter(line.split(",")[1] for line in interactions_csv().splitlines()[1:])
    most_popular = {item for item, _ in counts.most_common(15)}
    assert set(item_ids(with_context)) <= most_popular  # a user never seen gets popular items
    ranked = clients.runtime.get_personalized_ranking(
        campaignArn=trained_group["ranking"]["campaign"],
        userId="brand-new",
        inputList=["a0", "zzz-unknown", "b0"],
    )
    assert sorted(item_ids(ranked, "personalizedRanking")) == ["a0", "b0", "zzz-unknown"]


def test_concurrent_put_events_all_reach_training(clients):
    from concurrent.futures import ThreadPoolExecutor

    name, group, tracker = group_with_event_tracker(clients, "streamed")

    def send(call: int) -> None:
        clients.events.put_events(
            trackingId=tracker["trackingId"],
            userId=f"u{call % 40}",
            sessionId=f"s{call}",
            eventList=[
                {"eventType": "click", "itemId": f"i{(call + n) % 30}", "sentAt": 1_700_000_000 + call}
                for n in range(10)
            ],
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(send, range(100)))  # exactly 1000 events: training needs every one of them
    trained = train_popularity(clients, name, group)
    assert trained["status"] == "ACTIVE", trained.get("failureReason")


def test_a_resent_event_id_is_recorded_once(clients):
    """990 distinct events sent, 50 of them twice: training still sees fewer than 1000 interactions."""
    name, group, tracker = group_with_event_tracker(clients, "resent")

    def send(call: int) -> None:
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

    for call in [*range(99), *range(5)]:
        send(call)
    trained = train_popularity(clients, name, group)
    assert trained["status"] == "CREATE FAILED"
    assert "1000" in trained["failureReason"]
