"""Sensors that wait for Amazon Personalize jobs and deployments started elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from personalize_airflow.hooks.personalize import (
    RESOURCES,
    PersonalizeHook,
    PersonalizeResourceFailedError,
    waiter_timing,
)
from personalize_airflow.operators.personalize import PersonalizeWaitMixin, default_deferrable

if TYPE_CHECKING:
    from airflow.sdk import Context


class PersonalizeResourceSensor(PersonalizeWaitMixin, AwsBaseSensor[PersonalizeHook]):
    """
    Base for Personalize sensors (not to be used directly in Dags): wait until a resource is done.

    Uses the same custom waiter as the operators, so "done" and "failed" mean the same in both; a
    failure state (CREATE FAILED...) fails the task with Personalize's failureReason. Subclasses set
    ``kind`` and ``waiter_name`` and take the ARN as ``<kind>_arn``.

    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True, unless
        ``[operators] default_deferrable`` is set in the Airflow config)
    :param poke_interval: Seconds between two status checks.
        (default: the ``delay`` of the sensor's waiter in ``waiters/personalize.json``)
    :param max_retries: Status checks in deferrable mode before giving up.
        (default: the ``maxAttempts`` of the sensor's waiter in ``waiters/personalize.json``)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
        If this is ``None`` or empty then the default boto3 behaviour is used. If
        running Airflow in a distributed manner and aws_conn_id is None or
        empty, then default boto3 configuration would be used (and must be
        maintained on each worker node).
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates. See:
        https://boto3.amazonaws.com/v1/documentation/api/latest/reference/core/session.html
    :param botocore_config: Configuration dictionary (key-values) for botocore client. See:
        https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
    """

    aws_hook_class = PersonalizeHook
    waiter_name: ClassVar[str]
    ui_color = "#66c3ff"

    def __init__(
        self,
        *,
        deferrable: bool = default_deferrable(),
        poke_interval: float | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> None:
        poke_interval, max_retries = waiter_timing(
            self.waiter_name, delay=poke_interval, max_attempts=max_retries
        )
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.deferrable = deferrable
        self.max_retries = max_retries

    @property
    def resource_arn(self) -> str:
        return getattr(self, RESOURCES[self.kind].arn_param)

    def execute(self, context: Context) -> Any:
        if self.deferrable and not self.poke(context):
            self.defer_until_done(
                self.resource_arn, waiter_delay=int(self.poke_interval), waiter_max_attempts=self.max_retries
            )
        elif not self.deferrable:
            super().execute(context=context)

    def poke(self, context: Context) -> bool:
        return self.is_done(self.resource_arn)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        validated_event = validate_execute_complete_event(event)
        if validated_event["status"] != "success":
            raise PersonalizeResourceFailedError(validated_event.get("message") or str(validated_event))
        self.log.info("Personalize %s %s is done.", self.resource_label, validated_event["arn"])


class PersonalizeDatasetImportJobSensor(PersonalizeResourceSensor):
    """
    Wait until a Personalize dataset import job has finished; fail with its failureReason if it failed.

    :param dataset_import_job_arn: The import job to wait for. (templated)
    :param kwargs: See :class:`PersonalizeResourceSensor` (deferrable, poke_interval, AWS connection...).
    """

    kind = "dataset_import_job"
    waiter_name = "dataset_import_job_complete"
    template_fields: Sequence[str] = aws_template_fields("dataset_import_job_arn")

    def __init__(self, *, dataset_import_job_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dataset_import_job_arn = dataset_import_job_arn


class PersonalizeSolutionVersionSensor(PersonalizeResourceSensor):
    """
    Wait until a Personalize solution version has finished training; fail with its failureReason if it failed.

    :param solution_version_arn: The solution version to wait for. (templated)
    :param kwargs: See :class:`PersonalizeResourceSensor` (deferrable, poke_interval, AWS connection...).
    """

    kind = "solution_version"
    waiter_name = "solution_version_complete"
    template_fields: Sequence[str] = aws_template_fields("solution_version_arn")

    def __init__(self, *, solution_version_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.solution_version_arn = solution_version_arn


class PersonalizeCampaignSensor(PersonalizeResourceSensor):
    """
    Wait until a Personalize campaign, including its latest update, is ACTIVE; fail if it failed.

    :param campaign_arn: The campaign to wait for. (templated)
    :param kwargs: See :class:`PersonalizeResourceSensor` (deferrable, poke_interval, AWS connection...).
    """

    kind = "campaign"
    waiter_name = "campaign_active"
    template_fields: Sequence[str] = aws_template_fields("campaign_arn")

    def __init__(self, *, campaign_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.campaign_arn = campaign_arn


class PersonalizeBatchInferenceJobSensor(PersonalizeResourceSensor):
    """
    Wait until a Personalize batch inference job has finished; fail with its failureReason if it failed.

    :param batch_inference_job_arn: The batch inference job to wait for. (templated)
    :param kwargs: See :class:`PersonalizeResourceSensor` (deferrable, poke_interval, AWS connection...).
    """

    kind = "batch_inference_job"
    waiter_name = "batch_inference_job_complete"
    template_fields: Sequence[str] = aws_template_fields("batch_inference_job_arn")

    def __init__(self, *, batch_inference_job_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch_inference_job_arn = batch_inference_job_arn
