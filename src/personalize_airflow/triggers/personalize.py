"""The trigger that waits for an Amazon Personalize resource in the triggerer, holding no worker slot."""

from __future__ import annotations

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

from personalize_airflow.hooks.personalize import RESOURCES, PersonalizeHook, waiter_timing


class PersonalizeWaiterTrigger(AwsBaseWaiterTrigger):
    """
    Trigger when an Amazon Personalize resource is done: runs a custom waiter of ``waiters/personalize.json``.

    Its success event carries the ARN under ``arn``; its error event's ``message`` carries the status
    and Personalize's ``failureReason``.

    :param kind: The kind of resource waited on (a key of ``RESOURCES``), e.g. ``"solution_version"``.
    :param waiter_name: The custom waiter to run, e.g. ``"solution_version_complete"``.
    :param arn: The ARN of the resource waited on.
    :param waiter_delay: The amount of time in seconds to wait between attempts.
        (default: the waiter's ``delay`` in ``waiters/personalize.json``)
    :param waiter_max_attempts: The maximum number of attempts to be made.
        (default: the waiter's ``maxAttempts`` in ``waiters/personalize.json``)
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
        waiter_delay: int | None = None,
        waiter_max_attempts: int | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        resource = RESOURCES[kind]
        waiter_delay, waiter_max_attempts = waiter_timing(
            waiter_name, delay=waiter_delay, max_attempts=waiter_max_attempts
        )
        self.kind = kind
        self.arn = arn
        super().__init__(
            serialized_fields={"kind": kind, "waiter_name": waiter_name, "arn": arn},
            waiter_name=waiter_name,
            waiter_args={resource.arn_field: arn},
            failure_message=resource.failure_message(arn),
            status_message=resource.status_message,
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
