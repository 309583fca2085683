"""shop__segments end to end with dag.test() on personalize-local: an aws-item-affinity solution beside the
champion, a batch segment job over the query's items, and each item's audience in the warehouse — a rerun
replaces, an item Personalize cannot answer is counted, and a config that cannot work says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import yaml
from pydantic import ValidationError

from tests.serving.conftest import (
    ROLE,
    RUN_AT,
    connect,
    load_dag,
    recipe_versions,
    run_before_any_promotion,
    task_states,
    use_test_config,
    wait_active,
    xcom,
)

SEGMENTS = {
    "recipe": "aws-item-affinity",
    "query": "shop/segment_items.sql",
    "num_results": 5,
    "retrain_hours": 24,
    "table": "segments",
}
NEW_ARRIVAL = "p-new"  # the most viewed product of the month, added after the champion's training data


@pytest.fixture(scope="module")
def new_arrival(world):
    """A product 40 shop users viewed the day before the run: first in the query, unknown to the model."""
    con = duckdb.connect(str(world.warehouse))
    con.execute(
        "INSERT INTO products VALUES (?, 'cat0', 'brand0', 10, TIMESTAMP '2026-10-01', NULL)", [NEW_ARRIVAL]
    )
    viewed = int((RUN_AT - timedelta(days=1)).timestamp())
    for u in range(40):
        con.execute(
            "INSERT INTO clickstream VALUES (?, 's-new', ?, ?, 'view', ?, 'web')",
            [800000 + u, f"u{u:03d}", NEW_ARRIVAL, viewed],
        )
    con.close()
    return NEW_ARRIVAL


def segments(path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT item_or_query, rank, user_id, solution_version, generated_at FROM segments ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def segments_dag(world, new_arrival, monkeypatch, tmp_path, airflow_db):
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, segments=SEGMENTS)
    connect(monkeypatch, world, cache_path=tmp_path / "cache.duckdb")
    return load_dag("shop__segments")


def affinity_versions(world) -> list[dict]:
    return recipe_versions(world, "aws-item-affinity")


def output_segments(world, job_arn: str, key: str = "itemId") -> dict[str, list[str]]:
    """What the batch segment job wrote: each answered item's (or query's) users, in order."""
    job = world.personalize.describe_batch_segment_job(batchSegmentJobArn=job_arn)["batchSegmentJob"]
    bucket, prefix = job["jobOutput"]["s3DataDestination"]["path"].removeprefix("s3://").split("/", 1)
    body = world.s3.get_object(Bucket=bucket, Key=prefix + "segments.json.out")["Body"].read().decode()
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    return {line["input"][key]: line["output"]["usersList"] for line in lines if line["error"] is None}


def test_segments_load_each_items_audience_and_a_rerun_replaces_them(segments_dag, world, tmp_path):
    run = segments_dag.test(logical_date=RUN_AT)
    assert run.state == "success", task_states(run)
    (version,) = affinity_versions(world)
    rows = segments(tmp_path / "cache.duckdb")
    items = sorted({r[0] for r in rows})
    assert len(items) == 24 and NEW_ARRIVAL not in items, "25 items queried, the new arrival unanswerable"
    assert {r[3] for r in rows} == {version["solutionVersionArn"]}
    assert {r[4] for r in rows} == {RUN_AT.replace(tzinfo=None)}
    answered = output_segments(world, xcom(run, "segment_users"))
    assert {item: [r[2] for r in rows if r[0] == item] for item in items} == answered
    assert all([r[1] for r in rows if r[0] == item] == list(range(1, 6)) for item in items)

    loaded = xcom(run, "load_segments")
    assert loaded["error_lines"] == 1 and loaded["loaded"] == 24 and loaded["inserted"] == len(rows)
    report_key = xcom(run, "plan")["output_prefix"].removesuffix("output/") + "report.json"
    report = json.loads(world.s3.get_object(Bucket=world.bucket, Key=report_key)["Body"].read())
    assert report["error_lines"] == 1 and report["problems"][0]["id"] == NEW_ARRIVAL

    later = segments_dag.test(logical_date=RUN_AT + timedelta(hours=3))
    assert later.state == "success", task_states(later)
    assert len(affinity_versions(world)) == 1, "a run in the same retrain period trains nothing"
    again = segments(tmp_path / "cache.duckdb")
    assert len(again) == len(rows), "a rerun replaces each item's rows, never adds to them"
    assert {r[4] for r in again} == {(RUN_AT + timedelta(hours=3)).replace(tzinfo=None)}
    assert xcom(later, "load_segments")["deleted"] == len(rows)


def test_a_retried_run_finds_its_job_and_reloads_the_same_rows(segments_dag, world, tmp_path):
    moment = RUN_AT + timedelta(hours=9)
    first = segments_dag.test(logical_date=moment, run_after=moment)
    retry = segments_dag.test(logical_date=moment, run_after=moment)  # same run id: a retry
    assert (first.state, retry.state) == ("success", "success"), task_states(retry)
    job = xcom(retry, "segment_users")
    assert job == xcom(first, "segment_users")
    name = job.rsplit("/", 1)[1]
    jobs = world.personalize.list_batch_segment_jobs()["batchSegmentJobs"]
    assert [j["jobName"] for j in jobs].count(name) == 1
    loaded = xcom(retry, "load_segments")
    assert loaded["deleted"] == loaded["inserted"] == len(segments(tmp_path / "cache.duckdb"))


def test_a_user_filter_is_created_in_the_champions_group_and_the_segments_go_through_it(
    segments_dag, world, monkeypatch, tmp_path
):
    viewers = 'INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("View")'
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, segments={**SEGMENTS, "filter": viewers})
    run = load_dag("shop__segments").test(logical_date=RUN_AT + timedelta(hours=6))
    assert run.state == "success", task_states(run)
    described = world.personalize.describe_filter(filterArn=xcom(run, "segment_filter"))["filter"]
    assert (described["datasetGroupArn"], described["filterExpression"]) == (world.group, viewers)
    job = world.personalize.describe_batch_segment_job(batchSegmentJobArn=xcom(run, "segment_users"))
    assert job["batchSegmentJob"]["filterArn"] == described["filterArn"]
    assert xcom(run, "load_segments")["loaded"] == 24


@pytest.fixture(scope="module")
def catalogue(world):
    """The champion's dataset group gets an Items dataset (each product's CATEGORY); returns the categories
    of the products on sale at the run."""
    import csv
    import io

    p = world.personalize
    con = duckdb.connect(str(world.warehouse), read_only=True)
    products = con.execute(
        "SELECT product_id, any_value(category) FROM products WHERE category <> 'dup' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    con.close()
    body = io.StringIO()
    csv.writer(body, lineterminator="\n").writerows([("ITEM_ID", "CATEGORY"), *products])
    key = "exports/shop/v1/items/part-00000.csv"
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=body.getvalue().encode())
    fields = [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "CATEGORY", "type": "string", "categorical": True},
    ]
    schema = p.create_schema(
        name="shop-items",
        schema=json.dumps(
            {
                "type": "record",
                "name": "Items",
                "namespace": "com.amazonaws.personalize.schema",
                "fields": fields,
            }
        ),
    )["schemaArn"]
    dataset = p.create_dataset(
        name="shop-items", schemaArn=schema, datasetGroupArn=world.group, datasetType="Items"
    )["datasetArn"]
    wait_active(p.describe_dataset, "dataset", datasetArn=dataset)
    job = p.create_dataset_import_job(
        jobName="shop-items",
        datasetArn=dataset,
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{world.bucket}/{key}"},
    )["datasetImportJobArn"]
    wait_active(p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job)
    return {category for _, category in products if category != "late"}  # p999 comes out after the run


def test_attribute_segments_load_each_querys_audience(world, catalogue, monkeypatch, tmp_path, airflow_db):
    """aws-item-attribute-affinity on the catalogue's categories; a category no item has is an error line."""
    attributes = {**SEGMENTS, "recipe": "aws-item-attribute-affinity", "query": "shop/segment_categories.sql"}
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket, segments=attributes)
    connect(monkeypatch, world, cache_path=tmp_path / "cache.duckdb")
    run = load_dag("shop__segments").test(logical_date=RUN_AT)
    assert run.state == "success", task_states(run)
    (version,) = recipe_versions(world, "aws-item-attribute-affinity")
    rows = segments(tmp_path / "cache.duckdb")
    assert sorted({r[0] for r in rows}) == sorted(f'ITEMS.CATEGORY = "{c}"' for c in catalogue)
    assert {r[3] for r in rows} == {version["solutionVersionArn"]}
    answered = output_segments(world, xcom(run, "segment_users"), key="itemAttributes")
    assert {query: [r[2] for r in rows if r[0] == query] for query in answered} == answered
    loaded = xcom(run, "load_segments")
    assert (loaded["loaded"], loaded["error_lines"]) == (len(catalogue), 1), (
        "the duplicate row's 'dup' category"
    )


