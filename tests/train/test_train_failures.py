"""Personalize failures fail the task with Personalize's reason; the champion and its campaign stay as they were."""

from __future__ import annotations

import json

import pytest

from tests.train.conftest import (
    CAMPAIGN_FAILS,
    EXPORT_PREFIX,
    PERSONALIZED,
    POPULAR,
    UPDATE_FAILS,
    campaign,
    publish_copy,
    registry,
    run_train,
    write_use_case,
)

BUCKET = "personalize-demo"


@pytest.fixture(scope="module")
def serving(config_dir, export_version, s3, personalize):
    write_use_case(config_dir, "shop_failures", solutions=[POPULAR])
    publish_copy(s3, version=export_version, use_case="shop_failures")
    assert run_train("shop_failures", export_version).state == "success"
    return registry(s3, "shop_failures"), campaign(personalize, "shop_failures")


def broken_copy(s3, *, version: str) -> str:
    """The version, republished with one interactions row whose TIMESTAMP is not a number (and so another
    interactions fingerprint)."""
    source, target = (
        f"{EXPORT_PREFIX}/shop_failures/{version}/",
        f"{EXPORT_PREFIX}/shop_failures/{version}-broken/",
    )
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=source)["Contents"]:
        key = obj["Key"]
        if "/evaluation/" in key:
            continue
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        if key.endswith("interactions/part-00000.csv"):
            header, first, rest = body.decode().split("\n", 2)
            fields = first.split(",")
            fields[2] = "yesterday"
            body = "\n".join([header, ",".join(fields), rest]).encode()
        if key.endswith("/manifest.json"):  # a changed row changes its dataset's fingerprint
            manifest = json.loads(body)
            manifest["datasets"]["interactions"]["fingerprint"] = "changed"
            body = json.dumps(manifest).encode()
        s3.put_object(Bucket=BUCKET, Key=target + key[len(source) :], Body=body)
    return f"{version}-broken"


def test_an_import_that_fails_fails_its_task_with_the_reason(serving, s3, personalize, export_version, capfd):
    version = broken_copy(s3, version=export_version)

    run = run_train("shop_failures", version)

    assert run.state == "failed"
    assert run.tasks["import.import_interactions"] == "failed"
    assert run.tasks["train_popular.solution"] == "upstream_failed"
    assert "column TIMESTAMP has value 'yesterday'" in capfd.readouterr().out
    assert (registry(s3, "shop_failures"), campaign(personalize, "shop_failures")) == serving


def test_a_training_that_fails_fails_its_task_with_the_reason(
    serving, s3, personalize, config_dir, export_version, capfd
):
    starved = {
        **POPULAR,
        "event_value_threshold": 1e9,
    }  # no interaction is worth that much: nothing to train on
    write_use_case(config_dir, "shop_failures", solutions=[starved])

    run = run_train("shop_failures", export_version)

    assert run.state == "failed"
    assert run.tasks["train_popular.solution_version"] == "failed"
    assert (
        run.tasks["evaluate_models"] == "upstream_failed"
        and run.tasks["deploy.campaign"] == "upstream_failed"
    )
    assert "Insufficient data: 0 interactions after filtering" in capfd.readouterr().out
    assert (registry(s3, "shop_failures"), campaign(personalize, "shop_failures")) == serving


def test_a_campaign_that_fails_fails_the_deploy_and_records_no_champion(
    config_dir, export_version, s3, capfd
):
    write_use_case(config_dir, CAMPAIGN_FAILS, solutions=[POPULAR])
    publish_copy(s3, version=export_version, use_case=CAMPAIGN_FAILS)

    run = run_train(CAMPAIGN_FAILS, export_version)

    assert run.state == "failed"
    assert run.tasks["deploy.campaign"] == "failed"
    assert run.tasks["deploy.smoke_test"] == run.tasks["deploy.promote_champion"] == "upstream_failed"
    assert (
        run.tasks["deploy.rollback_campaign"] == "skipped"
    )  # nothing served before: nothing to roll back to
    assert f"Forced failure: '{CAMPAIGN_FAILS}'" in capfd.readouterr().out
    assert registry(s3, CAMPAIGN_FAILS) == (None, [])


def test_a_campaign_update_that_fails_fails_the_deploy_and_the_champion_keeps_serving(
    config_dir, export_version, s3, personalize, capfd
):
    write_use_case(config_dir, UPDATE_FAILS, solutions=[POPULAR])
    publish_copy(s3, version=export_version, use_case=UPDATE_FAILS)
    assert run_train(UPDATE_FAILS, export_version).state == "success"
    champion, history = registry(s3, UPDATE_FAILS)
    write_use_case(
        config_dir, UPDATE_FAILS, solutions=[PERSONALIZED]
    )  # a better challenger: the gate lets it through

    run = run_train(UPDATE_FAILS, export_version)

    assert run.state == "failed"
    assert run.tasks["deploy.campaign"] == "failed"
    assert run.tasks["deploy.smoke_test"] == run.tasks["deploy.promote_champion"] == "upstream_failed"
    assert (
        run.tasks["deploy.rollback_campaign"] == "success"
    )  # the campaign still serves the champion: no update
    assert f"Forced failure: 'update:{UPDATE_FAILS}'" in capfd.readouterr().out
    served = campaign(personalize, UPDATE_FAILS)
    challenger = run.xcom("evaluate_models")["winner"]["solution_version_arn"]
    assert challenger != champion.solution_version_arn
    assert (
        served["latestCampaignUpdate"]["status"],
        served["latestCampaignUpdate"]["solutionVersionArn"],
    ) == ("CREATE FAILED", challenger)
    assert (served["status"], served["solutionVersionArn"]) == ("ACTIVE", champion.solution_version_arn)
    assert registry(s3, UPDATE_FAILS) == (champion, history)
