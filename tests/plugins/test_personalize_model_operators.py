"""Solutions, training, campaigns, batch inference, trackers, filters and sensors against personalize-local."""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from botocore.exceptions import ClientError

from personalize_airflow.hooks.personalize import (
    PersonalizeEventsHook,
    PersonalizeResourceConflictError,
    PersonalizeResourceFailedError,
    PersonalizeRuntimeHook,
)
from personalize_airflow.operators.personalize import (
    PersonalizeCreateBatchInferenceJobOperator,
    PersonalizeCreateBatchSegmentJobOperator,
    PersonalizeCreateEventTrackerOperator,
    PersonalizeCreateFilterOperator,
    PersonalizeCreateOrUpdateCampaignOperator,
    PersonalizeCreateSolutionOperator,
    PersonalizeCreateSolutionVersionOperator,
)
from personalize_airflow.sensors.personalize import (
    PersonalizeBatchInferenceJobSensor,
    PersonalizeCampaignSensor,
    PersonalizeDatasetImportJobSensor,
    PersonalizeSolutionVersionSensor,
)
from personalize_airflow.triggers.personalize import PersonalizeWaiterTrigger
from tests.plugins.conftest import (
    RECIPE,
    ROLE,
    failing,
    imported_group,
    interactions_csv,
    make_context,
    run_deferrable,
    run_trigger,
    unique,
    wait_status,
)

FAST = {"waiter_delay": 1, "waiter_max_attempts": 120}


@pytest.fixture(scope="module")
def group(clients, bucket) -> str:
    """A dataset group with imported interactions, set up with plain boto3."""
    return imported_group(clients, bucket, csv=interactions_csv())


@pytest.fixture(scope="module")
def solution(clients, group) -> str:
    arn = clients["personalize"].create_solution(
        name=unique("solution"), datasetGroupArn=group, recipeArn=RECIPE
    )["solutionArn"]
    wait_status(clients["personalize"].describe_solution, "solution", solutionArn=arn)
    return arn


@pytest.fixture(scope="module")
def versions(clients, solution) -> list[str]:
    """Two ACTIVE solution versions of the module's solution."""
    p = clients["personalize"]
    arns = [p.create_solution_version(solutionArn=solution)["solutionVersionArn"] for _ in range(2)]
    for arn in arns:
        trained = wait_status(p.describe_solution_version, "solutionVersion", solutionVersionArn=arn)
        assert trained["status"] == "ACTIVE", trained
    return arns


def _version_names(p, solution: str) -> list[str]:
    summaries = p.list_solution_versions(solutionArn=solution)["solutionVersions"]
    return [
        p.describe_solution_version(solutionVersionArn=s["solutionVersionArn"])["solutionVersion"].get("name")
        for s in summaries
    ]


def test_solution_is_created_reused_and_refused_with_another_recipe(aws_default, clients, group):
    name = unique("sims")

    def create(recipe: str) -> str:
        return run_deferrable(
            PersonalizeCreateSolutionOperator(
                task_id="solution", name=name, dataset_group_arn=group, recipe_arn=recipe, **FAST
            ),
            make_context(),
        )

    arn = create("arn:aws:personalize:::recipe/aws-sims")
    assert create("arn:aws:personalize:::recipe/aws-sims") == arn
    solutions = clients["personalize"].list_solutions(datasetGroupArn=group)["solutions"]
    assert [s["name"] for s in solutions].count(name) == 1
    with pytest.raises(PersonalizeResourceConflictError, match="recipeArn: existing"):
        create(RECIPE)


