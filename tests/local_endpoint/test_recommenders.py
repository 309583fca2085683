"""Recommenders of domain dataset groups: their lifecycle, their errors, and GetRecommendations with
``recommenderArn`` (userId / itemId per use case, filters, promotions, metadata, reasons)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from personalize_local.testing import running_endpoint
from tests.local_endpoint.conftest import (
    BASKET_PAIRS,
    RECIPE,
    active_filter,
    baskets_csv,
    create_domain_group,
    create_recommenders,
    domain_group_with_recommenders,
    make_clients,
    products_csv,
    unique,
    videos_csv,
    wait_for,
    watch_csv,
)
from tests.local_endpoint.test_trending import planted_trend_csv

VOD = ("aws-vod-top-picks", "aws-vod-because-you-watched-x", "aws-vod-more-like-x", "aws-vod-most-popular")
SHOP = ("aws-ecomm-frequently-bought-together", "aws-ecomm-recommended-for-you")


@pytest.fixture(scope="module")
def vod(clients, bucket) -> dict:
    return domain_group_with_recommenders(
        clients,
        bucket=bucket,
        domain="VIDEO_ON_DEMAND",
        interactions=watch_csv(),
        items=videos_csv(),
        recipes=list(VOD),
    )


@pytest.fixture(scope="module")
def shop(clients, bucket) -> dict:
    return domain_group_with_recommenders(
        clients,
        bucket=bucket,
        domain="ECOMMERCE",
        interactions=baskets_csv(),
        items=products_csv(),
        recipes=list(SHOP),
        recommenderConfig={"enableMetadataWithRecommendations": True},
    )


def wait_until_deleted(personalize, recommender_arn: str, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while recommender_arn in {r["recommenderArn"] for r in personalize.list_recommenders()["recommenders"]}:
        assert time.monotonic() < deadline, f"{recommender_arn} was not deleted in {timeout} s"
        time.sleep(0.02)


def items_of(response: dict) -> list[str]:
    return [item["itemId"] for item in response["itemList"]]


def test_vod_recommenders_describe_their_config_and_holdout_metrics(clients, vod):
    p = clients.personalize
    top = p.describe_recommender(recommenderArn=vod["aws-vod-top-picks"])["recommender"]
    assert top["recipeArn"] == "arn:aws:personalize:::recipe/aws-vod-top-picks"
    assert top["recommenderConfig"] == {
        "minRecommendationRequestsPerSecond": 1,
        "enableMetadataWithRecommendations": False,
    }
    assert top["datasetGroupArn"] == vod["group"] and top["status"] == "ACTIVE"
    metrics = top["modelMetrics"]
    popular = p.describe_recommender(recommenderArn=vod["aws-vod-most-popular"])["recommender"][
        "modelMetrics"
    ]
    ndcg = "normalized_discounted_cumulative_gain_at_10"
    assert set(metrics) >= {ndcg, "coverage", "precision_at_10", "mean_reciprocal_rank_at_25"}
    assert metrics[ndcg] > popular[ndcg] and metrics["coverage"] > popular["coverage"]
    listed = p.list_recommenders(datasetGroupArn=vod["group"])["recommenders"]
    assert {r["recommenderArn"] for r in listed} == {vod[recipe] for recipe in VOD}
    assert {"name", "status", "recipeArn", "recommenderConfig", "creationDateTime"} <= set(listed[0])
    assert len(p.list_recommenders(datasetGroupArn=vod["group"], maxResults=1)["recommenders"]) == 1


def test_user_and_item_use_cases_take_what_aws_requires_and_leave_out_what_the_user_watched(clients, vod):
    runtime = clients.runtime
    picks = items_of(
        runtime.get_recommendations(recommenderArn=vod["aws-vod-top-picks"], userId="u0", numResults=10)
    )
    assert len(picks) == 10 and sum(item.startswith("a") for item in picks) >= 8  # u0's taste group
    watched = {line.split(",")[1] for line in watch_csv().splitlines() if line.startswith("u0,")}
    assert not watched & set(picks)
    because = items_of(
        runtime.get_recommendations(
            recommenderArn=vod["aws-vod-because-you-watched-x"], itemId="b3", userId="u0", numResults=10
        )
    )
    assert "b3" not in because and not watched & set(because)
    assert sum(item.startswith("b") for item in because) >= 8
    like = items_of(
        runtime.get_recommendations(
            recommenderArn=vod["aws-vod-more-like-x"], itemId="a5", userId="u1", numResults=5
        )
    )
    assert all(item.startswith("a") for item in like)
    popular = runtime.get_recommendations(recommenderArn=vod["aws-vod-most-popular"], userId="u1")
    assert len(popular["itemList"]) == 25 and popular["recommendationId"]
    for arn, arguments, needed in (
        (vod["aws-vod-because-you-watched-x"], {"userId": "u0"}, "give itemId"),
        (vod["aws-vod-top-picks"], {"itemId": "a1"}, "give userId"),
        (vod["aws-vod-most-popular"], {}, "give userId"),
    ):
        with pytest.raises(runtime.exceptions.InvalidInputException, match=needed):
            runtime.get_recommendations(recommenderArn=arn, **arguments)
    with pytest.raises(
        runtime.exceptions.InvalidInputException, match="either campaignArn or recommenderArn"
    ):
        runtime.get_recommendations(userId="u0")
    with pytest.raises(runtime.exceptions.ResourceNotFoundException):
        runtime.get_recommendations(recommenderArn=vod["aws-vod-top-picks"] + "-gone", userId="u0")


def test_shopping_use_cases_leave_out_what_the_customer_bought_not_what_they_viewed(clients, shop):
    rows = [line.split(",") for line in baskets_csv().splitlines()[1:] if line.startswith("u0,")]
    bought = {item for _, item, _, kind in rows if kind == "Purchase"}
    viewed = {item for _, item, _, kind in rows if kind == "View"}
    for_you = items_of(
        clients.runtime.get_recommendations(
            recommenderArn=shop["aws-ecomm-recommended-for-you"], userId="u0", numResults=50
        )
    )
    assert not bought & set(for_you) and viewed & set(for_you)
    clients.events.put_events(
        trackingId=shop_tracker(clients, shop),
        userId="u0",
        sessionId="checkout",
        eventList=[{"eventType": "Purchase", "itemId": for_you[0], "sentAt": 1_800_000_000}],
    )
    after = items_of(
        clients.runtime.get_recommendations(
            recommenderArn=shop["aws-ecomm-recommended-for-you"], userId="u0", numResults=50
        )
    )
    assert for_you[0] not in after


def shop_tracker(clients, shop: dict) -> str:
    p = clients.personalize
    trackers = p.list_event_trackers(datasetGroupArn=shop["group"])["eventTrackers"]
    if trackers:
        return p.describe_event_tracker(eventTrackerArn=trackers[0]["eventTrackerArn"])["eventTracker"][
            "trackingId"
        ]
    return p.create_event_tracker(name=unique("shop-events"), datasetGroupArn=shop["group"])["trackingId"]


def test_frequently_bought_together_returns_the_items_bought_in_the_same_basket(clients, shop):
    found = 0
    for pair in range(BASKET_PAIRS):
        response = clients.runtime.get_recommendations(
            recommenderArn=shop["aws-ecomm-frequently-bought-together"], itemId=f"p{pair}", numResults=5
        )
        found += items_of(response)[0] == f"q{pair}"
    assert found == BASKET_PAIRS  # a random first item of 40 purchased ones would be right 1 time in 39


def test_promotions_metadata_and_reasons_are_returned_as_the_api_returns_them(clients, shop):
    p, runtime = clients.personalize, clients.runtime
    kitchen = active_filter(
        p, group=shop["group"], expression="INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"
    )
    response = runtime.get_recommendations(
        recommenderArn=shop["aws-ecomm-recommended-for-you"],
        userId="u0",
        numResults=10,
        promotions=[
            {
                "name": "kitchen-week",
                "percentPromotedItems": 30,
                "filterArn": kitchen,
                "filterValues": {"CATEGORY": '"kitchen"'},
            }
        ],
        metadataColumns={"ITEMS": ["CATEGORY_L1", "price"]},
    )
    entries = response["itemList"]
    promoted = [entry for entry in entries if entry.get("promotionName") == "kitchen-week"]
    assert len(entries) == 10 and len(promoted) == 3
    assert all(entry["metadata"]["category_l1"] == "kitchen" for entry in promoted)
    assert all(entry["reason"] == ["Promoted item"] for entry in promoted)
    assert all("reason" not in entry for entry in entries if entry not in promoted)  # u0 has history
    others = [entry["itemId"] for entry in entries if entry not in promoted]
    plain = items_of(
        runtime.get_recommendations(
            recommenderArn=shop["aws-ecomm-recommended-for-you"], userId="u0", numResults=20
        )
    )
    assert others == [item for item in plain if item not in {entry["itemId"] for entry in promoted}][:7]
    assert {"category_l1", "price"} == set(entries[0]["metadata"])
    cold = runtime.get_recommendations(
        recommenderArn=shop["aws-ecomm-recommended-for-you"], userId="new", numResults=3
    )
    assert [entry["reason"] for entry in cold["itemList"]] == [["Popular item"]] * 3
    with pytest.raises(runtime.exceptions.InvalidInputException, match="has no column COLOUR"):
        runtime.get_recommendations(
            recommenderArn=shop["aws-ecomm-recommended-for-you"],
            userId="u0",
            metadataColumns={"ITEMS": ["COLOUR"]},
        )


def test_metadata_needs_a_config_that_enables_it(clients, vod):
    with pytest.raises(
        clients.runtime.exceptions.InvalidInputException, match="enableMetadataWithRecommendations"
    ):
        clients.runtime.get_recommendations(
            recommenderArn=vod["aws-vod-top-picks"], userId="u0", metadataColumns={"ITEMS": ["GENRES"]}
        )


def test_create_recommender_refuses_what_aws_refuses(clients, bucket, vod, shop):
    p = clients.personalize
    custom = p.create_dataset_group(name=unique("custom"))["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=custom)
    no_items = create_domain_group(
        clients, bucket=bucket, name=unique("no-items"), domain="VIDEO_ON_DEMAND", interactions=watch_csv()
    )
    for group, recipe, error, message in (
        (custom, "aws-vod-top-picks", "InvalidInputException", "custom dataset group"),
        (vod["group"], "aws-ecomm-recommended-for-you", "InvalidInputException", "is a ECOMMERCE use case"),
        (vod["group"], "aws-user-personalization", "InvalidInputException", "not a recommender use case"),
        (no_items["group"], "aws-vod-more-like-x", "InvalidInputException", "needs an ACTIVE Items dataset"),
        (vod["group"] + "-gone", "aws-vod-top-picks", "ResourceNotFoundException", "does not exist"),
    ):
        with pytest.raises(ClientError, match=message) as raised:
            p.create_recommender(name=unique("no"), datasetGroupArn=group, recipeArn=RECIPE + recipe)
        assert raised.value.response["Error"]["Code"] == error
    name = p.describe_recommender(recommenderArn=vod["aws-vod-top-picks"])["recommender"]["name"]
    with pytest.raises(p.exceptions.ResourceAlreadyExistsException):
        p.create_recommender(name=name, datasetGroupArn=vod["group"], recipeArn=RECIPE + "aws-vod-top-picks")
    with pytest.raises(p.exceptions.InvalidInputException, match="cannot leave out ITEM_ID"):
        p.create_recommender(
            name=unique("no"),
            datasetGroupArn=vod["group"],
            recipeArn=RECIPE + "aws-vod-top-picks",
            recommenderConfig={"trainingDataConfig": {"excludedDatasetColumns": {"ITEMS": ["ITEM_ID"]}}},
        )
    with pytest.raises(p.exceptions.ResourceInUseException, match="aws-vod-top-picks|recommender"):
        p.delete_dataset_group(datasetGroupArn=vod["group"])
    with pytest.raises(p.exceptions.ResourceInUseException, match="start needs it INACTIVE"):
        p.start_recommender(recommenderArn=vod["aws-vod-top-picks"])
    starved = p.create_recommender(
        name=unique("starved"),
        datasetGroupArn=shop["group"],
        recipeArn=RECIPE + "aws-ecomm-popular-items-by-views",
    )["recommenderArn"]
    with pytest.raises(p.exceptions.ResourceInUseException, match="stop needs it ACTIVE"):
        p.stop_recommender(recommenderArn=starved)
    with pytest.raises(p.exceptions.ResourceInUseException, match="wait until"):
        p.delete_recommender(recommenderArn=starved)
    assert wait_for(p.describe_recommender, "recommender", recommenderArn=starved)["status"] == "ACTIVE"


def test_a_group_lacking_the_use_cases_event_type_fails_the_recommender_with_the_reason(clients, bucket):
    views_only = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n" + "".join(
        f"u{n % 50},i{n % 70},{1_700_000_000 + n},View\n" for n in range(1200)
    )
    arns = create_domain_group(
        clients, bucket=bucket, name=unique("views"), domain="ECOMMERCE", interactions=views_only
    )
    p = clients.personalize
    recommender = p.create_recommender(
        name=unique("sellers"),
        datasetGroupArn=arns["group"],
        recipeArn=RECIPE + "aws-ecomm-popular-items-by-purchases",
    )["recommenderArn"]
    failed = wait_for(p.describe_recommender, "recommender", recommenderArn=recommender)
    assert failed["status"] == "CREATE FAILED"
    assert "fewer than 1000 interactions of event type 'Purchase'" in failed["failureReason"]
    with pytest.raises(
        clients.runtime.exceptions.ResourceNotFoundException, match="CREATE FAILED, not ACTIVE"
    ):
        clients.runtime.get_recommendations(recommenderArn=recommender, userId="u1")
    p.delete_recommender(recommenderArn=recommender)


def test_stop_start_update_and_delete_move_through_the_apis_statuses(tmp_path, bucket):
    with running_endpoint(state_dir=tmp_path, phase_seconds=0.25) as url:  # long enough to see each status
        check_lifecycle(make_clients(url), bucket)


def check_lifecycle(clients, bucket: str) -> None:
    p, runtime = clients.personalize, clients.runtime
    arns = create_domain_group(
        clients,
        bucket=bucket,
        name=unique("lifecycle"),
        domain="ECOMMERCE",
        interactions=baskets_csv(),
        items=products_csv(),
    )
    arn = create_recommenders(clients, group=arns["group"], recipes=["aws-ecomm-popular-items-by-purchases"])[
        "aws-ecomm-popular-items-by-purchases"
    ]
    seen = []

    def statuses(until: tuple[str, ...]) -> dict:
        while True:
            recommender = p.describe_recommender(recommenderArn=arn)["recommender"]
            if not seen or seen[-1] != recommender["status"]:
                seen.append(recommender["status"])
            if recommender["status"] in until:
                return recommender
            time.sleep(0.01)

    assert p.stop_recommender(recommenderArn=arn)["recommenderArn"] == arn
    statuses(("INACTIVE",))
    with pytest.raises(runtime.exceptions.ResourceNotFoundException, match="start it with StartRecommender"):
        runtime.get_recommendations(recommenderArn=arn, userId="u1")
    with pytest.raises(p.exceptions.ResourceInUseException, match="only an ACTIVE one can be updated"):
        p.update_recommender(recommenderArn=arn, recommenderConfig={"minRecommendationRequestsPerSecond": 2})
    p.start_recommender(recommenderArn=arn)
    statuses(("ACTIVE",))
    assert seen == [
        "STOP PENDING",
        "STOP IN_PROGRESS",
        "INACTIVE",
        "START PENDING",
        "START IN_PROGRESS",
        "ACTIVE",
    ]
    assert items_of(runtime.get_recommendations(recommenderArn=arn, userId="u1", numResults=3))

    p.update_recommender(recommenderArn=arn, recommenderConfig={"minRecommendationRequestsPerSecond": 5})
    updating = p.describe_recommender(recommenderArn=arn)["recommender"]
    assert (
        updating["status"] == "UPDATE PENDING"
        and updating["latestRecommenderUpdate"]["status"] == "CREATE PENDING"
    )
    assert items_of(
        runtime.get_recommendations(recommenderArn=arn, userId="u1", numResults=3)
    )  # still serving
    seen.clear()
    updated = statuses(("ACTIVE",))
    assert seen[-2:] == ["UPDATE IN_PROGRESS", "ACTIVE"]
    assert updated["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 5
    assert updated["latestRecommenderUpdate"]["status"] == "ACTIVE"
    assert updated["latestRecommenderUpdate"]["recommenderConfig"] == updated["recommenderConfig"]

    p.delete_recommender(recommenderArn=arn)
    assert p.describe_recommender(recommenderArn=arn)["recommender"]["status"] == "DELETE PENDING"
    wait_until_deleted(p, arn)
    with pytest.raises(p.exceptions.ResourceNotFoundException):
        p.describe_recommender(recommenderArn=arn)


def test_recommenders_survive_a_restart_limits_hold_and_failures_and_throttling_are_injectable(
    tmp_path, bucket
):
    doomed = unique("doomed")
    with running_endpoint(
        state_dir=tmp_path, phase_seconds=0.02, fail_jobs=frozenset({doomed, f"update:{doomed}-u"})
    ) as url:
        clients = make_clients(url)
        arns = create_domain_group(
            clients, bucket=bucket, name=unique("restart"), domain="VIDEO_ON_DEMAND", interactions=watch_csv()
        )
        p = clients.personalize
        kept = create_recommenders(clients, group=arns["group"], recipes=["aws-vod-top-picks"])[
            "aws-vod-top-picks"
        ]
        before = items_of(clients.runtime.get_recommendations(recommenderArn=kept, userId="u3", numResults=5))
        failed = p.create_recommender(
            name=doomed, datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-vod-most-popular"
        )["recommenderArn"]
        failed = wait_for(p.describe_recommender, "recommender", recommenderArn=failed)
        assert failed["status"] == "CREATE FAILED" and doomed in failed["failureReason"]
        updated = create_recommenders(clients, group=arns["group"], recipes=["aws-vod-most-popular"])
        unlucky = updated["aws-vod-most-popular"]
        p.delete_recommender(recommenderArn=unlucky)
        wait_until_deleted(p, unlucky)
        unlucky = p.create_recommender(
            name=f"{doomed}-u", datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-vod-most-popular"
        )["recommenderArn"]
        wait_for(p.describe_recommender, "recommender", recommenderArn=unlucky)
        p.update_recommender(
            recommenderArn=unlucky, recommenderConfig={"minRecommendationRequestsPerSecond": 9}
        )
        while p.describe_recommender(recommenderArn=unlucky)["recommender"]["latestRecommenderUpdate"][
            "status"
        ] in (
            "CREATE PENDING",
            "CREATE IN_PROGRESS",
        ):
            time.sleep(0.01)
        after_update = p.describe_recommender(recommenderArn=unlucky)["recommender"]
        assert (
            after_update["status"] == "ACTIVE"
            and after_update["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 1
        )
        assert "update:" in after_update["latestRecommenderUpdate"]["failureReason"]
        described = p.describe_recommender(recommenderArn=kept)["recommender"]
    with running_endpoint(state_dir=tmp_path, phase_seconds=30) as url:
        clients = make_clients(url)
        p = clients.personalize
        assert p.describe_recommender(recommenderArn=kept)["recommender"] == described
        assert (
            items_of(clients.runtime.get_recommendations(recommenderArn=kept, userId="u3", numResults=5))
            == before
        )
        p.stop_recommender(recommenderArn=kept)
        pending = [
            p.create_recommender(
                name=unique("pending"),
                datasetGroupArn=arns["group"],
                recipeArn=RECIPE + "aws-vod-most-popular",
            )["recommenderArn"]
            for _ in range(12)
        ]
        assert len(p.list_recommenders(datasetGroupArn=arns["group"])["recommenders"]) == 15
        with pytest.raises(p.exceptions.LimitExceededException, match="at most 15 recommenders"):
            p.create_recommender(
                name=unique("16th"), datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-vod-top-picks"
            )
    with running_endpoint(
        state_dir=tmp_path,
        phase_seconds=0.02,
        throttle_rate=1.0,
        fault_operations=frozenset({"CreateRecommender"}),
    ) as url:
        p = make_clients(url).personalize
        assert p.describe_recommender(recommenderArn=kept)["recommender"]["status"] == "INACTIVE"
        abandoned = p.describe_recommender(recommenderArn=pending[0])["recommender"]
        assert abandoned["status"] == "CREATE FAILED" and "CREATE PENDING" in abandoned["failureReason"]
        with pytest.raises(ClientError) as raised:
            p.create_recommender(
                name=unique("t"), datasetGroupArn=arns["group"], recipeArn=RECIPE + "aws-vod-top-picks"
            )
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        p.start_recommender(recommenderArn=kept)
        assert wait_for(p.describe_recommender, "recommender", recommenderArn=kept)["status"] == "ACTIVE"


def test_excluded_columns_leave_item_metadata_out_of_training(clients, bucket):
    arns = create_domain_group(
        clients,
        bucket=bucket,
        name=unique("exclude"),
        domain="VIDEO_ON_DEMAND",
        interactions=watch_csv(),
        items=videos_csv(),
    )
    recommenders = {
        json.dumps(excluded): create_recommenders(
            clients,
            group=arns["group"],
            recipes=["aws-vod-more-like-x"],
            recommenderConfig={"trainingDataConfig": {"excludedDatasetColumns": excluded}},
        )["aws-vod-more-like-x"]
        for excluded in ({}, {"ITEMS": ["GENRES"]})
    }
    metrics = [
        clients.personalize.describe_recommender(recommenderArn=arn)["recommender"]["modelMetrics"]
        for arn in recommenders.values()
    ]
    assert metrics[0] != metrics[1]


def test_trending_now_ranks_the_planted_rise_first_and_the_fall_last(clients, bucket):
    planted = "".join(",".join(line.split(",")[:4]) + "\n" for line in planted_trend_csv().splitlines())
    arns = create_domain_group(
        clients, bucket=bucket, name=unique("vod-trend"), domain="VIDEO_ON_DEMAND", interactions=planted
    )
    trending = create_recommenders(clients, group=arns["group"], recipes=["aws-vod-trending-now"])
    response = clients.runtime.get_recommendations(
        recommenderArn=trending["aws-vod-trending-now"], userId="u1", numResults=50
    )
    items = items_of(response)
    assert items[0] == "rising" and items[-1] == "falling" and len(items) == 22


def test_a_user_personalization_v2_campaign_gives_reasons_and_takes_promotions_too(clients, trained_group):
    p, runtime = clients.personalize, clients.runtime
    campaign = trained_group["personalization"]["campaign"]
    drama = active_filter(
        p, group=trained_group["group"], expression='INCLUDE ItemID WHERE Items.GENRE IN ("Drama")'
    )
    response = runtime.get_recommendations(
        campaignArn=campaign,
        userId="u0",  # an Action fan: Drama only comes through the promotion
        numResults=10,
        promotions=[{"name": "drama", "percentPromotedItems": 50, "filterArn": drama}],
    )
    promoted = [entry for entry in response["itemList"] if "promotionName" in entry]
    assert len(promoted) == 5 and all(entry["itemId"].startswith("b") for entry in promoted)
    assert all(entry["reason"] == ["Promoted item"] for entry in promoted)
    cold = runtime.get_recommendations(campaignArn=campaign, userId="stranger", numResults=2)["itemList"]
    assert [entry["reason"] for entry in cold] == [["Popular item"], ["Popular item"]]
    sims = runtime.get_recommendations(
        campaignArn=trained_group["sims"]["campaign"], itemId="a1", numResults=2
    )
    assert all("reason" not in entry for entry in sims["itemList"])
    p.delete_filter(filterArn=drama)


def test_events_put_after_training_personalize_top_picks_at_once(clients, vod):
    p, runtime = clients.personalize, clients.runtime
    tracker = p.create_event_tracker(name=unique("vod-events"), datasetGroupArn=vod["group"])
    top_picks = vod["aws-vod-top-picks"]
    before = runtime.get_recommendations(recommenderArn=top_picks, userId="newcomer", numResults=10)[
        "itemList"
    ]
    assert {tuple(entry["reason"]) for entry in before} == {("Popular item",)}
    watched = [f"b{n}" for n in range(1, 9)]
    clients.events.put_events(
        trackingId=tracker["trackingId"],
        userId="newcomer",
        sessionId="first-visit",
        eventList=[
            {"eventType": "Watch", "itemId": item, "sentAt": 1_800_000_000 + n}
            for n, item in enumerate(watched)
        ],
    )
    after = runtime.get_recommendations(recommenderArn=top_picks, userId="newcomer", numResults=10)[
        "itemList"
    ]
    items = [entry["itemId"] for entry in after]
    assert not set(watched) & set(items) and sum(item.startswith("b") for item in items) >= 8
    assert all("reason" not in entry for entry in after)
    wait_for(p.describe_event_tracker, "eventTracker", eventTrackerArn=tracker["eventTrackerArn"])
    p.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])


def test_a_request_filter_applies_to_a_recommenders_list(clients, vod):
    no_romance = active_filter(
        clients.personalize, group=vod["group"], expression='EXCLUDE ItemID WHERE Items.GENRES IN ("Romance")'
    )
    for arn, query in (
        (vod["aws-vod-top-picks"], {"userId": "u1"}),  # a Drama|Romance fan
        (vod["aws-vod-because-you-watched-x"], {"userId": "u1", "itemId": "b2"}),
    ):
        response = clients.runtime.get_recommendations(
            recommenderArn=arn, filterArn=no_romance, numResults=10, **query
        )
        assert len(response["itemList"]) == 10 and all(
            item["itemId"].startswith("a") for item in response["itemList"]
        )
    clients.personalize.delete_filter(filterArn=no_romance)
