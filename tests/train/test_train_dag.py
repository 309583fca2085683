"""The train DAG end to end with dag.test() (deferrals run inline) against personalize-local.

Two use cases share one exported version: `shop_gate` deploys a personalization model, is re-run (every
create step reuses what the first try made) and then sees a weaker popularity challenger kept out;
`shop_rollback` deploys popularity, has a better challenger fail its smoke test (rolled back), then
deploys it.
"""

from __future__ import annotations

import json

import pytest

from tests.train.conftest import (
    PERSONALIZED,
    POPULAR,
    WINDOW_END,
    campaign,
    publish_copy,
    registry,
    run_train,
    write_use_case,
)

NO_ITEMS = 'INCLUDE ItemID WHERE Items.CATEGORY IN ("no-such-category")'
DEPLOY = ("deploy.event_tracker", "deploy.campaign", "deploy.smoke_test", "deploy.promote_champion")


@pytest.fixture(scope="module")
def gate_case(config_dir, export_version, s3):
    write_use_case(config_dir, "shop_gate", solutions=[PERSONALIZED])
    publish_copy(s3, version=export_version, use_case="shop_gate")
    first_date = WINDOW_END.replace(day=2)
    return {
        "first": run_train("shop_gate", export_version, logical_date=first_date),
        "first_date": first_date,
    }


def test_the_first_run_deploys_and_records_the_champion(gate_case, s3, personalize, export_version):
    run = gate_case["first"]
    assert run.state == "success", run.tasks
    assert all(run.tasks[t] == "success" for t in DEPLOY)
    assert run.tasks["keep_champion"] == "skipped" and run.tasks["champion.batch_inference"] == "skipped"
    champion, history = registry(s3, "shop_gate")
    served = campaign(personalize, "shop_gate")
    assert served["status"] == "ACTIVE" and served["solutionVersionArn"] == champion.solution_version_arn
    assert champion.campaign_arn == served["campaignArn"] and champion.recipe == "aws-user-personalization"
    assert champion.export_version == export_version and champion.metrics["ndcg_at_10"] > 0
    assert [h.promotion_id for h in history] == [champion.promotion_id]
    tracker = personalize.describe_event_tracker(eventTrackerArn=champion.event_tracker_arn)["eventTracker"]
    assert (
        tracker["datasetGroupArn"] == champion.dataset_group_arn
        and tracker["trackingId"] == champion.tracking_id
    )
    summary = run.xcom("deploy.promote_champion")
    assert summary["promoted"] and summary["reason"].startswith("no champion yet")
    assert all(summary["sample_recommendations"].values()) and summary["cost"]["total_usd"] > 0
    report = json.loads(
        s3.get_object(Bucket="personalize-demo", Key=summary["report"]["json"].split("/", 3)[3])[
            "Body"
        ].read()
    )
    assert report["export_version"] == export_version and report["decision"]["promote"] is True
    assert report["challengers"][0]["metrics"]["users_evaluated"] > 100


def test_a_retried_run_reuses_every_resource(gate_case, s3, personalize, export_version):
    champion, _ = registry(s3, "shop_gate")
    rerun = run_train(
        "shop_gate", export_version, logical_date=gate_case["first_date"]
    )  # same run id: a retry
    assert rerun.state == "success", rerun.tasks
    group = champion.dataset_group_arn
    assert [g for g in personalize.list_dataset_groups()["datasetGroups"] if g["datasetGroupArn"] == group]
    assert (
        len(
            [
                g
                for g in personalize.list_dataset_groups()["datasetGroups"]
                if g["name"].startswith("shop_gate-")
            ]
        )
        == 1
    )
    datasets = personalize.list_datasets(datasetGroupArn=group)["datasets"]
    assert len(datasets) == 3
    for dataset in datasets:
        assert (
            len(personalize.list_dataset_import_jobs(datasetArn=dataset["datasetArn"])["datasetImportJobs"])
            == 1
        )
    solutions = personalize.list_solutions(datasetGroupArn=group)["solutions"]
    assert len(solutions) == 1
    versions = personalize.list_solution_versions(solutionArn=solutions[0]["solutionArn"])["solutionVersions"]
    assert [v["solutionVersionArn"] for v in versions] == [champion.solution_version_arn]
    batch = personalize.list_batch_inference_jobs(solutionVersionArn=champion.solution_version_arn)[
        "batchInferenceJobs"
    ]
    names = [job["jobName"] for job in batch]
    assert len(names) == len(set(names))  # the rerun also scored the champion (itself now): its own job name
    assert len([n for n in names if n.startswith("shop_gate-personalized-eval")]) == 1
    assert len(personalize.list_event_trackers(datasetGroupArn=group)["eventTrackers"]) == 1
    assert len([c for c in personalize.list_campaigns()["campaigns"] if c["name"] == "shop_gate"]) == 1
    again, history = registry(s3, "shop_gate")
    assert again == champion and len(history) == 1


def test_a_new_version_with_the_champions_data_trains_nothing(gate_case, s3, personalize, export_version):
    champion, _ = registry(s3, "shop_gate")
    publish_copy(s3, version=export_version, use_case="shop_gate", as_version="v-same-rows")
    run = run_train("shop_gate", "v-same-rows")
    assert run.state == "success", run.tasks
    assert set(run.tasks.values()) == {"skipped"}
    solutions = personalize.list_solutions(datasetGroupArn=champion.dataset_group_arn)["solutions"]
    versions = personalize.list_solution_versions(solutionArn=solutions[0]["solutionArn"])["solutionVersions"]
    assert [v["solutionVersionArn"] for v in versions] == [champion.solution_version_arn]
    assert registry(s3, "shop_gate")[0] == champion


