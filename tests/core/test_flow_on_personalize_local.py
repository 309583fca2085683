"""The core pieces in the order the train DAG uses them, against personalize-local's real batch jobs.

An export version (training interactions + holdout) is published to the endpoint's S3, imported and
trained with two recipes, batch inference runs for the holdout users on each, and the output is read,
evaluated, gated and recorded in the registry, twice (the second run compares against the first run's
champion).
"""

from __future__ import annotations

import json

import pytest

from personalize_pipelines.evaluation import (
    Evaluated,
    batch_input_lines,
    evaluate,
    evaluation_html,
    evaluation_report,
    read_batch_output,
    read_catalog,
    read_holdout,
    sample_users,
)
from personalize_pipelines.gate import decide
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import VersionWriter
from personalize_pipelines.registry import (
    RegistryLocation,
    evaluation_history,
    history,
    promote,
    read_champion,
    record_evaluation,
)
from tests.local_endpoint.conftest import (
    INTERACTIONS_SCHEMA,
    ROLE,
    interactions_csv,
    make_clients,
    unique,
    wait_for,
)

PREFIX = "personalize/shop"
HOLDOUT_PER_USER = 3


def split_by_time(csv_text: str) -> tuple[str, str]:
    """Each user's latest interactions go to the holdout, the rest to training (the export's shape)."""
    header, *rows = csv_text.strip().split("\n")
    by_user: dict[str, list[str]] = {}
    for row in rows:
        by_user.setdefault(row.split(",")[0], []).append(row)
    train, holdout = [header], [header]
    for user_rows in by_user.values():
        user_rows.sort(key=lambda r: int(r.split(",")[2]))
        train += user_rows[:-HOLDOUT_PER_USER]
        holdout += user_rows[-HOLDOUT_PER_USER:]
    return "\n".join(train) + "\n", "\n".join(holdout) + "\n"


