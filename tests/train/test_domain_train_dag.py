"""A domain use case's train DAG end to end with dag.test() against personalize-local: the movies use case
(VIDEO_ON_DEMAND on MovieLens) serves through recommenders instead of a campaign.

`movies_switch` deploys most-popular first, then a run with top-picks beats it (every recommender of the
run serves, the superseded one is stopped), then a most-popular challenger is kept out (its recommender
stopped, the registry untouched); its stop and start DAGs switch the serving recommenders. `movies_live`, a
long-lived group, updates its recommender in place when its requests per second change.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import ROOT
from tests.train.conftest import WINDOW_END, publish_copy, registry, run_dag, run_train

MOVIELENS = ROOT / "tests" / "fixtures" / "movielens"
TPS = 50  # the evaluation's pace: 100 holdout users in two seconds
TOP_PICKS = {
    "name": "top-picks",
    "recipe": "aws-vod-top-picks",
    "min_recommendation_requests_per_second": TPS,
}
POPULAR = {
    "name": "most-popular",
    "recipe": "aws-vod-most-popular",
    "min_recommendation_requests_per_second": TPS,
}
MORE_LIKE = {"name": "more-like", "recipe": "aws-vod-more-like-x"}
UNWATCHED = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")'


def write_movies(config_dir, name: str, *, recommenders: list[dict], **training) -> None:
    """<name>.yaml: include/config/movies.yaml with these recommenders, quick retries and a small holdout."""
    document = yaml.safe_load((ROOT / "include" / "config" / "movies.yaml").read_text())
    document["training"] = {
        **document["training"],
        "recommenders": recommenders,
        "retries": 1,
        "retry_delay_seconds": 1,
        **training,
    }
    document["evaluation"] = {**document["evaluation"], "max_users": 100}
    document["serving"] = {**document["serving"], "waiter_delay": 1}
    (config_dir / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def movies_version(environment, config_dir, s3, tmp_path_factory) -> str:
    """movies__export, run once on the MovieLens warehouse: the version every domain test trains on."""
    from personalize_pipelines.warehouse.movielens import build

    warehouse = build(tmp_path_factory.mktemp("movies") / "movies.duckdb", source=MOVIELENS, end=WINDOW_END)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "AIRFLOW_CONN_MOVIES_WAREHOUSE", json.dumps({"conn_type": "duckdb", "host": str(warehouse)})
        )
        if "personalize-demo" not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            s3.create_bucket(Bucket="personalize-demo")
        (config_dir / "movies.yaml").write_text((ROOT / "include" / "config" / "movies.yaml").read_text())
        run = run_dag("movies", "export", logical_date=WINDOW_END)
        assert run.state == "success", run.tasks
    latest = s3.get_object(Bucket="personalize-demo", Key="exports/movies/latest.json")["Body"].read()
    return json.loads(latest)["version"]


def recommender(personalize, arn: str) -> dict:
    return personalize.describe_recommender(recommenderArn=arn)["recommender"]


@pytest.fixture(scope="module")
def switch_case(config_dir, movies_version, s3):
    publish_copy(s3, version=movies_version, use_case="movies_switch", source_use_case="movies")
    write_movies(config_dir, "movies_switch", recommenders=[{**POPULAR, "filters": {"unwatched": UNWATCHED}}])
    first = run_train("movies_switch", movies_version)
    return {"first": first, "first_champion": registry(s3, "movies_switch")[0]}


def test_the_first_run_serves_through_its_recommenders(switch_case, s3, personalize, movies_version):
    run = switch_case["first"]
    assert run.state == "success", run.tasks
    assert (
        run.tasks["keep_recommenders"] == "skipped" and run.tasks["deploy.promote_recommenders"] == "success"
    )
    champion, history = registry(s3, "movies_switch")
    assert champion.recipe == "aws-vod-most-popular" and champion.export_version == movies_version
    assert champion.campaign_arn is None and champion.recommenders == {
        "most-popular": champion.recommender_arn
    }
    (unwatched,) = champion.recommender_filters["most-popular"].values()
    described = personalize.describe_filter(filterArn=unwatched)["filter"]
    assert described["status"] == "ACTIVE" and described["datasetGroupArn"] == champion.dataset_group_arn
    served = recommender(personalize, champion.recommender_arn)
    assert served["status"] == "ACTIVE" and served["datasetGroupArn"] == champion.dataset_group_arn
    assert served["recommenderConfig"]["minRecommendationRequestsPerSecond"] == TPS
    assert champion.metrics["ndcg_at_10"] > 0 and champion.metrics["users_evaluated"] > 50
    assert [h.promotion_id for h in history] == [champion.promotion_id]
    summary = run.xcom("deploy.promote_recommenders")
    assert summary["promoted"] and summary["reason"].startswith("no champion yet") and summary["stop"] == []
    assert all(summary["sample_recommendations"].values())
    tracker = personalize.describe_event_tracker(eventTrackerArn=champion.event_tracker_arn)["eventTracker"]
    assert tracker["datasetGroupArn"] == champion.dataset_group_arn


def test_a_better_recommender_serves_and_the_superseded_one_is_stopped(
    switch_case, s3, personalize, config_dir, movies_version
):
    old = switch_case["first_champion"]
    write_movies(config_dir, "movies_switch", recommenders=[TOP_PICKS, POPULAR, MORE_LIKE])

    run = run_train("movies_switch", movies_version, same_data_trains=True)

    assert run.state == "success", run.tasks
    champion, history = registry(s3, "movies_switch")
    assert (
        champion.recipe == "aws-vod-top-picks"
        and champion.recommender_arn == champion.recommenders["top-picks"]
    )
    assert sorted(champion.recommenders) == ["more-like", "most-popular", "top-picks"]
    assert champion.dataset_group_arn != old.dataset_group_arn  # a per-run group: new recommenders
    assert [h.promotion_id for h in history] == [old.promotion_id, champion.promotion_id]
    assert "beats champion" in run.xcom("deploy.promote_recommenders")["reason"]
    assert {recommender(personalize, arn)["status"] for arn in champion.recommenders.values()} == {"ACTIVE"}
    assert recommender(personalize, old.recommender_arn)["status"] == "INACTIVE"
    evaluation = run.xcom("evaluate_recommenders")
    assert evaluation["models"]["top-picks"]["ndcg_at_10"] > old.metrics["ndcg_at_10"]


def test_a_worse_recommender_is_kept_out_and_stopped(
    switch_case, s3, personalize, config_dir, movies_version
):
    champion, history = registry(s3, "movies_switch")
    write_movies(config_dir, "movies_switch", recommenders=[POPULAR])

    run = run_train("movies_switch", movies_version, same_data_trains=True)

    assert run.state == "success", run.tasks
    assert run.tasks["keep_recommenders"] == "success" and run.tasks["deploy.event_tracker"] == "skipped"
    kept = run.xcom("keep_recommenders")
    assert kept["promoted"] is False and kept["serving"] == champion.recommender_arn
    assert "does not beat champion" in kept["reason"]
    (challenger,) = kept["stop"]
    assert challenger not in champion.recommenders.values()
    assert recommender(personalize, challenger)["status"] == "INACTIVE"
    assert registry(s3, "movies_switch") == (champion, history)
    assert {recommender(personalize, arn)["status"] for arn in champion.recommenders.values()} == {"ACTIVE"}


def test_the_serving_recommenders_are_stopped_and_started_by_their_dags(switch_case, s3, personalize):
    champion, _ = registry(s3, "movies_switch")
    serving = sorted(champion.recommenders.values())

    stopped = run_dag("movies_switch", "recommenders_stop")
    assert stopped.state == "success", stopped.tasks
    assert [recommender(personalize, arn)["status"] for arn in serving] == ["INACTIVE"] * len(serving)
    again = run_dag("movies_switch", "recommenders_stop")  # nothing left to stop: not an error
    assert again.state == "success", again.tasks

    started = run_dag("movies_switch", "recommenders_start")
    assert started.state == "success", started.tasks
    assert [recommender(personalize, arn)["status"] for arn in serving] == ["ACTIVE"] * len(serving)


def test_a_long_lived_groups_recommender_is_updated_in_place(config_dir, movies_version, s3, personalize):
    publish_copy(s3, version=movies_version, use_case="movies_live", source_use_case="movies")
    write_movies(config_dir, "movies_live", recommenders=[TOP_PICKS], dataset_group="long_lived")
    first = run_train("movies_live", movies_version)
    assert first.state == "success", first.tasks
    champion, history = registry(s3, "movies_live")
    write_movies(
        config_dir,
        "movies_live",
        recommenders=[{**TOP_PICKS, "min_recommendation_requests_per_second": TPS + 10}],
        dataset_group="long_lived",
    )

    run = run_train("movies_live", movies_version, same_data_trains=True)

    assert run.state == "success", run.tasks
    updated = recommender(personalize, champion.recommender_arn)
    assert updated["status"] == "ACTIVE"
    assert updated["recommenderConfig"]["minRecommendationRequestsPerSecond"] == TPS + 10
    assert updated["latestRecommenderUpdate"]["status"] == "ACTIVE"
    assert run.xcom("recommender_top-picks.recommender") == champion.recommender_arn
    kept = run.xcom("keep_recommenders")  # the same data again: the gate keeps the champion, which it is
    assert kept["promoted"] is False and kept["stop"] == []
    assert registry(s3, "movies_live") == (champion, history)