def test_a_weaker_challenger_is_not_deployed(gate_case, s3, personalize, config_dir, export_version):
    champion, _ = registry(s3, "shop_gate")
    before = campaign(personalize, "shop_gate")
    write_use_case(config_dir, "shop_gate", solutions=[POPULAR])

    run = run_train("shop_gate", export_version)

    assert run.state == "success", run.tasks
    assert run.tasks["keep_champion"] == "success" and run.tasks["champion.batch_inference"] == "success"
    assert all(run.tasks[t] == "skipped" for t in DEPLOY)
    kept = run.xcom("keep_champion")
    assert kept["promoted"] is False and kept["serving"] == champion.solution_version_arn
    assert (
        kept["reason"].startswith("challenger popular ndcg_at_10")
        and "does not beat champion" in kept["reason"]
    )
    evaluation = run.xcom("evaluate_models")
    assert evaluation["models"]["champion"]["ndcg_at_10"] == pytest.approx(champion.metrics["ndcg_at_10"])
    assert registry(s3, "shop_gate") == (champion, registry(s3, "shop_gate")[1])
    assert campaign(personalize, "shop_gate") == before
    page = s3.get_object(Bucket="personalize-demo", Key=evaluation["report"]["html"].split("/", 3)[3])[
        "Body"
    ].read()
    assert b"KEEP CHAMPION" in page and b"promoted" in page  # the first run, in the past-runs table


@pytest.fixture(scope="module")
def rollback_case(config_dir, export_version, s3):
    write_use_case(config_dir, "shop_rollback", solutions=[POPULAR])
    publish_copy(s3, version=export_version, use_case="shop_rollback")
    first = run_train("shop_rollback", export_version)
    assert first.state == "success", first.tasks
    return first


def test_a_failed_smoke_test_rolls_the_campaign_back(
    rollback_case, s3, personalize, config_dir, export_version
):
    champion, history = registry(s3, "shop_rollback")
    assert champion.recipe == "aws-popularity-count"
    write_use_case(
        config_dir, "shop_rollback", solutions=[PERSONALIZED], campaign={"smoke_test_filter": NO_ITEMS}
    )

    run = run_train("shop_rollback", export_version)

    assert run.state == "failed"
    assert run.tasks["deploy.campaign"] == "success"  # the update to the better challenger went through
    assert run.tasks["deploy.smoke_test"] == "failed"
    assert run.tasks["deploy.rollback_campaign"] == "success"
    assert run.tasks["deploy.promote_champion"] == "upstream_failed"
    served = campaign(personalize, "shop_rollback")
    challenger = run.xcom("evaluate_models")["winner"]["solution_version_arn"]
    assert challenger != champion.solution_version_arn
    assert served["solutionVersionArn"] == champion.solution_version_arn
    assert served["latestCampaignUpdate"]["solutionVersionArn"] == champion.solution_version_arn
    assert served["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert registry(s3, "shop_rollback") == (champion, history)


def test_a_better_challenger_is_deployed(rollback_case, s3, personalize, config_dir, export_version):
    old, _ = registry(s3, "shop_rollback")
    write_use_case(config_dir, "shop_rollback", solutions=[PERSONALIZED])

    run = run_train("shop_rollback", export_version)

    assert run.state == "success", run.tasks
    summary = run.xcom("deploy.promote_champion")
    assert summary["promoted"] and "beats champion" in summary["reason"]
    champion, history = registry(s3, "shop_rollback")
    assert champion.recipe == "aws-user-personalization"
    assert champion.previous_solution_version_arn == old.solution_version_arn
    assert [h.solution_version_arn for h in history] == [
        old.solution_version_arn,
        champion.solution_version_arn,
    ]
    served = campaign(personalize, "shop_rollback")
    assert (
        served["campaignArn"] == old.campaign_arn
        and served["solutionVersionArn"] == champion.solution_version_arn
    )
    assert champion.metrics["ndcg_at_10"] > old.metrics["ndcg_at_10"] * 1.02


def test_a_long_lived_group_is_reimported_and_its_solution_retrained(
    config_dir, export_version, s3, personalize
):
    write_use_case(
        config_dir, "shop_live", solutions=[PERSONALIZED], training={"dataset_group": "long_lived"}
    )
    publish_copy(s3, version=export_version, use_case="shop_live")

    first = run_train("shop_live", export_version)
    second = run_train("shop_live", export_version)

    assert first.state == second.state == "success", (first.tasks, second.tasks)
    assert second.tasks["keep_champion"] == "success"  # the same data trains the same model: a tie keeps it
    groups = [
        g for g in personalize.list_dataset_groups()["datasetGroups"] if g["name"].startswith("shop_live-")
    ]
    assert len(groups) == 1
    group = groups[0]["datasetGroupArn"]
    for dataset in personalize.list_datasets(datasetGroupArn=group)["datasets"]:
        assert (
            len(personalize.list_dataset_import_jobs(datasetArn=dataset["datasetArn"])["datasetImportJobs"])
            == 2
        )
    (solution,) = personalize.list_solutions(datasetGroupArn=group)["solutions"]
    assert (
        len(personalize.list_solution_versions(solutionArn=solution["solutionArn"])["solutionVersions"]) == 2
    )
    champion, _ = registry(s3, "shop_live")
    assert champion.dataset_group_arn == group and champion.run_id == first.run.run_id
