"""Recommendation quality measured through the wire, as a client of personalize-local sees it.

On the MovieLens fixture, each user's latest 10% of interactions (at least one) is held out; the rest is
uploaded to the endpoint's S3 and imported, aws-popularity-count and aws-user-personalization-v2 are
trained and deployed through boto3, and every held-out user is asked for 10 items with
GetRecommendations. The shared metrics module scores the answers (the independent evaluation); each
version's own GetSolutionMetrics is reported beside it. The issue's bar: user-personalization beats
popularity on NDCG@10 by at least 30%.
"""

from __future__ import annotations

import json
import tempfile

import boto3
from botocore.config import Config

from bench.local_endpoint_serving import ROLE, SCHEMA, _served, _wait
from bench.training_quality import movielens, split_latest
from personalize_metrics import ranking_metrics

RECIPES = {"popularity": "aws-popularity-count", "user_personalization": "aws-user-personalization-v2"}


def run() -> dict:
    """Measure; flat numbers for ``build/bench.json``, prefixed ``wire_`` (measured through the endpoint)."""
    train_frame, held_out = split_latest(movielens())
    relevant = held_out.groupby("USER_ID")["ITEM_ID"].agg(set).to_dict()
    with tempfile.TemporaryDirectory() as state_dir, _served(state_dir) as url:
        options = {
            "endpoint_url": url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": Config(retries={"max_attempts": 3}),
        }
        s3, p = boto3.client("s3", **options), boto3.client("personalize", **options)
        runtime = boto3.client("personalize-runtime", **options)
        s3.create_bucket(Bucket="bench-quality")
        s3.put_object(
            Bucket="bench-quality",
            Key="train/interactions.csv",
            Body=train_frame[["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE"]].to_csv(index=False).encode(),
        )
        group = p.create_dataset_group(name="bench-quality")["datasetGroupArn"]
        _wait(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
        schema = p.create_schema(name="bench-quality", schema=json.dumps(SCHEMA))["schemaArn"]
        dataset = p.create_dataset(
            name="bench-quality", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
        )["datasetArn"]
        _wait(p.describe_dataset, "dataset", datasetArn=dataset)
        job = p.create_dataset_import_job(
            jobName="bench-quality",
            datasetArn=dataset,
            roleArn=ROLE,
            dataSource={"dataLocation": "s3://bench-quality/train/"},
        )
        _wait(
            p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
        )
        result: dict[str, float] = {}
        for name, recipe in RECIPES.items():
            solution = p.create_solution(
                name=f"bench-{recipe}",
                datasetGroupArn=group,
                recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
            )["solutionArn"]
            _wait(p.describe_solution, "solution", solutionArn=solution)
            version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
            _wait(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
            metrics = p.get_solution_metrics(solutionVersionArn=version)["metrics"]
            campaign = p.create_campaign(name=f"bench-{recipe}", solutionVersionArn=version)["campaignArn"]
            _wait(p.describe_campaign, "campaign", campaignArn=campaign)
            answers = {
                user: [
                    entry["itemId"]
                    for entry in runtime.get_recommendations(
                        campaignArn=campaign, userId=user, numResults=10
                    )["itemList"]
                ]
                for user in relevant
            }
            scored = ranking_metrics(answers, relevant, catalog=set(train_frame["ITEM_ID"]), ks=(10,))
            result[f"wire_ndcg_at_10_{name}"] = round(scored["ndcg_at_10"], 4)
            result[f"wire_solution_metrics_ndcg_at_10_{name}"] = round(
                metrics["normalized_discounted_cumulative_gain_at_10"], 4
            )
            result["wire_users_evaluated"] = scored["users_evaluated"]
    result["wire_lift_vs_popularity"] = round(
        result["wire_ndcg_at_10_user_personalization"] / result["wire_ndcg_at_10_popularity"] - 1.0, 3
    )
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
