"""The generated worker policy covers every AWS call the DAGs made in this session's end-to-end tests, and
allows no Personalize action they did not use.

``tests/aws_calls.py`` records each call a task made under ``dag.test()`` (with the use case its DAG ran
with); these tests run last in the session and check the calls against that use case's
:func:`personalize_pipelines.iam.worker_policy`, resources and conditions included. A session without
the end-to-end tests (a partial run) has nothing to check: the tests skip and say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from personalize_pipelines import iam
from personalize_pipelines.config import UseCase
from tests import aws_calls
from tests.policy_check import actions, allows

pytestmark = pytest.mark.after_all_dags

# Every flow a use case has: the reverse check needs them all to have run in the session.
FLOWS = (
    "export",
    "train",
    "batch",
    "events",
    "segments",
    "cleanup",
    "recommenders_stop",
    "recommenders_start",
)
REGION_ACCOUNT = "us-east-1:123456789012"  # where a resource named in a Create call will live


def _personalize_resource(operation: str, params: dict[str, Any]) -> str:
    """The ARN a Personalize call is authorized on: the ARN of its resource type among the parameters, or
    the ARN its Create call gives the resource."""
    types = iam.resource_types(operation)
    if not types:
        return "*"
    for key, value in params.items():
        if key.endswith("Arn") and any(f":{resource_type}/" in value for resource_type in types):
            return value
    resource_type = types[0]
    if "trackingId" in params:
        return f"arn:aws:personalize:{REGION_ACCOUNT}:event-tracker/{params['trackingId']}"
    if operation == "CreateDataset":  # a dataset is named after its group: dataset/<group>/<TYPE>
        group = params["datasetGroupArn"].split(":dataset-group/", 1)[1]
        return f"arn:aws:personalize:{REGION_ACCOUNT}:dataset/{group}/{params['datasetType'].upper()}"
    name = params.get("name") or params.get("jobName") or "unnamed"
    return f"arn:aws:personalize:{REGION_ACCOUNT}:{resource_type}/{name}"


def _requests(call: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(action, resource, condition keys) of every authorization the call needs."""
    service, operation, params = call["service"], call["operation"], call["params"]
    action = iam.iam_action(service, operation)
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in iam.S3_BUCKET_ACTIONS:
            yield action, bucket, {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
        for key in params.get("Keys", [params["Key"]] if "Key" in params else []):
            yield action, f"{bucket}/{key}", {}
    elif service == "sns":
        yield action, params.get("TopicArn") or params["TargetArn"], {}
    else:
        yield action, _personalize_resource(operation, params), {}
    if "roleArn" in params:
        yield "iam:PassRole", params["roleArn"], {"iam:PassedToService": iam.PERSONALIZE_PRINCIPAL}


def _policies(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [iam.worker_policy(UseCase.model_validate(uc)) for uc in call["use_cases"]]


@pytest.fixture(scope="module")
def calls() -> list[dict[str, Any]]:
    recorded = aws_calls.recorded()
    if not recorded:
        pytest.skip(
            "no DAG task made an AWS call in this session: run the end-to-end tests (tests/export, "
            "tests/train, tests/serving) in the same session to check the policy"
        )
    return recorded


def test_the_worker_policy_allows_every_call_the_dags_made(calls):
    refused = set()
    for call in calls:
        try:
            needed = list(_requests(call))
        except ValueError as error:
            refused.add(f"{call['dag_id']}: {error}")
            continue
        policies = _policies(call)
        for action, resource, context in needed:
            if not any(allows(p, action=action, resource=resource, context=context) for p in policies):
                refused.add(f"{call['dag_id']}: {action} on {resource} {context or ''}".rstrip())
    assert not refused, "the generated worker policy refuses:\n" + "\n".join(sorted(refused))


def test_the_worker_policy_allows_no_personalize_action_the_dags_did_not_use(calls):
    ran = {call["dag_id"].split("__")[-1] for call in calls}
    missing = [flow for flow in FLOWS if flow not in ran]
    if missing:
        pytest.skip(
            f"the {', '.join(missing)} DAG(s) made no AWS call in this session: an unused action cannot be "
            "told from one of a DAG that did not run (run tests/export, tests/train, tests/serving together)"
        )
    used = {
        iam.iam_action(c["service"], c["operation"]) for c in calls if c["service"].startswith("personalize")
    }
    allowed = {
        action
        for call in calls
        for policy in _policies(call)
        for action in actions(policy)
        if action.startswith("personalize:")
    }
    assert sorted(allowed - used) == []
