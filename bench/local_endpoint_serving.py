"""GetRecommendations latency of personalize-local at 100 requests/s on loopback.

The endpoint runs as ``personalize-local serve`` in its own process, with a campaign trained on the MovieLens
fixture through the public API (S3 upload → import → aws-user-personalization-v2 → campaign); a boto3
client then sends requests on a fixed 100/s schedule for about 10 s and records each call's latency.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.config import Config

RATINGS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "movielens" / "ratings.csv"
RATE = 100
SECONDS = 10.0
ROLE = "arn:aws:iam::123456789012:role/bench"
RECIPE_ARN = "arn:aws:personalize:::recipe/aws-user-personalization-v2"
SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "version": "1.0",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_VALUE", "type": "float"},
    ],
}


def _interactions_csv() -> tuple[bytes, list[str]]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE"])
    users = set()
    with RATINGS.open() as handle:
        for row in csv.DictReader(handle):
            writer.writerow([row["userId"], row["movieId"], row["timestamp"], row["rating"]])
            users.add(row["userId"])
    return out.getvalue().encode(), sorted(users)


def _wait(describe, key: str, **arguments) -> dict:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        resource = describe(**arguments)[key]
        if resource["status"] in ("ACTIVE", "CREATE FAILED"):
            if resource["status"] != "ACTIVE":
                raise RuntimeError(f"{key} failed: {resource.get('failureReason')}")
            return resource
        time.sleep(0.05)
    raise TimeoutError(key)


def _deploy(url: str, options: dict) -> tuple[str, list[str]]:
    s3, p = boto3.client("s3", **options), boto3.client("personalize", **options)
    body, users = _interactions_csv()
    s3.create_bucket(Bucket="bench-serving")
    s3.put_object(Bucket="bench-serving", Key="ratings/interactions.csv", Body=body)
    group = p.create_dataset_group(name="bench-serving")["datasetGroupArn"]
    _wait(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    schema = p.create_schema(name="bench-serving", schema=json.dumps(SCHEMA))["schemaArn"]
    dataset = p.create_dataset(
        name="bench-serving", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
    )["datasetArn"]
    _wait(p.describe_dataset, "dataset", datasetArn=dataset)
    job = p.create_dataset_import_job(
        jobName="bench-serving",
        datasetArn=dataset,
        roleArn=ROLE,
        dataSource={"dataLocation": "s3://bench-serving/ratings/"},
    )
    _wait(p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"])
    solution = p.create_solution(name="bench-serving", datasetGroupArn=group, recipeArn=RECIPE_ARN)[
        "solutionArn"
    ]
    _wait(p.describe_solution, "solution", solutionArn=solution)
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    _wait(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    campaign = p.create_campaign(name="bench-serving", solutionVersionArn=version)["campaignArn"]
    _wait(p.describe_campaign, "campaign", campaignArn=campaign)
    return campaign, users


@contextlib.contextmanager
def _served(state_dir: str) -> Iterator[str]:
    """``personalize-local serve`` in its own process (as users run it), on a free loopback port."""
    script = Path(sys.executable).parent / "personalize-local"
    process = subprocess.Popen(
        [
            str(script),
            "serve",
            "--port",
            "0",
            "--state-dir",
            state_dir,
            "--phase-seconds",
            "0.01",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        if not line.startswith("personalize-local serving "):
            raise RuntimeError(f"personalize-local did not start: {line!r}")
        yield line.rsplit(" ", 1)[1]
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def run() -> dict:
    """Measure GetRecommendations p50/p99 at 100 requests/s for about 10 s."""
    with tempfile.TemporaryDirectory() as state_dir, _served(state_dir) as url:
        options = {
            "endpoint_url": url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": Config(retries={"max_attempts": 1}),
        }
        campaign, users = _deploy(url, options)
        runtime = boto3.client("personalize-runtime", **options)
        personalize = boto3.client("personalize", **options)
        for user in users[:20]:  # warm the connection pool and code paths
            runtime.get_recommendations(campaignArn=campaign, userId=user)
        baseline = _paced(lambda _: personalize.describe_recipe(recipeArn=RECIPE_ARN), seconds=2.0)
        latencies = _paced(lambda index: _recommend(runtime, campaign, users, index), seconds=SECONDS)
    return {
        "get_recommendations_p50_ms": _percentile(latencies, 50),
        "get_recommendations_p99_ms": _percentile(latencies, 99),
        "get_recommendations_max_ms": round(max(latencies), 2),
        "requests_per_second_target": RATE,
        "requests_per_second_achieved": round(len(latencies) / SECONDS, 1),
        "requests": len(latencies),
        # the same client and HTTP path without a model: what the edge and protocol cost
        "baseline_describe_recipe_p50_ms": _percentile(baseline, 50),
        "baseline_describe_recipe_p99_ms": _percentile(baseline, 99),
    }


def _recommend(runtime, campaign: str, users: list[str], index: int) -> None:
    user = users[index % len(users)] if index % 10 else f"new-user-{index}"  # 1 in 10 never seen
    items = runtime.get_recommendations(campaignArn=campaign, userId=user, numResults=25)["itemList"]
    if len(items) != 25:
        raise RuntimeError(f"expected 25 recommendations for {user}, got {len(items)}")


def _paced(call, *, seconds: float) -> list[float]:
    """Call on a fixed RATE schedule until ``seconds`` have passed; latencies in ms (stops by itself)."""
    latencies: list[float] = []
    start = time.perf_counter()
    index = 0
    while (due := start + index / RATE) < start + seconds:
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        elif time.perf_counter() > start + seconds:
            break
        sent = time.perf_counter()
        call(index)
        latencies.append((time.perf_counter() - sent) * 1000)
        index += 1
    return latencies


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(round(len(ordered) * percent / 100)) - 1)], 2)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
