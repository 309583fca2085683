"""Triggers that wait for Amazon Personalize resources in the triggerer, holding no worker slot."""

from __future__ import annotations

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

from personalize_airflow.hooks.personalize import RESOURCES, PersonalizeHook


class PersonalizeWaiterTrigger(AwsBaseWaiterTrigger):
    """
    Base for Personalize triggers: runs one custom waiter of ``waiters/personalize.json`` on one resource.

    Its success event carries the ARN under ``arn``; its error event's ``message`` carries the status
    and Personalize's ``failureReason``.

    :param kind: The kind of resource waited on (a key of ``RESOURCES``), e.g. ``"solution_version"``.
    :param waiter_name: The custom waiter to run, e.g. ``"solution_version_complete"``.
    :param arn: The ARN of the resource waited on.
    :param waiter_delay: The amount of time in seconds to wait between attempts.
    :param waiter_max_attempts: The maximum number of attempts to be made.
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: The AWS region where the resources to watch are.
    :param verify: Whether or not to verify SSL certificates.
        See: https://boto3.amazonaws.com/v1/documentation/api/latest/reference/core/session.html
    :param botocore_config: Configuration dictionary (key-values) for botocore client. See:
        https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
    """

    aws_hook_class = PersonalizeHook

    def __init__(
        self,
        *,
        kind: str,
        waiter_name: str,
        arn: str,
        waiter_delay: int,
        waiter_max_attempts: int,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        resource = RESOURCES[kind]
        super().__init__(
            serialized_fields={resource.arn_param: arn},
            waiter_name=waiter_name,
            waiter_args={resource.arn_field: arn},
            failure_message=f"Personalize {resource.label} {arn} failed",
            status_message=f"Personalize {resource.label} status",
            status_queries=resource.status_queries,
            return_key="arn",
            return_value=arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )


class PersonalizeDatasetGroupActiveTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize dataset group is ACTIVE.

    :param dataset_group_arn: The ARN of the dataset group.
    :param waiter_delay: Seconds between attempts. (default: 30)
    :param waiter_max_attempts: The maximum number of attempts. (default: 120)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, dataset_group_arn: str, waiter_delay: int = 30, waiter_max_attempts: int = 120, **kwargs
    ) -> None:
        super().__init__(
            kind="dataset_group",
            waiter_name="dataset_group_active",
            arn=dataset_group_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeDatasetActiveTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize dataset is ACTIVE.

    :param dataset_arn: The ARN of the dataset.
    :param waiter_delay: Seconds between attempts. (default: 30)
    :param waiter_max_attempts: The maximum number of attempts. (default: 120)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, dataset_arn: str, waiter_delay: int = 30, waiter_max_attempts: int = 120, **kwargs
    ) -> None:
        super().__init__(
            kind="dataset",
            waiter_name="dataset_active",
            arn=dataset_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeDatasetImportJobCompleteTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize dataset import job has finished (ACTIVE).

    :param dataset_import_job_arn: The ARN of the dataset import job.
    :param waiter_delay: Seconds between attempts. (default: 60)
    :param waiter_max_attempts: The maximum number of attempts. (default: 720)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, dataset_import_job_arn: str, waiter_delay: int = 60, waiter_max_attempts: int = 720, **kwargs
    ) -> None:
        super().__init__(
            kind="dataset_import_job",
            waiter_name="dataset_import_job_complete",
            arn=dataset_import_job_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeSolutionActiveTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize solution is ACTIVE.

    :param solution_arn: The ARN of the solution.
    :param waiter_delay: Seconds between attempts. (default: 30)
    :param waiter_max_attempts: The maximum number of attempts. (default: 120)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, solution_arn: str, waiter_delay: int = 30, waiter_max_attempts: int = 120, **kwargs
    ) -> None:
        super().__init__(
            kind="solution",
            waiter_name="solution_active",
            arn=solution_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeSolutionVersionCompleteTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize solution version has finished training (ACTIVE).

    :param solution_version_arn: The ARN of the solution version.
    :param waiter_delay: Seconds between attempts. (default: 60)
    :param waiter_max_attempts: The maximum number of attempts. (default: 720)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, solution_version_arn: str, waiter_delay: int = 60, waiter_max_attempts: int = 720, **kwargs
    ) -> None:
        super().__init__(
            kind="solution_version",
            waiter_name="solution_version_complete",
            arn=solution_version_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeCampaignActiveTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize campaign is ACTIVE, including its latest update.

    :param campaign_arn: The ARN of the campaign.
    :param waiter_delay: Seconds between attempts. (default: 30)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, campaign_arn: str, waiter_delay: int = 30, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="campaign",
            waiter_name="campaign_active",
            arn=campaign_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeBatchInferenceJobCompleteTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize batch inference job has finished (ACTIVE).

    :param batch_inference_job_arn: The ARN of the batch inference job.
    :param waiter_delay: Seconds between attempts. (default: 60)
    :param waiter_max_attempts: The maximum number of attempts. (default: 720)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self,
        *,
        batch_inference_job_arn: str,
        waiter_delay: int = 60,
        waiter_max_attempts: int = 720,
        **kwargs,
    ) -> None:
        super().__init__(
            kind="batch_inference_job",
            waiter_name="batch_inference_job_complete",
            arn=batch_inference_job_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeEventTrackerActiveTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize event tracker is ACTIVE.

    :param event_tracker_arn: The ARN of the event tracker.
    :param waiter_delay: Seconds between attempts. (default: 30)
    :param waiter_max_attempts: The maximum number of attempts. (default: 120)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, event_tracker_arn: str, waiter_delay: int = 30, waiter_max_attempts: int = 120, **kwargs
    ) -> None:
        super().__init__(
            kind="event_tracker",
            waiter_name="event_tracker_active",
            arn=event_tracker_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeFilterActiveTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize filter is ACTIVE.

    :param filter_arn: The ARN of the filter.
    :param waiter_delay: Seconds between attempts. (default: 30)
    :param waiter_max_attempts: The maximum number of attempts. (default: 120)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, filter_arn: str, waiter_delay: int = 30, waiter_max_attempts: int = 120, **kwargs
    ) -> None:
        super().__init__(
            kind="filter",
            waiter_name="filter_active",
            arn=filter_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeDatasetGroupDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize dataset group is deleted.

    :param dataset_group_arn: The ARN of the dataset group.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, dataset_group_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="dataset_group",
            waiter_name="dataset_group_deleted",
            arn=dataset_group_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeDatasetDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize dataset is deleted.

    :param dataset_arn: The ARN of the dataset.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, dataset_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="dataset",
            waiter_name="dataset_deleted",
            arn=dataset_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeSchemaDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize schema is deleted.

    :param schema_arn: The ARN of the schema.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, schema_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="schema",
            waiter_name="schema_deleted",
            arn=schema_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeSolutionDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize solution is deleted.

    :param solution_arn: The ARN of the solution.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, solution_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="solution",
            waiter_name="solution_deleted",
            arn=solution_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeCampaignDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize campaign is deleted.

    :param campaign_arn: The ARN of the campaign.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, campaign_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="campaign",
            waiter_name="campaign_deleted",
            arn=campaign_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeEventTrackerDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize event tracker is deleted.

    :param event_tracker_arn: The ARN of the event tracker.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, event_tracker_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="event_tracker",
            waiter_name="event_tracker_deleted",
            arn=event_tracker_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )


class PersonalizeFilterDeletedTrigger(PersonalizeWaiterTrigger):
    """
    Trigger when a Personalize filter is deleted.

    :param filter_arn: The ARN of the filter.
    :param waiter_delay: Seconds between attempts. (default: 15)
    :param waiter_max_attempts: The maximum number of attempts. (default: 240)
    :param kwargs: ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config``, as for
        :class:`PersonalizeWaiterTrigger`.
    """

    def __init__(
        self, *, filter_arn: str, waiter_delay: int = 15, waiter_max_attempts: int = 240, **kwargs
    ) -> None:
        super().__init__(
            kind="filter",
            waiter_name="filter_deleted",
            arn=filter_arn,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            **kwargs,
        )
