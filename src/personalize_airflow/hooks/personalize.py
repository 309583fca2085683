"""Hooks for Amazon Personalize: the control plane, the runtime and the events API."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jmespath
from airflow.providers.amazon.aws.exceptions import WaiterTerminalFailure
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.utils.waiter_with_logging import RETRIABLE_ERROR_CODES, wait
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError, WaiterError

from personalize_pipelines.naming import derive_name as derive_name

DELETING_STATES = ("DELETE PENDING", "DELETE IN_PROGRESS")
UPDATABLE = ("campaign", "recommender")  # their Describe carries the latest update's own status
WAITERS_FILE = Path(__file__).resolve().parents[1] / "waiters" / "personalize.json"


@cache
def _waiter_timings() -> dict[str, tuple[int, int]]:
    waiters = json.loads(WAITERS_FILE.read_text())["waiters"]
    return {name: (waiter["delay"], waiter["maxAttempts"]) for name, waiter in waiters.items()}


def waiter_timing(
    waiter_name: str, *, delay: int | None = None, max_attempts: int | None = None
) -> tuple[int, int]:
    """
    Return ``(delay, max_attempts)`` of a wait on a custom waiter: those given, else the waiter's own.

    ``waiters/personalize.json`` is the one place the defaults of operators, sensors and the trigger live.

    :param waiter_name: A waiter from ``waiters/personalize.json``, e.g. ``solution_version_complete``.
    :param delay: Seconds between two status checks; None for the waiter's ``delay``.
    :param max_attempts: Status checks before giving up; None for the waiter's ``maxAttempts``.
    """
    default_delay, default_max_attempts = _waiter_timings()[waiter_name]
    return (
        default_delay if delay is None else delay,
        default_max_attempts if max_attempts is None else max_attempts,
    )


class PersonalizeResourceFailedError(AirflowException):
    """A Personalize resource ended in a failed state (CREATE FAILED); the message carries its reason."""


class PersonalizeResourceConflictError(AirflowException):
    """A resource with the requested name exists but was created with different settings."""


@dataclass(frozen=True)
class PersonalizeResource:
    """
    How the Personalize API names one kind of resource.

    :param label: Human name used in log lines and errors, e.g. ``dataset import job``.
    :param key: Key of the resource in its Describe response, e.g. ``datasetImportJob``.
    :param arn_field: Name of the ARN parameter, e.g. ``datasetImportJobArn``.
    :param list_key: Key of the summaries in its List response.
    :param name_field: Field holding the resource's name (``jobName`` for jobs).
    :param parent_field: List filter naming the parent resource, if the List call takes one.
    """

    label: str
    key: str
    arn_field: str
    list_key: str
    name_field: str = "name"
    parent_field: str | None = None

    @property
    def snake(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.key).lower()

    @property
    def arn_param(self) -> str:
        """The ARN as a Python keyword, e.g. ``dataset_import_job_arn``."""
        return f"{self.snake}_arn"

    @property
    def describe_method(self) -> str:
        return f"describe_{self.snake}"

    @property
    def list_method(self) -> str:
        return f"list_{self.snake}s"

    @property
    def status_message(self) -> str:
        """What a wait logs before the resource's status, e.g. ``Personalize campaign status``."""
        return f"Personalize {self.label} status"

    def failure_message(self, arn: str) -> str:
        """How the error of a failed wait starts, e.g. ``Personalize campaign <arn> failed``."""
        return f"Personalize {self.label} {arn} failed"

    @property
    def status_queries(self) -> list[str]:
        """JMESPath queries into the Describe response that explain where the resource stands."""
        queries = [f"{self.key}.status", f"{self.key}.failureReason"]
        if self.key in UPDATABLE:
            update = f"{self.key}.latest{self.key[0].upper()}{self.key[1:]}Update"
            queries += [f"{update}.status", f"{update}.failureReason"]
        return queries


RESOURCES: dict[str, PersonalizeResource] = {
    "dataset_group": PersonalizeResource("dataset group", "datasetGroup", "datasetGroupArn", "datasetGroups"),
    "schema": PersonalizeResource("schema", "schema", "schemaArn", "schemas"),
    "dataset": PersonalizeResource(
        "dataset", "dataset", "datasetArn", "datasets", parent_field="datasetGroupArn"
    ),
    "dataset_import_job": PersonalizeResource(
        "dataset import job",
        "datasetImportJob",
        "datasetImportJobArn",
        "datasetImportJobs",
        name_field="jobName",
        parent_field="datasetArn",
    ),
    "solution": PersonalizeResource(
        "solution", "solution", "solutionArn", "solutions", parent_field="datasetGroupArn"
    ),
    "solution_version": PersonalizeResource(
        "solution version",
        "solutionVersion",
        "solutionVersionArn",
        "solutionVersions",
        parent_field="solutionArn",
    ),
    "campaign": PersonalizeResource(
        "campaign", "campaign", "campaignArn", "campaigns", parent_field="solutionArn"
    ),
    "batch_inference_job": PersonalizeResource(
        "batch inference job",
        "batchInferenceJob",
        "batchInferenceJobArn",
        "batchInferenceJobs",
        name_field="jobName",
        parent_field="solutionVersionArn",
    ),
    "batch_segment_job": PersonalizeResource(
        "batch segment job",
        "batchSegmentJob",
        "batchSegmentJobArn",
        "batchSegmentJobs",
        name_field="jobName",
        parent_field="solutionVersionArn",
    ),
    "event_tracker": PersonalizeResource(
        "event tracker", "eventTracker", "eventTrackerArn", "eventTrackers", parent_field="datasetGroupArn"
    ),
    "filter": PersonalizeResource("filter", "filter", "filterArn", "Filters", parent_field="datasetGroupArn"),
    "recommender": PersonalizeResource(
        "recommender", "recommender", "recommenderArn", "recommenders", parent_field="datasetGroupArn"
    ),
}


