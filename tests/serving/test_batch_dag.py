"""shop__batch end to end with dag.test() on personalize-local: the cache loads, a rerun does not duplicate,
and bad output lines are counted while the rest load."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import duckdb
import pytest

from tests.serving.conftest import (
    COLD_USER,
    RUN_AT,
    connect,
    load_dag,
    task_states,
    use_test_config,
    xcom,
)

ACTIVE_USERS = 41  # the 40 shop users with add-to-cart events a week before RUN_AT, and the cold user


def cache(path, table="personalize_recommendations") -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            f"SELECT user_id, rank, item_id, score, solution_version, generated_at FROM {table} "
            "ORDER BY user_id, rank"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def batch_dag(world, monkeypatch, tmp_path, airflow_db):
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket)
    connect(monkeypatch, world)
    return load_dag("shop__batch")


def test_batch_loads_the_cache_and_a_rerun_replaces_its_rows(batch_dag, world):
    run = batch_dag.test(logical_date=RUN_AT)
    states = task_states(run)
    assert run.state == "success", states
    assert states["prepare_related_items"] == "skipped"  # no similar-items solution in shop.yaml

    rows = cache(world.warehouse)
    users = {r[0] for r in rows}
    assert len(users) == ACTIVE_USERS and COLD_USER in users
    assert {r[4] for r in rows} == {world.version}
    assert {r[5].isoformat() for r in rows} == {RUN_AT.replace(tzinfo=None).isoformat()}
    for user in users:
        ranks = [r[1] for r in rows if r[0] == user]
        assert ranks == list(range(1, len(ranks) + 1)) and 1 <= len(ranks) <= 25
        scores = [r[3] for r in rows if r[0] == user]
        assert scores == sorted(scores, reverse=True)
    # what the champion serves is what the cache holds
    runtime = boto3.client("personalize-runtime", endpoint_url=world.url, region_name="us-east-1")
    served = runtime.get_recommendations(campaignArn=world.campaign, userId="u005", numResults=25)["itemList"]
    assert [r[2] for r in rows if r[0] == "u005"] == [i["itemId"] for i in served]

    loaded = xcom(run, "load_recommendations")
    assert loaded["loaded"] == ACTIVE_USERS and loaded["rows"] == len(rows) and loaded["deleted"] == 0
    assert (
        loaded["error_lines"]
        == loaded["malformed_lines"]
        == loaded["unknown_ids"]
        == loaded["missing_ids"]
        == 0
    )
    prepared = xcom(run, "prepare_users")
    report_key = prepared["output_prefix"].rstrip("/").rsplit("/", 1)[0] + "/report.json"
    report = json.loads(world.s3.get_object(Bucket=world.bucket, Key=report_key)["Body"].read())
    assert report["loaded"] == ACTIVE_USERS and report["problems"] == []

    again = batch_dag.test(logical_date=RUN_AT)
    assert again.state == "success", task_states(again)
    assert cache(world.warehouse) == rows
    assert xcom(again, "load_recommendations")["deleted"] == len(rows)
    jobs = world.personalize.list_batch_inference_jobs(solutionVersionArn=world.version)["batchInferenceJobs"]
    names = [j["jobName"] for j in jobs]
    assert len(names) == len(set(names)) == 2  # one job per run, none duplicated by retries


def test_the_cache_can_live_in_its_own_duckdb_file(world, monkeypatch, tmp_path, airflow_db):
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket)
    cache_file = tmp_path / "serving-cache.duckdb"
    connect(monkeypatch, world, cache_path=cache_file)
    run = load_dag("shop__batch").test(logical_date=RUN_AT)
    assert run.state == "success", task_states(run)
    assert len({r[0] for r in cache(cache_file)}) == ACTIVE_USERS


def test_bad_output_lines_are_counted_and_the_rest_load(world, tmp_path):
    """Error lines, malformed lines and users not in the input, in a real job's output on S3."""
    from personalize_pipelines.batch_output import read_scored_output
    from personalize_pipelines.recommendation_cache import replace_rows

    prefix = "exports/shop/batch/handmade/users/output/"
    good = {
        "input": {"userId": "u001"},
        "output": {"recommendedItems": ["p1", "p2"], "scores": [0.9, 0.5]},
        "error": None,
    }
    lines = [
        json.dumps(good),
        json.dumps({"input": {"userId": "u002"}, "output": None, "error": "User u002 has no interactions"}),
        "{not json",
        json.dumps({"input": {"userId": "u003"}, "output": {"recommendedItems": "p1"}, "error": None}),
        json.dumps({"input": {"userId": "stranger"}, "output": {"recommendedItems": ["p1"]}, "error": None}),
        json.dumps({**good, "output": {"recommendedItems": ["p9"], "scores": [0.1]}}),
        json.dumps({"input": {"userId": "u004"}, "output": {"recommendedItems": ["p3"]}, "error": None}),
    ]
    world.s3.put_object(
        Bucket=world.bucket, Key=prefix + "users.json.out", Body=("\n".join(lines) + "\n").encode()
    )
    expected = {"u001", "u002", "u003", "u004", "u005"}
    output = read_scored_output(world.s3, bucket=world.bucket, prefix=prefix, expected=expected)
    assert output.counts() == {
        "lines": 7,
        "loaded": 2,
        "rows": 3,
        "error_lines": 1,
        "malformed_lines": 2,
        "unknown_ids": 1,
        "duplicate_ids": 1,
        "missing_ids": 1,
    }
    assert [p["reason"][:5] for p in output.problems] == ["error", "not J", "outpu", "userI", "userI"]

    con = duckdb.connect(str(tmp_path / "cache.duckdb"))
    written = replace_rows(
        con,
        dialect="duckdb",
        table="recs",
        rows=output.rows,
        solution_version="sv",
        generated_at=datetime(2026, 11, 1, 12, tzinfo=UTC),
    )
    assert written == {"deleted": 0, "inserted": 3}
    assert con.execute("SELECT user_id, rank, item_id, score FROM recs ORDER BY 1, 2").fetchall() == [
        ("u001", 1, "p1", 0.9),
        ("u001", 2, "p2", 0.5),
        ("u004", 1, "p3", None),
    ]
    con.close()


