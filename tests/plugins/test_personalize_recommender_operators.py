"""Recommenders of a domain dataset group against personalize-local: created once, updated when their
config changes, refused with another recipe, stopped and started, every wait deferred."""

from __future__ import annotations

import pytest

from personalize_airflow.hooks.personalize import (
    PersonalizeResourceConflictError,
    PersonalizeResourceFailedError,
)
from personalize_airflow.operators.personalize import (
    PersonalizeCreateRecommenderOperator,
    PersonalizeStartRecommenderOperator,
    PersonalizeStopRecommenderOperator,
)
from tests.plugins.conftest import (
    failing,
    imported_group,
    interactions_csv,
    make_context,
    run_deferrable,
    unique,
)

FAST = {"waiter_delay": 1, "waiter_max_attempts": 120}
TOP_PICKS = "arn:aws:personalize:::recipe/aws-vod-top-picks"
MOST_POPULAR = "arn:aws:personalize:::recipe/aws-vod-most-popular"


@pytest.fixture(scope="module")
def domain_group(clients, bucket) -> str:
    """A VIDEO_ON_DEMAND dataset group with imported watch events."""
    watches = interactions_csv().replace(",click", ",Watch")
    return imported_group(clients, bucket, csv=watches, domain="VIDEO_ON_DEMAND")


def create(name: str, group: str, *, recipe: str = TOP_PICKS, tps: int = 1):
    return PersonalizeCreateRecommenderOperator(
        task_id="recommender",
        name=name,
        dataset_group_arn=group,
        recipe_arn=recipe,
        recommender_config={"minRecommendationRequestsPerSecond": tps},
        **FAST,
    )


def test_a_recommender_is_created_reused_updated_and_refused_with_another_recipe(
    aws_default, clients, domain_group
):
    p = clients["personalize"]
    name = unique("top-picks")
    arn = run_deferrable(create(name, domain_group), make_context())
    assert p.describe_recommender(recommenderArn=arn)["recommender"]["status"] == "ACTIVE"
    assert run_deferrable(create(name, domain_group), make_context()) == arn  # a retry reuses it
    assert [r["name"] for r in p.list_recommenders(datasetGroupArn=domain_group)["recommenders"]].count(
        name
    ) == 1

    assert run_deferrable(create(name, domain_group, tps=3), make_context()) == arn
    updated = p.describe_recommender(recommenderArn=arn)["recommender"]
    assert (
        updated["status"] == "ACTIVE"
        and updated["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 3
    )
    assert updated["latestRecommenderUpdate"]["status"] == "ACTIVE"

    with pytest.raises(PersonalizeResourceConflictError, match="recipeArn: existing .*aws-vod-top-picks"):
        create(name, domain_group, recipe=MOST_POPULAR).execute(make_context())


def test_a_recommender_is_stopped_and_started_and_either_twice_is_no_error(
    aws_default, clients, domain_group
):
    p = clients["personalize"]
    arn = run_deferrable(create(unique("popular"), domain_group, recipe=MOST_POPULAR), make_context())
    stop = PersonalizeStopRecommenderOperator(task_id="stop", recommender_arn=arn, **FAST)
    start = PersonalizeStartRecommenderOperator(task_id="start", recommender_arn=arn, **FAST)

    assert run_deferrable(stop, make_context()) == arn
    assert p.describe_recommender(recommenderArn=arn)["recommender"]["status"] == "INACTIVE"
    assert run_deferrable(stop, make_context()) == arn
    assert run_deferrable(start, make_context()) == arn
    assert p.describe_recommender(recommenderArn=arn)["recommender"]["status"] == "ACTIVE"
    assert run_deferrable(start, make_context()) == arn


def test_a_recommender_that_fails_to_train_fails_the_task_with_the_reason(aws_default, domain_group):
    with pytest.raises(
        PersonalizeResourceFailedError, match=r"recommender .* failed: CREATE FAILED - .*Forced"
    ):
        run_deferrable(create(failing("recommender", 1), domain_group), make_context())
