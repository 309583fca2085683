"""The train workflow without Airflow: the plan of a run, the smoke test, the rollback target, the cost."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.registry import promote
from personalize_pipelines.training import SameDataAsChampion, TrainRunError
from personalize_pipelines.training.deploy import rollback_target, run_cost, smoke_test
from personalize_pipelines.training.plan import plan_run
from tests.conftest import EXAMPLE


@pytest.fixture
def shop(bucket):
    uc = EXAMPLE.use_case("shop")
    return uc.model_copy(update={"s3": uc.s3.model_copy(update={"bucket": bucket})})


def put_json(s3, bucket, key, document):
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())


def test_a_plan_names_the_folders_of_the_version_and_of_its_evaluation(s3, bucket, shop):
    folder = f"{shop.s3_prefix}/v1"
    put_json(
        s3,
        bucket,
        f"{folder}/manifest.json",
        {
            "files": [
                {"key": "interactions/part-00000.csv", "bytes": 100},
                {"key": "holdout/part-00000.csv", "bytes": 7},
                {"key": "items/part-00000.csv", "bytes": 20},
            ],
            "datasets": {"interactions": {"rows": 3}},
        },
    )
    for kind in ("interactions", "items", "users"):
        put_json(s3, bucket, f"{folder}/schemas/{kind}.json", {"type": "record", "name": kind})

    plan = plan_run(s3, shop, version="v1", run_id="r1")

    evaluation = f"s3://{bucket}/{folder}/evaluation/{plan['run_key']}/"
    assert plan["eval_uri"] == evaluation
    assert plan["data__items"] == f"s3://{bucket}/{folder}/items/"
    assert plan["batch_output__champion"] == f"{evaluation}batch/champion/"
    assert plan["ingested_bytes"] == 120 and plan["rows"] == {"interactions": 3}
    assert json.loads(plan["schema_json__users"]) == {"name": "users", "type": "record"}


def test_a_plan_refuses_a_version_without_manifest_or_schema(s3, bucket, shop):
    with pytest.raises(TrainRunError, match=rf"s3://{bucket}/.*/v1/manifest.json does not exist"):
        plan_run(s3, shop, version="v1", run_id="r1")
    put_json(s3, bucket, f"{shop.s3_prefix}/v1/manifest.json", {"files": []})
    with pytest.raises(
        TrainRunError, match="has no schemas/interactions.json, but shop imports interactions"
    ):
        plan_run(s3, shop, version="v1", run_id="r1")


def put_version(s3, bucket, shop, version, fingerprints):
    folder = f"{shop.s3_prefix}/{version}"
    datasets = {kind: {"rows": 3, "fingerprint": value} for kind, value in fingerprints.items()}
    put_json(s3, bucket, f"{folder}/manifest.json", {"files": [], "datasets": datasets})
    for kind in ("interactions", "items", "users"):
        put_json(s3, bucket, f"{folder}/schemas/{kind}.json", {"type": "record", "name": kind})


def test_a_version_with_the_champions_data_is_not_trained_again(s3, bucket, shop):
    same = {"interactions": "3:aa", "holdout": "1:bb", "items": "2:cc", "users": "2:dd"}
    put_version(s3, bucket, shop, "v1", same)
    promote(
        s3,
        location=UseCaseLayout.for_use_case(shop).registry,
        solution_version_arn="arn:aws:personalize:us-east-1:000000000000:solution/s/v1",
        solution_arn="arn:aws:personalize:us-east-1:000000000000:solution/s",
        campaign_arn="arn:aws:personalize:us-east-1:000000000000:campaign/shop",
        recipe="arn:aws:personalize:::recipe/aws-user-personalization-v2",
        metrics={"ndcg_at_10": 0.1},
        export_version="v1",
        dataset_group_arn="arn:aws:personalize:us-east-1:000000000000:dataset-group/shop",
    )
    put_version(s3, bucket, shop, "v2", same)
    put_version(s3, bucket, shop, "v3", {**same, "holdout": "1:ee"})  # the holdout is not imported
    put_version(s3, bucket, shop, "v4", {**same, "items": "2:ff"})

    for version in ("v2", "v3"):
        with pytest.raises(
            SameDataAsChampion, match=rf"{version} holds the same rows as v1.*same_data_trains"
        ):
            plan_run(s3, shop, version=version, run_id="r1")
    assert plan_run(s3, shop, version="v2", run_id="r1", same_data_trains=True)["version"] == "v2"
    assert plan_run(s3, shop, version="v4", run_id="r1")["version"] == "v4"
    assert plan_run(s3, shop, version="v1", run_id="r2")["version"] == "v1"  # a retry of the champion's own


class Runtime:
    """GetRecommendations answering from a table: a list of items, or an error message."""

    def __init__(self, answers):
        self.answers, self.requests = answers, []

    def get_recommendations(self, **request):
        self.requests.append(request)
        answer = self.answers[request["userId"]]
        if isinstance(answer, str):
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": answer}}, "Get")
        return {"itemList": [{"itemId": item} for item in answer]}


def test_the_smoke_test_passes_when_every_user_gets_recommendations():
    runtime = Runtime({"u1": ["a", "b"], "u2": ["c"]})
    answers = smoke_test(runtime, campaign_arn="arn:c", users=["u1", "u2"], filter_arn="arn:f")
    assert answers == {"u1": ["a", "b"], "u2": ["c"]}
    assert all(r["filterArn"] == "arn:f" and r["campaignArn"] == "arn:c" for r in runtime.requests)


def test_the_smoke_test_fails_naming_each_user_without_recommendations():
    runtime = Runtime({"u1": ["a"], "u2": [], "u3": "no such campaign"})
    with pytest.raises(TrainRunError, match="for 2 of 3 users") as failed:
        smoke_test(runtime, campaign_arn="arn:c", users=["u1", "u2", "u3"])
    assert "user u2: no recommendations" in str(failed.value)
    assert "user u3: no such campaign" in str(failed.value)
    assert "filterArn" not in runtime.requests[0]


def test_a_failed_deploy_rolls_back_to_the_champion_when_there_is_one():
    assert rollback_target({"solution_version_arn": "arn:champion"}) == "arn:champion"
    assert rollback_target({}) is None


class Personalize:
    def describe_solution_version(self, *, solutionVersionArn):
        return {"solutionVersion": {"solutionVersionArn": solutionVersionArn, "trainingHours": 2.0}}

    def describe_campaign(self, *, campaignArn):
        return {"campaign": {"campaignArn": campaignArn, "minProvisionedTPS": 1}}


def test_the_cost_prices_one_batch_per_scored_model_and_the_deployed_campaign():
    trained = [{"solution_version_arn": "arn:a"}, {"solution_version_arn": "arn:b"}]
    kept = run_cost(
        Personalize(), trained=trained, champion={"x": 1}, sample={"users": 100}, ingested_bytes=0
    )
    deployed = run_cost(
        Personalize(), trained=trained, champion={}, sample={"users": 100}, ingested_bytes=0, campaign_arn="c"
    )
    batch = {line["item"]: line["quantity"] for line in kept["lines"]}["batch inference"]
    assert batch == pytest.approx(0.3)  # 100 users × (two challengers + the champion)
    assert {line["item"]: line["quantity"] for line in deployed["lines"]}["batch inference"] == pytest.approx(
        0.2
    )
    assert any(line["item"].startswith("campaign c") for line in deployed["lines"])
    assert not any(line["item"].startswith("campaign") for line in kept["lines"])