def test_before_the_first_promotion_the_run_is_skipped(world, monkeypatch, tmp_path, airflow_db):
    states = run_before_any_promotion(world, monkeypatch, tmp_path, "shop__segments", segments=SEGMENTS)
    assert states["plan"] == "skipped" and states["load_segments"] == "skipped", states
    assert not (tmp_path / "cache.duckdb").exists()


def test_bad_output_lines_are_counted_and_an_empty_segment_replaces_older_rows(world, tmp_path):
    """A handmade job output: error, malformed and unknown lines are counted in the report, never loaded;
    a segment answered with no user empties that item's older rows."""
    from personalize_pipelines.export import run_key
    from personalize_pipelines.layout import UseCaseLayout
    from personalize_pipelines.recommendation_cache import ITEM_SEGMENTS, replace_rows
    from personalize_pipelines.segments import load_segments

    use_case = _use_case(world.bucket, SEGMENTS)
    run_id = "manual__handmade"
    run = UseCaseLayout.for_use_case(use_case).batch_run(run_key("shop", run_id), "segments")
    world.s3.put_object(
        Bucket=world.bucket,
        Key=run.input,
        Body=b"".join(json.dumps({"itemId": item}).encode() + b"\n" for item in ("p1", "p2", "p3", "p4")),
    )
    lines = [
        {"input": {"itemId": "p1"}, "output": {"usersList": ["u1", "u2"]}, "error": None},
        {"input": {"itemId": "p2"}, "output": None, "error": "Item p2 has no interactions"},
        {"input": {"itemId": "p3"}, "output": {"recommendedItems": ["u1"]}, "error": None},
        {"input": {"itemId": "stranger"}, "output": {"usersList": ["u1"]}, "error": None},
        {"input": {"itemId": "p4"}, "output": {"usersList": []}, "error": None},
    ]
    world.s3.put_object(
        Bucket=world.bucket,
        Key=run.output + "segments.json.out",
        Body=("\n".join(json.dumps(line) for line in lines) + "\n{not json\n").encode(),
    )
    cache = tmp_path / "cache.duckdb"
    con = duckdb.connect(str(cache))
    old = [(item, 1, "u-old", None) for item in ("p1", "p2", "p4")]
    replace_rows(
        con,
        dialect="duckdb",
        table="segments",
        rows=old,
        layout=ITEM_SEGMENTS,
        solution_version="old",
        generated_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    con.close()

    result = load_segments(
        world.s3,
        use_case=use_case,
        prepared={"job_name": "handmade", "generated_at": RUN_AT.isoformat()},
        solution_version_arn="sv-affinity",
        run_id=run_id,
        open_cache=lambda: (duckdb.connect(str(cache)), "duckdb", str(cache)),
    )
    assert {k: result[k] for k in ("lines", "loaded", "error_lines", "malformed_lines", "unknown_ids")} == {
        "lines": 6,
        "loaded": 2,
        "error_lines": 1,
        "malformed_lines": 2,
        "unknown_ids": 1,
    }
    assert segments(cache) == [
        ("p1", 1, "u1", "sv-affinity", RUN_AT.replace(tzinfo=None)),
        ("p1", 2, "u2", "sv-affinity", RUN_AT.replace(tzinfo=None)),
        ("p2", 1, "u-old", "old", datetime(2026, 10, 1)),  # its error keeps the older audience
    ]
    report = json.loads(world.s3.get_object(Bucket=world.bucket, Key=run.report)["Body"].read())
    assert report["malformed_lines"] == 2 and {p["id"] for p in report["problems"]} >= {
        "p2",
        "p3",
        "stranger",
    }


def _use_case(bucket: str, segments: dict, **changes):
    from personalize_pipelines.config import UseCase
    from tests.conftest import ROOT

    document = yaml.safe_load((ROOT / "include/config/shop.yaml").read_text())
    document["s3"]["bucket"] = bucket
    document["serving"]["segments"] = segments
    document.update(changes)
    return UseCase.model_validate({"name": "shop", **document})


@pytest.mark.parametrize(
    ("segments", "changes", "message"),
    [
        ({**SEGMENTS, "recipe": "aws-user-personalization"}, {}, "serving.segments.recipe"),
        (
            {**SEGMENTS, "recipe": "aws-item-attribute-affinity"},
            {"items": None},
            "aws-item-attribute-affinity queries item attributes.*items dataset",
        ),
        ({**SEGMENTS, "filter": 'EXCLUDE ItemID WHERE Items.CATEGORY IN ("x")'}, {}, "is not a user filter"),
        ({**SEGMENTS, "num_results": 0}, {}, "serving.segments.num_results"),
    ],
)
def test_a_segments_config_that_cannot_work_says_why(segments, changes, message):
    with pytest.raises(ValidationError, match=message):
        _use_case("personalize-demo", segments, **changes)


def test_an_affinity_recipe_cannot_be_a_challenger():
    from personalize_pipelines.config import SolutionSpec

    with pytest.raises(ValidationError, match="finds users for items.*serving.segments"):
        SolutionSpec(name="audiences", recipe="aws-item-affinity")


def test_a_missing_query_file_is_named(tmp_path):
    from personalize_pipelines.config import ConfigError, load_use_case
    from tests.conftest import ROOT

    document = yaml.safe_load((ROOT / "include/config/shop.yaml").read_text())
    document["serving"]["segments"] = {**SEGMENTS, "query": "shop/nowhere.sql"}
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="serving.segments.query: SQL file 'shop/nowhere.sql' not found"):
        load_use_case(path, sql_root=ROOT / "include/sql")


def test_more_queries_than_one_job_takes_fail_with_the_limit(world):
    from personalize_pipelines.segments import queries_to_segment
    from personalize_pipelines.serving import ServingError
    from tests.conftest import EXAMPLE

    use_case = _use_case(
        world.bucket, {**SEGMENTS, "recipe": "aws-item-attribute-affinity", "query": "shop/segment_items.sql"}
    )
    use_case.bind_project(EXAMPLE)
    rows = [{"item_attributes": f'ITEMS.CATEGORY = "cat{i}"'} for i in range(11)]
    with pytest.raises(ServingError, match="selected 11 item-attribute queries.*at most 10"):
        queries_to_segment(lambda sql: rows, use_case=use_case, moment=RUN_AT)
    assert queries_to_segment(lambda sql: rows[:10], use_case=use_case, moment=RUN_AT) == sorted(
        row["item_attributes"] for row in rows[:10]
    )