def test_training_defers_and_a_retry_of_the_same_task_reuses_the_version(aws_default, clients, solution):
    context = make_context(run_id=unique("manual"), task_id="train")
    first_try = PersonalizeCreateSolutionVersionOperator(task_id="train", solution_arn=solution, **FAST)
    with pytest.raises(TaskDeferred) as deferred:
        first_try.execute(context)
    trigger = deferred.value.trigger
    assert (type(trigger), trigger.waiter_name) == (PersonalizeWaiterTrigger, "solution_version_complete")
    started = trigger.serialize()[1]["arn"]
    # The worker died while deferred; Airflow retries the task instance: same run, same task.
    retry = PersonalizeCreateSolutionVersionOperator(task_id="train", solution_arn=solution, **FAST)
    assert run_deferrable(retry, make_context(run_id=context["run_id"], task_id="train")) == started

    p = clients["personalize"]
    assert _version_names(p, solution).count(first_try.version_name(context)) == 1
    version = p.describe_solution_version(solutionVersionArn=started)["solutionVersion"]
    assert (version["status"], version["trainingMode"]) == ("ACTIVE", "FULL")
    assert context["ti"].xcoms["personalize_solution_version"]["route"].endswith(started.split("/", 1)[1])


def test_another_run_trains_another_version(aws_default, clients, solution, versions):
    a = PersonalizeCreateSolutionVersionOperator(
        task_id="train", solution_arn=solution, deferrable=False, **FAST
    )
    first = a.execute(make_context(run_id=unique("a"), task_id="train"))
    second = a.execute(make_context(run_id=unique("b"), task_id="train"))
    assert first != second


def test_failed_training_fails_with_the_reason_and_its_retry_trains_nothing_new(
    aws_default, clients, solution
):
    p = clients["personalize"]
    name = failing("training", 1)
    operator = PersonalizeCreateSolutionVersionOperator(
        task_id="train", solution_arn=solution, name=name, **FAST
    )
    with pytest.raises(PersonalizeResourceFailedError) as failure:
        run_deferrable(operator, make_context())
    failed = [
        p.describe_solution_version(solutionVersionArn=s["solutionVersionArn"])["solutionVersion"]
        for s in p.list_solution_versions(solutionArn=solution)["solutionVersions"]
    ]
    [version] = [v for v in failed if v.get("name") == name]
    assert version["status"] == "CREATE FAILED"
    assert version["failureReason"] in str(failure.value)

    with pytest.raises(PersonalizeResourceFailedError, match="CREATE FAILED"):
        run_deferrable(
            PersonalizeCreateSolutionVersionOperator(
                task_id="train", solution_arn=solution, name=name, **FAST
            ),
            make_context(),
        )
    assert _version_names(p, solution).count(name) == 1


def test_solution_version_sensor_pokes_and_defers(aws_default, clients, solution, versions):
    PersonalizeSolutionVersionSensor(
        task_id="sense", solution_version_arn=versions[0], deferrable=False, poke_interval=1
    ).execute(make_context())

    p = clients["personalize"]
    training = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    sensor = PersonalizeSolutionVersionSensor(task_id="sense", solution_version_arn=training, poke_interval=1)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    event = run_trigger(deferred.value.trigger)
    assert event == {"status": "success", "arn": training}
    sensor.execute_complete(make_context(), event)
    assert p.describe_solution_version(solutionVersionArn=training)["solutionVersion"]["status"] == "ACTIVE"


def test_sensor_on_a_failed_training_fails_with_the_reason(aws_default, clients, solution):
    p = clients["personalize"]
    arn = p.create_solution_version(solutionArn=solution, name=failing("training", 2))["solutionVersionArn"]
    wait_status(p.describe_solution_version, "solutionVersion", solutionVersionArn=arn)
    reason = p.describe_solution_version(solutionVersionArn=arn)["solutionVersion"]["failureReason"]
    with pytest.raises(PersonalizeResourceFailedError, match="CREATE FAILED") as failure:
        PersonalizeSolutionVersionSensor(
            task_id="sense", solution_version_arn=arn, deferrable=False, poke_interval=1
        ).execute(make_context())
    assert reason in str(failure.value)


