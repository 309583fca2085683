"""Delete operators: each waits until its resource is gone; deleting twice is not an error."""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from botocore.exceptions import ClientError

from personalize_airflow.operators.personalize import (
    PersonalizeDeleteCampaignOperator,
    PersonalizeDeleteDatasetGroupOperator,
    PersonalizeDeleteDatasetOperator,
    PersonalizeDeleteEventTrackerOperator,
    PersonalizeDeleteFilterOperator,
    PersonalizeDeleteSchemaOperator,
    PersonalizeDeleteSolutionOperator,
)
from personalize_airflow.triggers.personalize import PersonalizeWaiterTrigger
from tests.plugins.conftest import (
    INTERACTIONS_SCHEMA,
    RECIPE,
    ROLE,
    interactions_csv,
    make_context,
    run_deferrable,
    unique,
    wait_status,
)

FAST = {"waiter_delay": 1, "waiter_max_attempts": 60}


@pytest.fixture
def stack(clients, bucket) -> dict[str, str]:
    """A whole dataset group: data, a trained solution and its campaign, a tracker and a filter."""
    p = clients["personalize"]
    name = unique("doomed")
    clients["s3"].put_object(Bucket=bucket, Key=f"{name}.csv", Body=interactions_csv().encode())
    arns = {"dataset_group": p.create_dataset_group(name=name)["datasetGroupArn"]}
    wait_status(p.describe_dataset_group, "datasetGroup", datasetGroupArn=arns["dataset_group"])
    arns["schema"] = p.create_schema(name=name, schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
    arns["dataset"] = p.create_dataset(
        name=name, schemaArn=arns["schema"], datasetGroupArn=arns["dataset_group"], datasetType="Interactions"
    )["datasetArn"]
    wait_status(p.describe_dataset, "dataset", datasetArn=arns["dataset"])
    job = p.create_dataset_import_job(
        jobName=name,
        datasetArn=arns["dataset"],
        roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/{name}.csv"},
    )["datasetImportJobArn"]
    wait_status(p.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job)
    arns["solution"] = p.create_solution(name=name, datasetGroupArn=arns["dataset_group"], recipeArn=RECIPE)[
        "solutionArn"
    ]
    wait_status(p.describe_solution, "solution", solutionArn=arns["solution"])
    version = p.create_solution_version(solutionArn=arns["solution"])["solutionVersionArn"]
    wait_status(p.describe_solution_version, "solutionVersion", solutionVersionArn=version)
    arns["campaign"] = p.create_campaign(name=name, solutionVersionArn=version)["campaignArn"]
    arns["event_tracker"] = p.create_event_tracker(name=name, datasetGroupArn=arns["dataset_group"])[
        "eventTrackerArn"
    ]
    arns["filter"] = p.create_filter(
        name=name,
        datasetGroupArn=arns["dataset_group"],
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")',
    )["filterArn"]
    wait_status(p.describe_campaign, "campaign", campaignArn=arns["campaign"])
    wait_status(p.describe_event_tracker, "eventTracker", eventTrackerArn=arns["event_tracker"])
    wait_status(p.describe_filter, "filter", filterArn=arns["filter"])
    return arns


def _gone(p, kind: str, arn: str) -> bool:
    method = {"dataset_group": "describe_dataset_group", "event_tracker": "describe_event_tracker"}.get(
        kind, f"describe_{kind}"
    )
    key = "".join(part.capitalize() if i else part for i, part in enumerate(kind.split("_"))) + "Arn"
    try:
        getattr(p, method)(**{key: arn})
    except ClientError as error:
        return error.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


def test_a_whole_dataset_group_is_torn_down_in_order(aws_default, clients, stack):
    p = clients["personalize"]
    with pytest.raises(ClientError, match="ResourceInUse"):
        PersonalizeDeleteSchemaOperator(task_id="schema", schema_arn=stack["schema"], **FAST).execute(
            make_context()
        )

    campaign = PersonalizeDeleteCampaignOperator(task_id="campaign", campaign_arn=stack["campaign"], **FAST)
    with pytest.raises(TaskDeferred) as deferred:
        campaign.execute(make_context())
    assert (type(deferred.value.trigger), deferred.value.trigger.waiter_name) == (
        PersonalizeWaiterTrigger,
        "campaign_deleted",
    )
    assert run_deferrable(campaign, make_context()) == stack["campaign"], "a retry while deleting waits"
    assert _gone(p, "campaign", stack["campaign"])

    steps = [
        (PersonalizeDeleteSolutionOperator, "solution", True),
        (PersonalizeDeleteFilterOperator, "filter", True),
        (PersonalizeDeleteEventTrackerOperator, "event_tracker", False),
        (PersonalizeDeleteDatasetOperator, "dataset", True),
        (PersonalizeDeleteSchemaOperator, "schema", False),
        (PersonalizeDeleteDatasetGroupOperator, "dataset_group", True),
    ]
    for operator_class, kind, deferrable in steps:
        operator = operator_class(task_id=kind, deferrable=deferrable, **{f"{kind}_arn": stack[kind]}, **FAST)
        assert run_deferrable(operator, make_context()) == stack[kind]
        assert _gone(p, kind, stack[kind]), kind

    again = PersonalizeDeleteDatasetGroupOperator(task_id="again", dataset_group_arn=stack["dataset_group"])
    assert again.execute(make_context()) == stack["dataset_group"]