@pytest.fixture(scope="module")
def world(local_endpoint):
    clients = make_clients(local_endpoint)
    bucket = unique("core-flow")
    clients.s3.create_bucket(Bucket=bucket)
    train_csv, holdout_csv = split_by_time(interactions_csv(users=60, per_user=25))
    writer = VersionWriter(client=clients.s3, bucket=bucket, use_case_prefix=PREFIX, version="v1")
    writer.put_bytes("interactions/part-00000.csv", train_csv.encode(), content_type="text/csv")
    writer.put_bytes("holdout/part-00000.csv", holdout_csv.encode(), content_type="text/csv")
    writer.commit({"use_case": "shop"})

    p = clients.personalize
    group = p.create_dataset_group(name=unique("shop"))["datasetGroupArn"]
    wait_for(p.describe_dataset_group, "datasetGroup", datasetGroupArn=group)
    schema = p.create_schema(name=unique("interactions"), schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    dataset = p.create_dataset(
        name=unique("interactions"), schemaArn=schema, datasetGroupArn=group, datasetType="Interactions"
    )["datasetArn"]
    wait_for(p.describe_dataset, "dataset", datasetArn=dataset)
    job = p.create_dataset_import_job(
        jobName=unique("import"),
        datasetArn=dataset,
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/{PREFIX}/v1/interactions/"},
    )
    assert (
        wait_for(
            p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job["datasetImportJobArn"]
        )["status"]
        == "ACTIVE"
    )
    versions = {}
    for recipe in ("aws-user-personalization", "aws-popularity-count"):
        solution = p.create_solution(
            name=unique(recipe), datasetGroupArn=group, recipeArn=f"arn:aws:personalize:::recipe/{recipe}"
        )["solutionArn"]
        wait_for(p.describe_solution, "solution", solutionArn=solution)
        version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        assert (
            wait_for(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)["status"]
            == "ACTIVE"
        )
        versions[recipe] = {"solution": solution, "version": version}
    return {"clients": clients, "bucket": bucket, "group": group, "versions": versions}


def batch_evaluate(world, *, name, version_arn, users, relevant, catalog):
    clients, bucket = world["clients"], world["bucket"]
    run = unique(name)
    clients.s3.put_object(Bucket=bucket, Key=f"batch/{run}/in/users.json", Body=batch_input_lines(users))
    job = clients.personalize.create_batch_inference_job(
        jobName=run,
        solutionVersionArn=version_arn,
        roleArn=ROLE,
        numResults=25,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/batch/{run}/in/users.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/batch/{run}/out/"}},
    )["batchInferenceJobArn"]
    done = wait_for(
        clients.personalize.describe_batch_inference_job, "batchInferenceJob", batchInferenceJobArn=job
    )
    assert done["status"] == "ACTIVE", done.get("failureReason")
    output = read_batch_output(
        clients.s3, bucket=bucket, prefix=f"batch/{run}/out/", expected_users=set(users)
    )
    metrics = evaluate(output.recommendations, {u: relevant[u] for u in users}, catalog=catalog)
    return Evaluated(
        name=name, solution_version_arn=version_arn, metrics=metrics, batch=output.counts()
    ), output


def test_two_runs_evaluate_gate_and_record_the_champion(world):
    clients, bucket = world["clients"], world["bucket"]
    s3 = clients.s3
    export = UseCaseLayout(bucket=bucket, prefix=PREFIX).version("v1")
    holdout = read_holdout(s3, version=export)
    catalog = read_catalog(s3, version=export)
    users = sample_users(holdout.users, max_users=40, seed=1)
    assert len(users) == 40 and holdout.rows == 60 * HOLDOUT_PER_USER

    evaluated = {}
    for recipe, arns in world["versions"].items():
        evaluated[recipe], output = batch_evaluate(
            world,
            name=recipe,
            version_arn=arns["version"],
            users=users,
            relevant=holdout.relevant,
            catalog=catalog,
        )
        assert output.counts() == {
            "lines": 40,
            "users_recommended": 40,
            "error_lines": 0,
            "malformed_lines": 0,
            "unknown_users": 0,
            "duplicate_users": 0,
        }
        assert (
            evaluated[recipe].metrics["users_evaluated"] == 40
            and evaluated[recipe].metrics["users_missing"] == 0
        )
    personal, popular = evaluated["aws-user-personalization"], evaluated["aws-popularity-count"]
    # two taste groups: a personalized model finds each user's group, a popularity list cannot
    assert personal.metrics["ndcg_at_10"] > popular.metrics["ndcg_at_10"]
    assert personal.metrics["coverage"] > popular.metrics["coverage"]

    location = RegistryLocation(bucket=bucket, use_case_prefix=PREFIX)
    first = decide(champion=None, challengers=[popular, personal])
    assert first.promote and first.winner is personal
    promoted = promote(
        s3,
        location=location,
        solution_version_arn=personal.solution_version_arn,
        solution_arn=world["versions"]["aws-user-personalization"]["solution"],
        campaign_arn="arn:aws:personalize:us-east-1:000000000000:campaign/shop",
        recipe="aws-user-personalization",
        metrics=personal.metrics,
        export_version="v1",
        dataset_group_arn=world["group"],
        promotion_id="run-1",
    )
    report = evaluation_report(
        use_case="shop",
        export_version="v1",
        champion=None,
        challengers=[popular, personal],
        decision=first,
        holdout={"users": len(users)},
        run_id="run-1",
    )
    record_evaluation(s3, location=location, report=report, evaluation_id="run-1")

    # run two: the champion from the registry, re-evaluated on the same users, against a weaker challenger
    champion_entry = read_champion(s3, location=location)
    assert champion_entry == promoted
    champion, _ = batch_evaluate(
        world,
        name="champion",
        version_arn=champion_entry.solution_version_arn,
        users=users,
        relevant=holdout.relevant,
        catalog=catalog,
    )
    assert champion.metrics == personal.metrics  # same model, same users: same numbers
    second = decide(champion=champion, challengers=[popular], min_relative_lift=0.05)
    assert not second.promote
    assert second.reason.startswith("challenger aws-popularity-count ndcg_at_10")
    report2 = evaluation_report(
        use_case="shop",
        export_version="v1",
        champion=champion,
        challengers=[popular],
        decision=second,
        run_id="run-2",
    )
    record_evaluation(s3, location=location, report=report2, evaluation_id="run-2")

    assert read_champion(s3, location=location) == promoted
    assert [h.promotion_id for h in history(s3, location=location)] == ["run-1"]
    past = evaluation_history(s3, location=location)
    assert [r["run_id"] for r in past] == ["run-1", "run-2"]
    page = evaluation_html(report2, history=past[:-1])
    assert "aws-popularity-count" in page and "KEEP CHAMPION" in page and "<svg" in page