def test_campaign_is_created_then_updated_to_a_new_version_then_left_alone(aws_default, clients, versions):
    p = clients["personalize"]
    name = unique("campaign")

    def deploy(version: str) -> tuple[str, dict]:
        context = make_context()
        arn = run_deferrable(
            PersonalizeCreateOrUpdateCampaignOperator(
                task_id="deploy", name=name, solution_version_arn=version, min_provisioned_tps=1, **FAST
            ),
            context,
        )
        return arn, context["ti"].xcoms

    arn, xcoms = deploy(versions[0])
    assert "previous_solution_version_arn" not in xcoms
    campaign = p.describe_campaign(campaignArn=arn)["campaign"]
    assert (campaign["status"], campaign["solutionVersionArn"]) == ("ACTIVE", versions[0])

    assert deploy(versions[1]) == (arn, {**xcoms, "previous_solution_version_arn": versions[0]})
    campaign = p.describe_campaign(campaignArn=arn)["campaign"]
    assert (campaign["status"], campaign["solutionVersionArn"]) == ("ACTIVE", versions[1])
    assert campaign["latestCampaignUpdate"]["status"] == "ACTIVE"

    updated_at = campaign["latestCampaignUpdate"]["creationDateTime"]
    assert deploy(versions[1]) == (arn, xcoms)
    again = p.describe_campaign(campaignArn=arn)["campaign"]
    assert again["latestCampaignUpdate"]["creationDateTime"] == updated_at, "no second update"
    assert [c["name"] for c in p.list_campaigns()["campaigns"]].count(name) == 1


def test_deferred_campaign_update_waits_for_the_latest_update(aws_default, clients, versions):
    p = clients["personalize"]
    arn = p.create_campaign(name=unique("campaign"), solutionVersionArn=versions[0], minProvisionedTPS=1)[
        "campaignArn"
    ]
    wait_status(p.describe_campaign, "campaign", campaignArn=arn)
    operator = PersonalizeCreateOrUpdateCampaignOperator(
        task_id="deploy", name=arn.rsplit("/", 1)[1], solution_version_arn=versions[1], **FAST
    )
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert (type(deferred.value.trigger), deferred.value.trigger.waiter_name) == (
        PersonalizeWaiterTrigger,
        "campaign_active",
    )
    assert (
        p.describe_campaign(campaignArn=arn)["campaign"]["latestCampaignUpdate"]["solutionVersionArn"]
        == versions[1]
    )
    event = run_trigger(deferred.value.trigger)
    assert operator.execute_complete(context, event) == arn
    assert p.describe_campaign(campaignArn=arn)["campaign"]["solutionVersionArn"] == versions[1]


def test_retry_during_a_campaign_update_waits_for_it_instead_of_updating_again(
    aws_default, clients, versions
):
    p = clients["personalize"]
    name = unique("campaign")
    arn = p.create_campaign(name=name, solutionVersionArn=versions[0])["campaignArn"]
    wait_status(p.describe_campaign, "campaign", campaignArn=arn)

    def deploy():
        return PersonalizeCreateOrUpdateCampaignOperator(
            task_id="deploy", name=name, solution_version_arn=versions[1], **FAST
        )

    with pytest.raises(TaskDeferred):  # first try: UpdateCampaign sent, then the worker dies
        deploy().execute(make_context())
    update = p.describe_campaign(campaignArn=arn)["campaign"]["latestCampaignUpdate"]
    assert update["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")

    retry_context = make_context()
    assert run_deferrable(deploy(), retry_context) == arn
    campaign = p.describe_campaign(campaignArn=arn)["campaign"]
    assert campaign["solutionVersionArn"] == versions[1]
    assert campaign["latestCampaignUpdate"]["creationDateTime"] == update["creationDateTime"], "one update"


