"""Dataset group, schema, dataset and import operators against personalize-local, through aws_default only."""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from personalize_airflow.hooks.personalize import (
    PersonalizeResourceConflictError,
    PersonalizeResourceFailedError,
)
from personalize_airflow.links.personalize import PersonalizeDatasetGroupLink
from personalize_airflow.operators.personalize import (
    PersonalizeCreateDatasetGroupOperator,
    PersonalizeCreateDatasetImportJobOperator,
    PersonalizeCreateDatasetOperator,
    PersonalizeCreateSchemaOperator,
)
from personalize_airflow.triggers.personalize import PersonalizeWaiterTrigger
from tests.plugins.conftest import (
    INTERACTIONS_SCHEMA,
    failing,
    interactions_csv,
    make_context,
    run_deferrable,
    run_trigger,
    unique,
    wait_status,
)

FAST = {"waiter_delay": 1, "waiter_max_attempts": 60}


def _names(pages: list[dict], key: str, field: str = "name") -> list[str]:
    return [item[field] for page in pages for item in page[key]]


def _all_dataset_groups(personalize) -> list[str]:
    return _names(list(personalize.get_paginator("list_dataset_groups").paginate()), "datasetGroups")


@pytest.fixture
def dataset_group(aws_default) -> str:
    return PersonalizeCreateDatasetGroupOperator(
        task_id="group", name=unique("group"), deferrable=False, **FAST
    ).execute(make_context())


@pytest.fixture
def interactions_dataset(aws_default, dataset_group) -> str:
    schema_arn = PersonalizeCreateSchemaOperator(
        task_id="schema", name=unique("schema"), schema=INTERACTIONS_SCHEMA
    ).execute(make_context())
    return PersonalizeCreateDatasetOperator(
        task_id="dataset",
        name=unique("interactions"),
        dataset_group_arn=dataset_group,
        schema_arn=schema_arn,
        dataset_type="Interactions",
        deferrable=False,
        **FAST,
    ).execute(make_context())


def test_dataset_group_is_created_active_and_linked(aws_default, clients):
    name = unique("group")
    context = make_context()
    arn = PersonalizeCreateDatasetGroupOperator(task_id="group", name=name, deferrable=False, **FAST).execute(
        context
    )

    described = clients["personalize"].describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
    assert (described["name"], described["status"]) == (name, "ACTIVE")
    link = PersonalizeDatasetGroupLink().format_link(**context["ti"].xcoms[PersonalizeDatasetGroupLink.key])
    assert link == (
        "https://console.aws.amazon.com/personalize/home?region=us-east-1#"
        + arn.replace("/", "$", 1)
        + "/setup"
    )


def test_deferrable_dataset_group_defers_to_its_trigger_and_resumes(aws_default, clients):
    operator = PersonalizeCreateDatasetGroupOperator(task_id="group", name=unique("group"), **FAST)
    assert operator.deferrable, "deferrable is the default"
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)

    trigger = deferred.value.trigger
    assert (type(trigger), trigger.waiter_name) == (PersonalizeWaiterTrigger, "dataset_group_active")
    classpath, kwargs = trigger.serialize()
    arn = kwargs["arn"]
    assert classpath == "personalize_airflow.triggers.personalize.PersonalizeWaiterTrigger"
    assert (
        clients["personalize"].describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["name"]
        == operator.name
    )

    event = run_trigger(trigger)
    assert event == {"status": "success", "arn": arn}
    assert operator.execute_complete(context, event) == arn


def test_execute_complete_rejects_missing_and_failed_events(aws_default):
    operator = PersonalizeCreateDatasetGroupOperator(task_id="group", name="unused")
    with pytest.raises(Exception, match="event is None"):
        operator.execute_complete(make_context(), None)
    with pytest.raises(PersonalizeResourceFailedError, match="CREATE FAILED - disk on fire"):
        operator.execute_complete(
            make_context(),
            {"status": "error", "message": "Personalize x failed: CREATE FAILED - disk on fire"},
        )


def test_running_a_create_twice_makes_one_resource(aws_default, clients):
    name = unique("group")
    first = run_deferrable(
        PersonalizeCreateDatasetGroupOperator(task_id="g", name=name, **FAST), make_context()
    )
    second = run_deferrable(
        PersonalizeCreateDatasetGroupOperator(task_id="g", name=name, **FAST), make_context()
    )
    assert first == second
    assert _all_dataset_groups(clients["personalize"]).count(name) == 1