def test_related_items_cache_from_a_similar_items_solution(world, monkeypatch, tmp_path, airflow_db):
    from tests.serving.conftest import wait_active

    p = world.personalize
    sims = p.create_solution(
        name="shop-similar", datasetGroupArn=world.group, recipeArn="arn:aws:personalize:::recipe/aws-sims"
    )["solutionArn"]
    wait_active(p.describe_solution, "solution", solutionArn=sims)
    version = p.create_solution_version(solutionArn=sims)["solutionVersionArn"]
    wait_active(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    related = {"solution_arn": sims, "items_sql": "shop/catalog_items.sql", "table": "related_items"}
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, batch={"related_items": related})
    connect(monkeypatch, world, cache_path=tmp_path / "cache.duckdb")

    run = load_dag("shop__batch").test(logical_date=RUN_AT)
    assert run.state == "success", task_states(run)
    con = duckdb.connect(str(tmp_path / "cache.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT item_id, rank, related_item_id, solution_version FROM related_items ORDER BY item_id, rank"
    ).fetchall()
    con.close()
    items = {r[0] for r in rows}
    catalogue = {f"p{i:03d}" for i in range(50)}  # p999 is created after RUN_AT
    assert items == catalogue
    assert {r[3] for r in rows} == {version}
    assert all(r[0] != r[2] for r in rows)  # an item is not related to itself
    loaded = xcom(run, "load_related_items")
    assert loaded["loaded"] == len(items) and loaded["error_lines"] == 0


def expected_candidates(warehouse, since_epoch: int) -> dict[str, set[str]]:
    """Each user's candidates as shop/ranking_candidates.sql defines them, computed here on its own."""
    con = duckdb.connect(str(warehouse), read_only=True)
    pairs = con.execute(
        "SELECT DISTINCT trim(c.customer_id), p2.product_id FROM clickstream c "
        "JOIN products p1 ON p1.product_id = c.product_id "
        "JOIN products p2 ON p2.category = p1.category AND p2.created_at < ? "
        "WHERE c.event_ts >= ? AND c.customer_id IS NOT NULL",
        [RUN_AT.replace(tzinfo=None), since_epoch],
    ).fetchall()
    con.close()
    result: dict[str, set[str]] = {}
    for user, item in pairs:
        if user:
            result.setdefault(user, set()).add(item)
    return result


def test_ranked_items_cache_orders_each_users_candidates(world, monkeypatch, tmp_path, airflow_db):
    from datetime import timedelta

    from tests.serving.conftest import wait_active

    p = world.personalize
    ranking = p.create_solution(
        name="shop-ranking",
        datasetGroupArn=world.group,
        recipeArn="arn:aws:personalize:::recipe/aws-personalized-ranking",
    )["solutionArn"]
    wait_active(p.describe_solution, "solution", solutionArn=ranking)
    version = p.create_solution_version(solutionArn=ranking)["solutionVersionArn"]
    wait_active(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    spec = {"solution_arn": ranking, "candidates_sql": "shop/ranking_candidates.sql", "table": "ranked"}
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, batch={"ranking": spec})
    connect(monkeypatch, world, cache_path=tmp_path / "cache.duckdb")

    run = load_dag("shop__batch").test(logical_date=RUN_AT)
    states = task_states(run)
    assert run.state == "success", states
    assert states["prepare_related_items"] == "skipped" and states["load_ranking"] == "success"
    rows = cache(tmp_path / "cache.duckdb", table="ranked")
    expected = expected_candidates(world.warehouse, int((RUN_AT - timedelta(days=30)).timestamp()))
    ranked: dict[str, list[tuple]] = {}
    for row in rows:
        ranked.setdefault(row[0], []).append(row)
    assert set(ranked) == set(expected)
    for user, user_rows in ranked.items():
        assert {r[2] for r in user_rows} == expected[user]  # exactly the candidates, each once
        assert [r[1] for r in user_rows] == list(range(1, len(user_rows) + 1))
        assert [r[3] for r in user_rows] == sorted((r[3] for r in user_rows), reverse=True)
    assert {r[4] for r in rows} == {version}
    prepared = xcom(run, "prepare_ranking")
    body = world.s3.get_object(Bucket=world.bucket, Key=prepared["input_key"])["Body"].read().decode()
    sent = {line["userId"]: line["itemList"] for line in map(json.loads, body.splitlines())}
    assert any([r[2] for r in ranked[user]] != sent[user] for user in ranked), (
        "the solution should reorder the candidates, not keep the order the query gave"
    )
    assert prepared["input_counts"]["users"] == len(expected)
    assert prepared["input_counts"]["candidates"] == len(rows)
    loaded = xcom(run, "load_ranking")
    assert loaded["loaded"] == len(expected) and loaded["error_lines"] == 0
    report_key = prepared["input_key"].replace("input/ranking.json", "report.json")
    report = json.loads(world.s3.get_object(Bucket=world.bucket, Key=report_key)["Body"].read())
    assert report["input"] == prepared["input_counts"] and report["inserted"] == len(rows)
