"""The movies use case (a VIDEO_ON_DEMAND domain) exports domain-valid datasets from MovieLens: the
domain's required item fields non-null in the schema, and the titles without them dropped and counted."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

from personalize_pipelines.warehouse.movielens import build
from tests.conftest import ROOT

MOVIELENS = ROOT / "tests" / "fixtures" / "movielens"
WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)


def movielens_counts() -> dict[str, int]:
    """What the export must publish and drop, counted from the CSVs on their own."""
    with (MOVIELENS / "movies.csv").open(newline="") as handle:
        movies = list(csv.DictReader(handle))
    with (MOVIELENS / "ratings.csv").open(newline="") as handle:
        ratings = list(csv.DictReader(handle))
    return {
        "ratings": len(ratings),
        "titles": len(movies),
        "without_genres": sum(m["genres"] == "(no genres listed)" for m in movies),
        "with_genres_without_year": sum(
            m["genres"] != "(no genres listed)" and not re.search(r"\((\d{4})\)\s*$", m["title"])
            for m in movies
        ),
    }


def test_the_movies_export_is_a_valid_video_on_demand_dataset(
    airflow_db, s3_endpoint, s3, monkeypatch, tmp_path
):
    warehouse = build(tmp_path / "movies.duckdb", source=MOVIELENS, end=WINDOW_END)
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOVIES_WAREHOUSE", json.dumps({"conn_type": "duckdb", "host": str(warehouse)})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}),
    )
    from tests.airflow_compat import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "movies.py"))
    assert bag.import_errors == {}
    run = bag.dags["movies__export"].test(logical_date=WINDOW_END)
    assert run.state == "success"

    get = lambda key: s3.get_object(Bucket="personalize-demo", Key=key)["Body"].read()  # noqa: E731
    latest = json.loads(get("exports/movies/latest.json"))
    folder = f"exports/movies/{latest['version']}"
    manifest = json.loads(get(f"{folder}/manifest.json"))
    items_schema = json.loads(get(f"{folder}/schemas/items.json"))
    assert items_schema["fields"] == [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRES", "type": "string", "categorical": True},
        {"name": "CREATION_TIMESTAMP", "type": "long"},
    ]
    expected = movielens_counts()
    report = manifest["cleaning"]
    dropped = report["items"]["dropped"]
    assert dropped["missing_genres"] == expected["without_genres"]
    assert dropped["missing_creation_timestamp"] == expected["with_genres_without_year"]
    assert manifest["datasets"]["items"]["rows"] == expected["titles"] - sum(dropped.values())
    items = list(csv.DictReader(io.StringIO(get(f"{folder}/items/part-00000.csv").decode())))
    assert all(row["GENRES"] and row["CREATION_TIMESTAMP"] for row in items)
    interactions = list(csv.DictReader(io.StringIO(get(f"{folder}/interactions/part-00000.csv").decode())))
    assert {row["EVENT_TYPE"] for row in interactions} == {"Watch"}
    holdout_rows = manifest["datasets"]["holdout"]["rows"]
    assert len(interactions) + holdout_rows + sum(report["dropped"].values()) == expected["ratings"]