def test_retry_after_a_crash_between_the_call_and_the_wait_reuses_the_resource(aws_default, clients):
    name = unique("group")
    # First try: the create call goes out, the task defers, and the worker dies (the deferral is lost).
    with pytest.raises(TaskDeferred):
        PersonalizeCreateDatasetGroupOperator(task_id="g", name=name, **FAST).execute(make_context())
    # Retry, blocking this time.
    arn = PersonalizeCreateDatasetGroupOperator(task_id="g", name=name, deferrable=False, **FAST).execute(
        make_context()
    )
    assert _all_dataset_groups(clients["personalize"]).count(name) == 1
    assert (
        clients["personalize"].describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"]
        == "ACTIVE"
    )


def test_schema_is_reused_when_identical_and_refused_when_different(aws_default, clients):
    name = unique("schema")
    first = PersonalizeCreateSchemaOperator(task_id="s", name=name, schema=INTERACTIONS_SCHEMA).execute(
        make_context()
    )
    # The same schema as a JSON string (different spacing) is the same schema.
    again = PersonalizeCreateSchemaOperator(
        task_id="s", name=name, schema=json.dumps(INTERACTIONS_SCHEMA, indent=2)
    ).execute(make_context())
    assert again == first
    schemas = _names(list(clients["personalize"].get_paginator("list_schemas").paginate()), "schemas")
    assert schemas.count(name) == 1

    changed = {**INTERACTIONS_SCHEMA, "fields": INTERACTIONS_SCHEMA["fields"][:3]}
    with pytest.raises(
        PersonalizeResourceConflictError, match=rf"schema {name!r} already exists .*schema: existing"
    ):
        PersonalizeCreateSchemaOperator(task_id="s", name=name, schema=changed).execute(make_context())


def test_dataset_is_created_in_its_group_and_reused_on_retry(aws_default, clients, dataset_group):
    schema_arn = PersonalizeCreateSchemaOperator(
        task_id="schema", name=unique("schema"), schema=INTERACTIONS_SCHEMA
    ).execute(make_context())
    name = unique("interactions")

    def create():
        return run_deferrable(
            PersonalizeCreateDatasetOperator(
                task_id="dataset",
                name=name,
                dataset_group_arn=dataset_group,
                schema_arn=schema_arn,
                dataset_type="Interactions",
                **FAST,
            ),
            make_context(),
        )

    arn = create()
    assert create() == arn
    datasets = clients["personalize"].list_datasets(datasetGroupArn=dataset_group)["datasets"]
    assert [(d["name"], d["datasetType"].upper(), d["status"]) for d in datasets] == [
        (name, "INTERACTIONS", "ACTIVE")
    ]


def test_a_second_interactions_dataset_under_another_name_fails_clearly(
    aws_default, clients, interactions_dataset
):
    existing = clients["personalize"].describe_dataset(datasetArn=interactions_dataset)["dataset"]
    with pytest.raises(
        PersonalizeResourceConflictError, match=r"refused to create dataset 'other-.*no dataset of that name"
    ):
        PersonalizeCreateDatasetOperator(
            task_id="dataset",
            name=unique("other"),
            dataset_group_arn=existing["datasetGroupArn"],
            schema_arn=existing["schemaArn"],
            dataset_type="Interactions",
            deferrable=False,
        ).execute(make_context())


def test_import_job_imports_once_and_returns_its_arn(aws_default, clients, bucket, interactions_dataset):
    key = f"{unique('export')}/interactions/part-0.csv"
    clients["s3"].put_object(Bucket=bucket, Key=key, Body=interactions_csv().encode())
    job_name = unique("import")

    def run():
        return run_deferrable(
            PersonalizeCreateDatasetImportJobOperator(
                task_id="import",
                job_name=job_name,
                dataset_arn=interactions_dataset,
                data_location=f"s3://{bucket}/{key}",
                role_arn="arn:aws:iam::123456789012:role/personalize",
                **FAST,
            ),
            make_context(),
        )

    arn = run()
    assert run() == arn
    jobs = clients["personalize"].list_dataset_import_jobs(datasetArn=interactions_dataset)[
        "datasetImportJobs"
    ]
    assert [(j["jobName"], j["status"]) for j in jobs] == [(job_name, "ACTIVE")]