def test_failed_campaign_fails_the_task_with_the_reason(aws_default, clients, versions):
    p = clients["personalize"]
    name = failing("campaign", 1)
    with pytest.raises(PersonalizeResourceFailedError) as failure:
        run_deferrable(
            PersonalizeCreateOrUpdateCampaignOperator(
                task_id="deploy", name=name, solution_version_arn=versions[0], **FAST
            ),
            make_context(),
        )
    [campaign] = [c for c in p.list_campaigns()["campaigns"] if c["name"] == name]
    described = p.describe_campaign(campaignArn=campaign["campaignArn"])["campaign"]
    assert described["status"] == "CREATE FAILED"
    assert described["failureReason"] in str(failure.value)


def _put_users(clients, bucket: str, key: str) -> str:
    lines = "".join(json.dumps({"userId": f"u{n}"}) + "\n" for n in range(10))
    clients["s3"].put_object(Bucket=bucket, Key=key, Body=lines.encode())
    return f"s3://{bucket}/{key}"


def test_batch_inference_job_writes_recommendations_once(aws_default, clients, bucket, versions):
    input_path = _put_users(clients, bucket, f"{unique('batch')}/users.json")
    output_path = f"s3://{bucket}/{unique('batch-out')}/"
    job_name = unique("batch")

    def run() -> str:
        return run_deferrable(
            PersonalizeCreateBatchInferenceJobOperator(
                task_id="batch",
                job_name=job_name,
                solution_version_arn=versions[0],
                input_path=input_path,
                output_path=output_path,
                role_arn=ROLE,
                num_results=5,
                **FAST,
            ),
            make_context(),
        )

    arn = run()
    assert run() == arn
    jobs = clients["personalize"].list_batch_inference_jobs(solutionVersionArn=versions[0])[
        "batchInferenceJobs"
    ]
    assert [(j["jobName"], j["status"]) for j in jobs if j["jobName"] == job_name] == [(job_name, "ACTIVE")]
    prefix = output_path.split("/", 3)[3]
    written = clients["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    body = clients["s3"].get_object(Bucket=bucket, Key=written[0]["Key"])["Body"].read().decode()
    first = json.loads(body.splitlines()[0])
    assert len(first["output"]["recommendedItems"]) == 5


def test_failed_batch_inference_job_fails_with_the_reason(aws_default, clients, bucket, versions):
    with pytest.raises(PersonalizeResourceFailedError, match="CREATE FAILED"):
        run_deferrable(
            PersonalizeCreateBatchInferenceJobOperator(
                task_id="batch",
                job_name=failing("batch", 1),
                solution_version_arn=versions[0],
                input_path=_put_users(clients, bucket, f"{unique('batch')}/users.json"),
                output_path=f"s3://{bucket}/{unique('batch-out')}/",
                role_arn=ROLE,
                deferrable=False,
                **FAST,
            ),
            make_context(),
        )


@pytest.fixture(scope="module")
def affinity_version(clients, group) -> str:
    """An ACTIVE aws-item-affinity version of the module's group."""
    p = clients["personalize"]
    solution = p.create_solution(
        name=unique("affinity"),
        datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-item-affinity",
    )["solutionArn"]
    wait_status(p.describe_solution, "solution", solutionArn=solution)
    arn = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    trained = wait_status(p.describe_solution_version, "solutionVersion", solutionVersionArn=arn)
    assert trained["status"] == "ACTIVE", trained
    return arn


def _put_items(clients, bucket: str, key: str) -> str:
    lines = "".join(json.dumps({"itemId": item}) + "\n" for item in ("a0", "a1", "b0"))
    clients["s3"].put_object(Bucket=bucket, Key=key, Body=lines.encode())
    return f"s3://{bucket}/{key}"


def test_batch_segment_job_writes_segments_once_and_defers(aws_default, clients, bucket, affinity_version):
    input_path = _put_items(clients, bucket, f"{unique('segments')}/segments.json")
    output_path = f"s3://{bucket}/{unique('segments-out')}/"
    job_name = unique("segments")

    def operator() -> PersonalizeCreateBatchSegmentJobOperator:
        return PersonalizeCreateBatchSegmentJobOperator(
            task_id="segments",
            job_name=job_name,
            solution_version_arn=affinity_version,
            input_path=input_path,
            output_path=output_path,
            role_arn=ROLE,
            num_results=4,
            **FAST,
        )

    with pytest.raises(TaskDeferred) as deferred:
        operator().execute(make_context())
    trigger = deferred.value.trigger
    assert (type(trigger), trigger.waiter_name) == (PersonalizeWaiterTrigger, "batch_segment_job_complete")
    arn = run_deferrable(operator(), make_context())
    assert arn == trigger.serialize()[1]["arn"], "the retry finds the job its first try created"
    jobs = clients["personalize"].list_batch_segment_jobs(solutionVersionArn=affinity_version)[
        "batchSegmentJobs"
    ]
    assert [(j["jobName"], j["status"]) for j in jobs if j["jobName"] == job_name] == [(job_name, "ACTIVE")]
    key = output_path.split("/", 3)[3] + "segments.json.out"
    lines = [
        json.loads(line) for line in clients["s3"].get_object(Bucket=bucket, Key=key)["Body"].iter_lines()
    ]
    assert [line["input"]["itemId"] for line in lines] == ["a0", "a1", "b0"]
    assert all(line["error"] is None and len(line["output"]["usersList"]) == 4 for line in lines)


def test_a_batch_segment_job_on_another_recipe_is_refused_and_a_failed_one_fails_with_the_reason(
    aws_default, clients, bucket, versions, affinity_version
):
    common = {
        "task_id": "segments",
        "input_path": _put_items(clients, bucket, f"{unique('segments')}/segments.json"),
        "output_path": f"s3://{bucket}/{unique('segments-out')}/",
        "role_arn": ROLE,
        **FAST,
    }
    with pytest.raises(ClientError, match="USER_SEGMENTATION recipe"):
        run_deferrable(
            PersonalizeCreateBatchSegmentJobOperator(
                job_name=unique("segments"), solution_version_arn=versions[0], **common
            ),
            make_context(),
        )
    with pytest.raises(PersonalizeResourceFailedError, match="batch segment job .* failed: CREATE FAILED"):
        run_deferrable(
            PersonalizeCreateBatchSegmentJobOperator(
                job_name=failing("batch", 2),
                solution_version_arn=affinity_version,
                deferrable=False,
                **common,
            ),
            make_context(),
        )


def test_event_tracker_returns_its_arn_and_pushes_the_tracking_id(aws_default, clients, group):
    name = unique("tracker")
    context = make_context()
    arn = run_deferrable(
        PersonalizeCreateEventTrackerOperator(task_id="tracker", name=name, dataset_group_arn=group, **FAST),
        context,
    )
    described = clients["personalize"].describe_event_tracker(eventTrackerArn=arn)["eventTracker"]
    assert described["status"] == "ACTIVE"
    assert context["ti"].xcoms["tracking_id"] == described["trackingId"]
    again = make_context()
    assert (
        run_deferrable(
            PersonalizeCreateEventTrackerOperator(
                task_id="tracker", name=name, dataset_group_arn=group, **FAST
            ),
            again,
        )
        == arn
    )
    assert again["ti"].xcoms["tracking_id"] == described["trackingId"]


def test_filter_is_created_once_and_refused_with_another_expression(aws_default, clients, group):
    name = unique("filter")
    expression = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")'

    def create(expr: str) -> str:
        return run_deferrable(
            PersonalizeCreateFilterOperator(
                task_id="filter", name=name, dataset_group_arn=group, filter_expression=expr, **FAST
            ),
            make_context(),
        )

    arn = create(expression)
    assert create(expression) == arn
    assert clients["personalize"].describe_filter(filterArn=arn)["filter"]["status"] == "ACTIVE"
    with pytest.raises(PersonalizeResourceConflictError, match="filterExpression: existing"):
        create('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')


def test_describe_errors_other_than_already_exists_are_not_swallowed(aws_default, clients):
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        PersonalizeCreateFilterOperator(
            task_id="filter",
            name=unique("filter"),
            dataset_group_arn="arn:aws:personalize:us-east-1:123456789012:dataset-group/missing",
            filter_expression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")',
            deferrable=False,
        ).execute(make_context())


def test_incremental_training_uses_the_requested_training_mode(aws_default, clients, solution, versions):
    context = make_context(run_id=unique("incremental"), task_id="retrain")
    arn = run_deferrable(
        PersonalizeCreateSolutionVersionOperator(
            task_id="retrain", solution_arn=solution, training_mode="UPDATE", **FAST
        ),
        context,
    )
    version = clients["personalize"].describe_solution_version(solutionVersionArn=arn)["solutionVersion"]
    assert (version["status"], version["trainingMode"]) == ("ACTIVE", "UPDATE")
    with pytest.raises(
        PersonalizeResourceConflictError, match="trainingMode: existing 'UPDATE', requested 'FULL'"
    ):
        PersonalizeCreateSolutionVersionOperator(task_id="retrain", solution_arn=solution, **FAST).execute(
            make_context(run_id=context["run_id"], task_id="retrain")
        )


def test_sensors_pass_on_finished_resources_without_deferring(aws_default, clients, bucket, group, versions):
    p = clients["personalize"]
    [dataset] = p.list_datasets(datasetGroupArn=group)["datasets"]
    [job] = p.list_dataset_import_jobs(datasetArn=dataset["datasetArn"])["datasetImportJobs"]
    campaign = p.create_campaign(name=unique("sensed"), solutionVersionArn=versions[0])["campaignArn"]
    batch = p.create_batch_inference_job(
        jobName=unique("sensed"),
        solutionVersionArn=versions[0],
        jobInput={"s3DataSource": {"path": _put_users(clients, bucket, f"{unique('batch')}/users.json")}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/{unique('batch-out')}/"}},
        roleArn=ROLE,
    )["batchInferenceJobArn"]
    wait_status(p.describe_campaign, "campaign", campaignArn=campaign)
    wait_status(p.describe_batch_inference_job, "batchInferenceJob", batchInferenceJobArn=batch)
    for sensor in (
        PersonalizeDatasetImportJobSensor(task_id="s1", dataset_import_job_arn=job["datasetImportJobArn"]),
        PersonalizeCampaignSensor(task_id="s2", campaign_arn=campaign),
        PersonalizeBatchInferenceJobSensor(task_id="s3", batch_inference_job_arn=batch),
    ):
        assert sensor.deferrable
        sensor.execute(make_context())  # done already: returns instead of raising TaskDeferred


def test_runtime_and_events_hooks_reach_the_deployed_campaign(aws_default, clients, group, versions):
    campaign = run_deferrable(
        PersonalizeCreateOrUpdateCampaignOperator(
            task_id="deploy", name=unique("serving"), solution_version_arn=versions[0], **FAST
        ),
        make_context(),
    )
    items = PersonalizeRuntimeHook().conn.get_recommendations(campaignArn=campaign, userId="u0", numResults=7)
    assert len(items["itemList"]) == 7

    # A dataset group has at most one event tracker: reuse the one another test may have made.
    trackers = clients["personalize"].list_event_trackers(datasetGroupArn=group)["eventTrackers"]
    name = trackers[0]["name"] if trackers else unique("events")
    tracker_context = make_context()
    run_deferrable(
        PersonalizeCreateEventTrackerOperator(task_id="tracker", name=name, dataset_group_arn=group, **FAST),
        tracker_context,
    )
    response = PersonalizeEventsHook().conn.put_events(
        trackingId=tracker_context["ti"].xcoms["tracking_id"],
        userId="u0",
        sessionId="s0",
        eventList=[{"eventType": "click", "itemId": "a1", "sentAt": 1_700_100_000}],
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
