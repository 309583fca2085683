"""shop__trending end to end with dag.test() on personalize-local: a Trending-Now solution beside the
champion, retrained once per period, behind one campaign, and its items in the warehouse."""

from __future__ import annotations

from datetime import timedelta

import boto3
import duckdb
import pytest

from tests.serving.conftest import (
    RUN_AT,
    connect,
    load_dag,
    recipe_versions,
    run_before_any_promotion,
    task_states,
    use_test_config,
    xcom,
)

TRENDING = {
    "retrain_hours": 24,
    "num_results": 10,
    "table": "trending",
    "trend_discovery_frequency": "1 hour",
}


def trending_rows(path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT list_name, rank, item_id, score, solution_version, generated_at FROM trending ORDER BY rank"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def trending_dag(world, monkeypatch, tmp_path, airflow_db):
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, trending=TRENDING)
    connect(monkeypatch, world, cache_path=tmp_path / "cache.duckdb")
    return load_dag("shop__trending")


def trending_versions(world) -> list[dict]:
    return recipe_versions(world, "aws-trending-now")


def test_trending_serves_beside_the_champion_and_retrains_once_a_period(trending_dag, world, tmp_path):
    run = trending_dag.test(logical_date=RUN_AT)
    assert run.state == "success", task_states(run)
    (version,) = trending_versions(world)
    campaign = world.personalize.describe_campaign(campaignArn=xcom(run, "campaign"))["campaign"]
    assert (
        campaign["name"] == "shop-trending"
        and campaign["solutionVersionArn"] == version["solutionVersionArn"]
    )
    rows = trending_rows(tmp_path / "cache.duckdb")
    assert [r[1] for r in rows] == list(range(1, 11)) and {r[0] for r in rows} == {"trending"}
    assert {r[4] for r in rows} == {version["solutionVersionArn"]}
    runtime = boto3.client("personalize-runtime", endpoint_url=world.url, region_name="us-east-1")
    served = runtime.get_recommendations(campaignArn=campaign["campaignArn"], numResults=10)
    assert [r[2] for r in rows] == [item["itemId"] for item in served["itemList"]]

    later = trending_dag.test(logical_date=RUN_AT + timedelta(hours=3))
    assert later.state == "success", task_states(later)
    assert len(trending_versions(world)) == 1, "a run in the same period trains nothing"
    again = trending_rows(tmp_path / "cache.duckdb")
    assert len(again) == 10 and {r[5] for r in again} == {(RUN_AT + timedelta(hours=3)).replace(tzinfo=None)}

    next_day = trending_dag.test(logical_date=RUN_AT + timedelta(hours=25))
    assert next_day.state == "success", task_states(next_day)
    versions = trending_versions(world)
    assert len(versions) == 2, "the next period trains a new version"
    newest = max(versions, key=lambda v: v["creationDateTime"])["solutionVersionArn"]
    assert (
        world.personalize.describe_campaign(campaignArn=campaign["campaignArn"])["campaign"][
            "solutionVersionArn"
        ]
        == newest
    )
    assert {r[4] for r in trending_rows(tmp_path / "cache.duckdb")} == {newest}


def test_before_the_first_promotion_the_run_is_skipped(world, monkeypatch, tmp_path, airflow_db):
    states = run_before_any_promotion(world, monkeypatch, tmp_path, "shop__trending", trending=TRENDING)
    assert states["plan"] == "skipped" and states["load_trending"] == "skipped", states
    assert not (tmp_path / "cache.duckdb").exists()


def test_trending_now_cannot_be_a_challenger():
    from pydantic import ValidationError

    from personalize_pipelines.config import SolutionSpec

    with pytest.raises(ValidationError, match="no batch recommendations for it.*serving.trending"):
        SolutionSpec(name="trending", recipe="aws-trending-now")