@pytest.mark.parametrize(
    ("deferrable", "job_name"), [(True, failing("import", 1)), (False, failing("import", 2))]
)
def test_failed_import_fails_the_task_with_personalize_failure_reason(
    aws_default, clients, bucket, interactions_dataset, deferrable, job_name
):
    key = f"{unique('export')}/interactions.csv"
    clients["s3"].put_object(Bucket=bucket, Key=key, Body=interactions_csv().encode())
    operator = PersonalizeCreateDatasetImportJobOperator(
        task_id="import",
        job_name=job_name,
        dataset_arn=interactions_dataset,
        data_location=f"s3://{bucket}/{key}",
        deferrable=deferrable,
        **FAST,
    )
    with pytest.raises(PersonalizeResourceFailedError) as failure:
        run_deferrable(operator, make_context())
    job = clients["personalize"].list_dataset_import_jobs(datasetArn=interactions_dataset)[
        "datasetImportJobs"
    ][0]
    assert job["status"] == "CREATE FAILED"
    assert "CREATE FAILED" in str(failure.value) and job["failureReason"] in str(failure.value)


def test_import_of_a_missing_file_fails_with_the_reason(aws_default, clients, bucket, interactions_dataset):
    operator = PersonalizeCreateDatasetImportJobOperator(
        task_id="import",
        job_name=unique("import"),
        dataset_arn=interactions_dataset,
        data_location=f"s3://{bucket}/nothing-here/",
        deferrable=False,
        **FAST,
    )
    with pytest.raises(PersonalizeResourceFailedError) as failure:
        operator.execute(make_context())
    described = clients["personalize"].list_dataset_import_jobs(datasetArn=interactions_dataset)[
        "datasetImportJobs"
    ][0]
    assert described["status"] == "CREATE FAILED"
    assert described["failureReason"] and described["failureReason"] in str(failure.value)


def test_import_trigger_yields_an_error_event_carrying_the_reason(
    aws_default, clients, interactions_dataset, bucket
):
    job = clients["personalize"].create_dataset_import_job(
        jobName=failing("import", 3),
        datasetArn=interactions_dataset,
        dataSource={"dataLocation": f"s3://{bucket}/nothing-here/"},
        roleArn="arn:aws:iam::123456789012:role/personalize",
    )["datasetImportJobArn"]
    event = run_trigger(
        PersonalizeWaiterTrigger(
            kind="dataset_import_job",
            waiter_name="dataset_import_job_complete",
            arn=job,
            waiter_delay=1,
            waiter_max_attempts=30,
        )
    )
    reason = clients["personalize"].describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"][
        "failureReason"
    ]
    assert event["status"] == "error" and event["arn"] == job
    assert "CREATE FAILED" in event["message"] and reason in event["message"]


def test_an_import_job_name_taken_by_another_dataset_is_a_conflict(
    aws_default, clients, bucket, interactions_dataset
):
    key = f"{unique('export')}/interactions.csv"
    clients["s3"].put_object(Bucket=bucket, Key=key, Body=interactions_csv().encode())
    job_name = unique("import")
    clients["personalize"].create_dataset_import_job(
        jobName=job_name,
        datasetArn=interactions_dataset,
        dataSource={"dataLocation": f"s3://{bucket}/{key}"},
        roleArn="arn:aws:iam::123456789012:role/personalize",
    )
    p = clients["personalize"]
    items_schema = {
        "type": "record",
        "name": "Items",
        "namespace": "com.amazonaws.personalize.schema",
        "version": "1.0",
        "fields": [
            {"name": "ITEM_ID", "type": "string"},
            {"name": "GENRE", "type": "string", "categorical": True},
        ],
    }
    schema_arn = p.create_schema(name=unique("items"), schema=json.dumps(items_schema))["schemaArn"]
    group_arn = p.describe_dataset(datasetArn=interactions_dataset)["dataset"]["datasetGroupArn"]
    other_dataset = p.create_dataset(
        name=unique("items"), schemaArn=schema_arn, datasetGroupArn=group_arn, datasetType="Items"
    )["datasetArn"]
    wait_status(p.describe_dataset, "dataset", datasetArn=other_dataset)
    with pytest.raises(PersonalizeResourceConflictError, match=r"datasetArn: existing '.*/INTERACTIONS'"):
        PersonalizeCreateDatasetImportJobOperator(
            task_id="import",
            job_name=job_name,
            dataset_arn=other_dataset,
            data_location=f"s3://{bucket}/{key}",
            deferrable=False,
        ).execute(make_context())