def _normalized(value: Any, *, like: Any = None) -> Any:
    """Compare settings the way Personalize echoes them: JSON by content, enums case-insensitively.

    A flag Personalize leaves out of a description (``like`` a bool) counts as False.
    """
    if isinstance(like, bool):
        return bool(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value.casefold()
        return parsed if isinstance(parsed, dict | list) else value.casefold()
    return value


def _failed(
    resource: PersonalizeResource, arn: str, error: WaiterError | WaiterTerminalFailure
) -> PersonalizeResourceFailedError:
    """The error of a wait that reached a failure state: the resource's status and failureReason."""
    response = error.last_response or {}
    details = [str(value) for query in resource.status_queries if (value := jmespath.search(query, response))]
    return PersonalizeResourceFailedError(
        f"{resource.failure_message(arn)}: " + (" - ".join(details) or str(error))
    )


class PersonalizeHook(AwsBaseHook):
    """
    Interact with Amazon Personalize.

    Provide a thin wrapper around :external+boto3:py:class:`boto3.client("personalize") <Personalize.Client>`,
    with custom waiters read from ``waiters/personalize.json`` next to this package, get-or-create
    helpers that make operators idempotent, and waits that surface Personalize's ``failureReason``.

    Additional arguments (such as ``aws_conn_id``) may be specified and
    are passed down to the underlying AwsBaseHook.

    .. seealso::
        - :class:`airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["client_type"] = "personalize"
        super().__init__(*args, **kwargs)

    @cached_property
    def waiter_path(self) -> Path:
        """Custom waiters live in this plugin, not in the Amazon provider package."""
        return WAITERS_FILE

    def describe(self, *, kind: str, arn: str) -> dict[str, Any]:
        """
        Return the Describe response body of one resource.

        :param kind: A key of :data:`RESOURCES`, e.g. ``"solution_version"``.
        :param arn: The resource's ARN.
        """
        resource = RESOURCES[kind]
        response = getattr(self.conn, resource.describe_method)(**{resource.arn_field: arn})
        return response[resource.key]

    def find_by_name(self, *, kind: str, name: str, parent_arn: str | None = None) -> dict[str, Any] | None:
        """
        Return the description of the resource of this kind called ``name``, or None.

        :param kind: A key of :data:`RESOURCES`.
        :param name: The resource's name (``jobName`` for jobs).
        :param parent_arn: Restrict the listing to this parent (dataset group, dataset, solution...).
        """
        resource = RESOURCES[kind]
        list_args = {resource.parent_field: parent_arn} if parent_arn and resource.parent_field else {}
        for page in self.conn.get_paginator(resource.list_method).paginate(**list_args):
            for summary in page.get(resource.list_key, []):
                if resource.name_field in summary:
                    if summary[resource.name_field] == name:
                        return self.describe(kind=kind, arn=summary[resource.arn_field])
                    continue
                # Solution version summaries carry no name: describe each to find it.
                described = self.describe(kind=kind, arn=summary[resource.arn_field])
                if described.get(resource.name_field) == name:
                    return described
        return None

    def get_or_create(
        self,
        *,
        kind: str,
        name: str,
        create: Callable[[], str],
        expected: Mapping[str, Any],
        parent_arn: str | None = None,
    ) -> tuple[str, bool]:
        """
        Create a resource, or reuse the one a previous try created under the same name.

        Returns ``(arn, created)``. When Personalize answers ResourceAlreadyExistsException, the existing
        resource is reused if every ``expected`` setting matches, else
        :class:`PersonalizeResourceConflictError` names the settings that differ. LimitExceededException
        is treated the same way when a resource of that name exists (an earlier try used up the limit,
        e.g. the one event tracker a dataset group may have), and re-raised otherwise.

        :param kind: A key of :data:`RESOURCES`.
        :param name: The deterministic name the resource is created under.
        :param create: Calls the Create API and returns the new ARN.
        :param expected: JMESPath into the existing description (e.g. ``recipeArn``) -> requested value.
        :param parent_arn: Parent to list under when looking the existing resource up.
        """
        resource = RESOURCES[kind]
        try:
            return create(), True
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code not in ("ResourceAlreadyExistsException", "LimitExceededException"):
                raise
            existing = self.find_by_name(kind=kind, name=name, parent_arn=parent_arn)
            if existing is None and parent_arn:
                # The name may be taken under another parent: find it, so reuse() names the difference.
                existing = self.find_by_name(kind=kind, name=name)
            if existing is None:
                if code == "LimitExceededException":
                    raise
                raise PersonalizeResourceConflictError(
                    f"Personalize refused to create {resource.label} {name!r} "
                    f"({error.response['Error'].get('Message', error)}) and no {resource.label} of that name "
                    "exists to reuse."
                ) from error
        return self.reuse(kind=kind, existing=existing, expected=expected), False

    def reuse(self, *, kind: str, existing: dict[str, Any], expected: Mapping[str, Any]) -> str:
        """
        Return the ARN of ``existing`` if its settings match ``expected``; raise a clear error otherwise.

        :param kind: A key of :data:`RESOURCES`.
        :param existing: The existing resource's description.
        :param expected: JMESPath (into the description) -> requested value.
        """
        resource = RESOURCES[kind]
        arn = existing[resource.arn_field]
        name = existing.get(resource.name_field)
        if existing.get("status") in DELETING_STATES:
            raise PersonalizeResourceConflictError(
                f"Personalize {resource.label} {name!r} ({arn}) is being deleted "
                f"({existing['status']}); wait for the deletion to finish or choose another name."
            )
        differences = [
            f"{path}: existing {actual!r}, requested {wanted!r}"
            for path, wanted in expected.items()
            if wanted is not None
            and _normalized(actual := jmespath.search(path, existing), like=wanted) != _normalized(wanted)
        ]
        if differences:
            raise PersonalizeResourceConflictError(
                f"Personalize {resource.label} {name!r} already exists ({arn}) with different settings: "
                + "; ".join(differences)
                + ". Choose another name or delete the existing resource."
            )
        self.log.info("Reusing existing Personalize %s %r: %s", resource.label, name, arn)
        return arn

    def poll(self, *, waiter_name: str, kind: str, arn: str) -> bool:
        """
        Check once: True when the waiter's success state is reached, False while Personalize still works.

        Raises :class:`PersonalizeResourceFailedError` with the failureReason on a failure state.

        :param waiter_name: A waiter from ``waiters/personalize.json``.
        :param kind: A key of :data:`RESOURCES`: the kind of resource checked.
        :param arn: The resource's ARN.
        """
        resource = RESOURCES[kind]
        try:
            self.get_waiter(waiter_name).wait(
                **{resource.arn_field: arn}, WaiterConfig={"Delay": 1, "MaxAttempts": 1}
            )
        except WaiterError as error:
            if "terminal failure" in str(error):
                raise _failed(resource, arn, error) from error
            if "Max attempts exceeded" in str(error):
                return False
            code = (error.last_response or {}).get("Error", {}).get("Code")
            if code in RETRIABLE_ERROR_CODES:
                self.log.info(
                    "Personalize %s %s not checked (%s); the wait will check again.",
                    resource.label,
                    arn,
                    code,
                )
                return False
            raise AirflowException(f"Checking Personalize {resource.label} {arn}: {error}") from error
        return True

    def wait_for(
        self,
        *,
        waiter_name: str,
        kind: str,
        arn: str,
        waiter_delay: int,
        waiter_max_attempts: int,
    ) -> None:
        """
        Block until the named custom waiter succeeds; raise with Personalize's failureReason if it fails.

        :param waiter_name: A waiter from ``waiters/personalize.json``, e.g. ``solution_version_complete``.
        :param kind: A key of :data:`RESOURCES`: the kind of resource waited on.
        :param arn: The resource's ARN.
        :param waiter_delay: Seconds between two status checks.
        :param waiter_max_attempts: Status checks before giving up.
        """
        resource = RESOURCES[kind]
        try:
            wait(
                waiter=self.get_waiter(waiter_name),
                waiter_delay=waiter_delay,
                waiter_max_attempts=waiter_max_attempts,
                args={resource.arn_field: arn},
                failure_message=resource.failure_message(arn),
                status_message=resource.status_message,
                status_args=resource.status_queries,
            )
        except WaiterTerminalFailure as failure:
            raise _failed(resource, arn, failure) from failure


class PersonalizeRuntimeHook(AwsBaseHook):
    """
    Interact with Amazon Personalize Runtime (GetRecommendations, GetPersonalizedRanking).

    Provide a thin wrapper around
    :external+boto3:py:class:`boto3.client("personalize-runtime") <PersonalizeRuntime.Client>`.

    .. seealso::
        - :class:`airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["client_type"] = "personalize-runtime"
        super().__init__(*args, **kwargs)


class PersonalizeEventsHook(AwsBaseHook):
    """
    Interact with Amazon Personalize Events (PutEvents, PutItems, PutUsers).

    Provide a thin wrapper around
    :external+boto3:py:class:`boto3.client("personalize-events") <PersonalizeEvents.Client>`.

    .. seealso::
        - :class:`airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["client_type"] = "personalize-events"
        super().__init__(*args, **kwargs)
