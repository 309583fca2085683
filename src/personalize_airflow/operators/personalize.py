"""
Operators for Amazon Personalize: create (or reuse) each resource, wait for it, return its ARN.

Every create is idempotent: the resource's name is a (templated) parameter the DAG derives from the run,
and when Personalize answers ResourceAlreadyExistsException the existing resource is reused if its
settings match the request, so a retry after a crash never creates a duplicate. Every wait is deferrable
by default (no worker slot is held while Personalize works); ``deferrable=False`` blocks on the waiter.

Example (names derived from the run, ARNs passed on through XCom)::

    group = PersonalizeCreateDatasetGroupOperator(task_id="dataset_group", name="shop-{{ ds_nodash }}")
    solution = PersonalizeCreateSolutionOperator(
        task_id="solution",
        name="shop-up-{{ ds_nodash }}",
        dataset_group_arn=group.output,
        recipe_arn="arn:aws:personalize:::recipe/aws-user-personalization-v2",
    )
    version = PersonalizeCreateSolutionVersionOperator(task_id="train", solution_arn=solution.output)
    PersonalizeCreateOrUpdateCampaignOperator(
        task_id="deploy", name="shop", solution_version_arn=version.output, min_provisioned_tps=1
    )
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, conf
from botocore.exceptions import ClientError

from personalize_airflow.hooks.personalize import (
    DELETING_STATES,
    RESOURCES,
    PersonalizeHook,
    PersonalizeResourceConflictError,
    PersonalizeResourceFailedError,
    derive_name,
    waiter_timing,
)
from personalize_airflow.links.personalize import (
    PersonalizeBatchInferenceJobLink,
    PersonalizeBatchSegmentJobLink,
    PersonalizeCampaignLink,
    PersonalizeDatasetGroupLink,
    PersonalizeDatasetImportJobLink,
    PersonalizeDatasetLink,
    PersonalizeEventTrackerLink,
    PersonalizeFilterLink,
    PersonalizeRecommenderLink,
    PersonalizeSchemaLink,
    PersonalizeSolutionLink,
    PersonalizeSolutionVersionLink,
    console_route,
)
from personalize_airflow.triggers.personalize import PersonalizeWaiterTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

IN_FLIGHT_STATES = ("CREATE PENDING", "CREATE IN_PROGRESS")
STOPPING_STATES = ("STOP PENDING", "STOP IN_PROGRESS")
STARTING_STATES = ("START PENDING", "START IN_PROGRESS")


def default_deferrable() -> bool:
    """
    Deferrable unless the config says otherwise: ``[personalize] default_deferrable``, else the env var
    ``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE``, else True.

    ``[operators] default_deferrable`` in airflow.cfg is not read: Airflow writes its default (false) into
    every generated airflow.cfg, so a value there cannot be told apart from nobody having chosen.
    """
    if conf.has_option("personalize", "default_deferrable"):
        return conf.getboolean("personalize", "default_deferrable")
    if "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE" in os.environ:
        return conf.getboolean("operators", "default_deferrable")
    return True


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _tags(tags: dict[str, str] | None) -> dict[str, Any]:
    return {"tags": [{"tagKey": k, "tagValue": v} for k, v in tags.items()]} if tags else {}


def _present(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class PersonalizeWaitMixin:
    """
    What Personalize operators and sensors share to wait on one resource with one custom waiter.

    Subclasses set ``kind`` (a key of ``RESOURCES``) and ``waiter_name`` (a waiter of
    ``waiters/personalize.json``).
    """

    kind: ClassVar[str]
    waiter_name: ClassVar[str | None] = None

    @property
    def resource_label(self) -> str:
        return RESOURCES[self.kind].label

    def is_done(self, arn: str) -> bool:
        """Check once whether the resource reached the waiter's success state; raise if it failed."""
        return self.hook.poll(waiter_name=self.waiter_name, kind=self.kind, arn=arn)

    def defer_until_done(self, arn: str, *, waiter_delay: int, waiter_max_attempts: int) -> NoReturn:
        """Hand the wait to the triggerer; Airflow resumes the task in ``execute_complete`` with its event."""
        self.defer(
            trigger=PersonalizeWaiterTrigger(
                kind=self.kind,
                waiter_name=self.waiter_name,
                arn=arn,
                waiter_delay=waiter_delay,
                waiter_max_attempts=waiter_max_attempts,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            ),
            method_name="execute_complete",
        )


class PersonalizeBaseOperator(PersonalizeWaitMixin, AwsBaseOperator[PersonalizeHook]):
    """
    Base for Personalize operators (not to be used directly in Dags): waits for a resource and links to it.

    Subclasses set ``kind`` (a key of ``RESOURCES``), ``waiter_name`` and, for creates, ``link_class``,
    and call :meth:`wait_for_resource` with the ARN at the end of ``execute``.

    :param wait_for_completion: Whether to wait for the resource to be ready. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``delay`` of the operator's waiter in ``waiters/personalize.json``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``maxAttempts`` of the operator's waiter in ``waiters/personalize.json``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True, unless
        ``[operators] default_deferrable`` is set in the Airflow config)
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
    link_class: ClassVar[type[BaseAwsLink] | None] = None
    ui_color = "#9bd4f5"

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        waiter_delay: int | None = None,
        waiter_max_attempts: int | None = None,
        deferrable: bool = default_deferrable(),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if self.waiter_name:
            waiter_delay, waiter_max_attempts = waiter_timing(
                self.waiter_name, delay=waiter_delay, max_attempts=waiter_max_attempts
            )
        self.wait_for_completion = wait_for_completion
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts
        self.deferrable = deferrable

    def get_or_create(
        self,
        *,
        name: str,
        create: Callable[[], str],
        expected: dict[str, Any],
        parent_arn: str | None = None,
    ) -> str:
        """Create the resource, or reuse the matching one an earlier try made; return its ARN."""
        arn, created = self.hook.get_or_create(
            kind=self.kind, name=name, create=create, expected=expected, parent_arn=parent_arn
        )
        if created:
            self.log.info("Created Personalize %s %r: %s", self.resource_label, name, arn)
        return arn

    def persist_link(self, context: Context, arn: str) -> None:
        if self.link_class is None:
            return
        self.link_class.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            route=console_route(arn),
        )

    def wait_for_resource(self, context: Context, arn: str) -> str:
        """Return the ARN once the resource is ready: at once, after deferring, or after blocking."""
        if not self.wait_for_completion or self.waiter_name is None:
            return arn
        if self.is_done(arn):
            self.log.info(
                "Personalize %s %s is already done waiting for (%s).",
                self.resource_label,
                arn,
                self.waiter_name,
            )
            return arn
        if self.deferrable:
            self.log.info(
                "Deferring until Personalize %s %s is done (%s).", self.resource_label, arn, self.waiter_name
            )
            self.defer_until_done(
                arn, waiter_delay=self.waiter_delay, waiter_max_attempts=self.waiter_max_attempts
            )
        self.log.info("Waiting for Personalize %s %s (%s).", self.resource_label, arn, self.waiter_name)
        self.hook.wait_for(
            waiter_name=self.waiter_name,
            kind=self.kind,
            arn=arn,
            waiter_delay=self.waiter_delay,
            waiter_max_attempts=self.waiter_max_attempts,
        )
        return arn

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        validated_event = validate_execute_complete_event(event)
        if validated_event["status"] != "success":
            raise PersonalizeResourceFailedError(
                validated_event.get("message")
                or f"Waiting for Personalize {self.resource_label} failed: {validated_event}"
            )
        self.log.info(
            "Personalize %s %s is done (%s).", self.resource_label, validated_event["arn"], self.waiter_name
        )
        return validated_event["arn"]


class PersonalizeCreateDatasetGroupOperator(PersonalizeBaseOperator):
    """
    Create an Amazon Personalize dataset group (or reuse the matching one) and wait until it is ACTIVE.

    :param name: The dataset group's name, deterministic for the run. (templated)
    :param domain: ``ECOMMERCE`` or ``VIDEO_ON_DEMAND`` for a domain dataset group; None for custom.
        (templated)
    :param role_arn: IAM role with access to the KMS key, when ``kms_key_arn`` is given. (templated)
    :param kms_key_arn: KMS key used to encrypt the datasets. (templated)
    :param tags: Tags for the new dataset group.
    :param wait_for_completion: Whether to wait for the dataset group to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``dataset_group_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``dataset_group_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The dataset group's ARN.
    """

    kind = "dataset_group"
    waiter_name = "dataset_group_active"
    link_class = PersonalizeDatasetGroupLink
    operator_extra_links = (PersonalizeDatasetGroupLink(),)
    template_fields: Sequence[str] = aws_template_fields("name", "domain", "role_arn", "kms_key_arn")

    def __init__(
        self,
        *,
        name: str,
        domain: str | None = None,
        role_arn: str | None = None,
        kms_key_arn: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.domain = domain
        self.role_arn = role_arn
        self.kms_key_arn = kms_key_arn
        self.tags = tags

    def execute(self, context: Context) -> str:
        request = _present(
            name=self.name, domain=self.domain, roleArn=self.role_arn, kmsKeyArn=self.kms_key_arn
        )
        arn = self.get_or_create(
            name=self.name,
            create=lambda: self.hook.conn.create_dataset_group(**request, **_tags(self.tags))[
                "datasetGroupArn"
            ],
            expected={"domain": self.domain, "kmsKeyArn": self.kms_key_arn},
        )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateSchemaOperator(PersonalizeBaseOperator):
    """
    Create an Amazon Personalize schema (or reuse the identical one). Schemas are ready at once.

    :param name: The schema's name, deterministic for the run. (templated)
    :param schema: The Avro schema, as a dict or a JSON string. (templated)
    :param domain: ``ECOMMERCE`` or ``VIDEO_ON_DEMAND`` for a domain schema; None for custom. (templated)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The schema's ARN.
    """

    kind = "schema"
    link_class = PersonalizeSchemaLink
    operator_extra_links = (PersonalizeSchemaLink(),)
    template_fields: Sequence[str] = aws_template_fields("name", "schema", "domain")
    template_fields_renderers: ClassVar[dict] = {"schema": "json"}

    def __init__(self, *, name: str, schema: dict | str, domain: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.schema = schema
        self.domain = domain

    def execute(self, context: Context) -> str:
        schema = self.schema if isinstance(self.schema, str) else json.dumps(self.schema)
        request = _present(name=self.name, schema=schema, domain=self.domain)
        arn = self.get_or_create(
            name=self.name,
            create=lambda: self.hook.conn.create_schema(**request)["schemaArn"],
            expected={"schema": schema, "domain": self.domain},
        )
        self.persist_link(context, arn)
        return arn


class PersonalizeCreateDatasetOperator(PersonalizeBaseOperator):
    """
    Create an Amazon Personalize dataset in a dataset group (or reuse the matching one); wait until ACTIVE.

    :param name: The dataset's name, deterministic for the run. (templated)
    :param dataset_group_arn: The dataset group to add it to. (templated)
    :param schema_arn: The schema of its records. (templated)
    :param dataset_type: ``Interactions``, ``Items``, ``Users``, ``Actions`` or ``Action_Interactions``.
        (templated)
    :param tags: Tags for the new dataset.
    :param wait_for_completion: Whether to wait for the dataset to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``dataset_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``dataset_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The dataset's ARN.
    """

    kind = "dataset"
    waiter_name = "dataset_active"
    link_class = PersonalizeDatasetLink
    operator_extra_links = (PersonalizeDatasetLink(),)
    template_fields: Sequence[str] = aws_template_fields(
        "name", "dataset_group_arn", "schema_arn", "dataset_type"
    )

    def __init__(
        self,
        *,
        name: str,
        dataset_group_arn: str,
        schema_arn: str,
        dataset_type: str,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.dataset_group_arn = dataset_group_arn
        self.schema_arn = schema_arn
        self.dataset_type = dataset_type
        self.tags = tags

    def execute(self, context: Context) -> str:
        arn = self.get_or_create(
            name=self.name,
            create=lambda: self.hook.conn.create_dataset(
                name=self.name,
                datasetGroupArn=self.dataset_group_arn,
                schemaArn=self.schema_arn,
                datasetType=self.dataset_type,
                **_tags(self.tags),
            )["datasetArn"],
            expected={
                "datasetGroupArn": self.dataset_group_arn,
                "schemaArn": self.schema_arn,
                "datasetType": self.dataset_type,
            },
            parent_arn=self.dataset_group_arn,
        )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateDatasetImportJobOperator(PersonalizeBaseOperator):
    """
    Import data from S3 into a Personalize dataset (or reuse the matching job) and wait until it is done.

    :param job_name: The import job's name, deterministic for the run. (templated)
    :param dataset_arn: The dataset to import into. (templated)
    :param data_location: The S3 path (a file, or a folder ending in ``/``) of the CSV data. (templated)
    :param role_arn: IAM role Personalize assumes to read the bucket. (templated)
    :param import_mode: ``FULL`` (replace) or ``INCREMENTAL`` (append); None for the service default.
        (templated)
    :param tags: Tags for the new import job.
    :param wait_for_completion: Whether to wait for the import to finish. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``dataset_import_job_complete`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``dataset_import_job_complete`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The dataset import job's ARN.
    """

    kind = "dataset_import_job"
    waiter_name = "dataset_import_job_complete"
    link_class = PersonalizeDatasetImportJobLink
    operator_extra_links = (PersonalizeDatasetImportJobLink(),)
    template_fields: Sequence[str] = aws_template_fields(
        "job_name", "dataset_arn", "data_location", "role_arn", "import_mode"
    )

    def __init__(
        self,
        *,
        job_name: str,
        dataset_arn: str,
        data_location: str,
        role_arn: str | None = None,
        import_mode: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.dataset_arn = dataset_arn
        self.data_location = data_location
        self.role_arn = role_arn
        self.import_mode = import_mode
        self.tags = tags

    def execute(self, context: Context) -> str:
        request = _present(
            jobName=self.job_name,
            datasetArn=self.dataset_arn,
            dataSource={"dataLocation": self.data_location},
            roleArn=self.role_arn,
            importMode=self.import_mode,
        )
        arn = self.get_or_create(
            name=self.job_name,
            create=lambda: self.hook.conn.create_dataset_import_job(**request, **_tags(self.tags))[
                "datasetImportJobArn"
            ],
            expected={
                "datasetArn": self.dataset_arn,
                "dataSource.dataLocation": self.data_location,
                "importMode": self.import_mode,
            },
            parent_arn=self.dataset_arn,
        )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateSolutionOperator(PersonalizeBaseOperator):
    """
    Create an Amazon Personalize solution (a recipe and its settings) or reuse the matching one.

    :param name: The solution's name, deterministic for the run. (templated)
    :param dataset_group_arn: The dataset group it trains on. (templated)
    :param recipe_arn: The recipe, e.g. ``arn:aws:personalize:::recipe/aws-user-personalization``.
        (templated)
    :param event_type: Train only on interactions of this event type. (templated)
    :param perform_hpo: Whether to run hyperparameter optimization. (default: False)
    :param solution_config: The ``solutionConfig`` structure (HPO config, event value threshold,
        algorithm and feature transformation hyperparameters...). (templated)
    :param tags: Tags for the new solution.
    :param wait_for_completion: Whether to wait for the solution to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``solution_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``solution_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The solution's ARN.
    """

    kind = "solution"
    waiter_name = "solution_active"
    link_class = PersonalizeSolutionLink
    operator_extra_links = (PersonalizeSolutionLink(),)
    template_fields: Sequence[str] = aws_template_fields(
        "name", "dataset_group_arn", "recipe_arn", "event_type", "solution_config"
    )
    template_fields_renderers: ClassVar[dict] = {"solution_config": "json"}

    def __init__(
        self,
        *,
        name: str,
        dataset_group_arn: str,
        recipe_arn: str,
        event_type: str | None = None,
        perform_hpo: bool = False,
        solution_config: dict | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.dataset_group_arn = dataset_group_arn
        self.recipe_arn = recipe_arn
        self.event_type = event_type
        self.perform_hpo = perform_hpo
        self.solution_config = solution_config
        self.tags = tags

    def execute(self, context: Context) -> str:
        request = _present(
            name=self.name,
            datasetGroupArn=self.dataset_group_arn,
            recipeArn=self.recipe_arn,
            eventType=self.event_type,
            performHPO=self.perform_hpo,
            solutionConfig=self.solution_config,
        )
        arn = self.get_or_create(
            name=self.name,
            create=lambda: self.hook.conn.create_solution(**request, **_tags(self.tags))["solutionArn"],
            expected={
                "datasetGroupArn": self.dataset_group_arn,
                "recipeArn": self.recipe_arn,
                "eventType": self.event_type,
                "performHPO": self.perform_hpo,
            },
            parent_arn=self.dataset_group_arn,
        )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateSolutionVersionOperator(PersonalizeBaseOperator):
    """
    Train a new version of a Personalize solution, and wait (deferred) until training ends.

    The version is named deterministically — by default from the dag id, task id, run id and map index —
    and looked up by that name before anything is created, so a retry of the same task finds the version
    an earlier try started (in flight or ACTIVE) and waits for it instead of training a second one.

    :param solution_arn: The solution to train. (templated)
    :param training_mode: ``FULL``, ``UPDATE`` (incremental) or ``AUTOTRAIN``. (templated, default FULL)
    :param name: The version's name; None derives one from the task instance. (templated)
    :param tags: Tags for the new solution version.
    :param wait_for_completion: Whether to wait for training to finish. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``solution_version_complete`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``solution_version_complete`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The solution version's ARN.
    """

    kind = "solution_version"
    waiter_name = "solution_version_complete"
    link_class = PersonalizeSolutionVersionLink
    operator_extra_links = (PersonalizeSolutionVersionLink(),)
    template_fields: Sequence[str] = aws_template_fields("solution_arn", "training_mode", "name")

    def __init__(
        self,
        *,
        solution_arn: str,
        training_mode: str = "FULL",
        name: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.solution_arn = solution_arn
        self.training_mode = training_mode
        self.name = name
        self.tags = tags

    def version_name(self, context: Context) -> str:
        """The deterministic name of the version this task instance trains."""
        if self.name:
            return self.name
        ti = context["ti"]
        return derive_name(ti.task_id, ti.dag_id, ti.task_id, ti.run_id, str(ti.map_index))

    def execute(self, context: Context) -> str:
        name = self.version_name(context)
        expected = {"solutionArn": self.solution_arn, "trainingMode": self.training_mode}
        existing = self.hook.find_by_name(kind=self.kind, name=name, parent_arn=self.solution_arn)
        if existing is not None:
            self.log.info(
                "An earlier try already started solution version %r (%s).", name, existing["status"]
            )
            arn = self.hook.reuse(kind=self.kind, existing=existing, expected=expected)
        else:
            arn = self.get_or_create(
                name=name,
                create=lambda: self.hook.conn.create_solution_version(
                    name=name,
                    solutionArn=self.solution_arn,
                    trainingMode=self.training_mode,
                    **_tags(self.tags),
                )["solutionVersionArn"],
                expected=expected,
                parent_arn=self.solution_arn,
            )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateOrUpdateCampaignOperator(PersonalizeBaseOperator):
    """
    Deploy a solution version: create the campaign, or update the existing one to the new version.

    Waits until the campaign, including its latest update, is ACTIVE; a failed update fails the task
    with its failureReason while Personalize keeps serving the previous version. The solution version
    served before this task's update is pushed to XCom as ``previous_solution_version_arn``, so a later
    step can roll back; nothing is pushed when the campaign was created, or already served the version
    (``xcom_pull`` gives None then; Airflow 3.0 cannot push a None value, apache/airflow#55062).

    :param name: The campaign's name. (templated)
    :param solution_version_arn: The solution version to serve. (templated)
    :param min_provisioned_tps: Minimum provisioned transactions per second. (templated)
    :param campaign_config: The ``campaignConfig`` structure (e.g. ``itemExplorationConfig``). (templated)
    :param tags: Tags for a new campaign.
    :param wait_for_completion: Whether to wait for the campaign to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``campaign_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``campaign_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The campaign's ARN.
    """

    kind = "campaign"
    waiter_name = "campaign_active"
    link_class = PersonalizeCampaignLink
    operator_extra_links = (PersonalizeCampaignLink(),)
    template_fields: Sequence[str] = aws_template_fields(
        "name", "solution_version_arn", "min_provisioned_tps", "campaign_config"
    )
    template_fields_renderers: ClassVar[dict] = {"campaign_config": "json"}

    def __init__(
        self,
        *,
        name: str,
        solution_version_arn: str,
        min_provisioned_tps: int | None = None,
        campaign_config: dict | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.solution_version_arn = solution_version_arn
        self.min_provisioned_tps = min_provisioned_tps
        self.campaign_config = campaign_config
        self.tags = tags

    def execute(self, context: Context) -> str:
        settings = _present(
            minProvisionedTPS=int(self.min_provisioned_tps) if self.min_provisioned_tps is not None else None,
            campaignConfig=self.campaign_config,
        )
        previous: str | None = None
        try:
            arn = self.hook.conn.create_campaign(
                name=self.name, solutionVersionArn=self.solution_version_arn, **settings, **_tags(self.tags)
            )["campaignArn"]
            self.log.info("Created Personalize campaign %r: %s", self.name, arn)
        except ClientError as error:
            if _error_code(error) != "ResourceAlreadyExistsException":
                raise
            existing = self.hook.find_by_name(kind=self.kind, name=self.name)
            if existing is None:
                raise AirflowException(
                    f"Personalize says campaign {self.name!r} already exists but it is not listed: {error}"
                ) from error
            arn = existing["campaignArn"]
            wait_due, previous = self._converge(existing, settings)
            if not wait_due:
                self.persist_link(context, arn)
                self._push_previous(context, previous)
                return arn
        self.persist_link(context, arn)
        self._push_previous(context, previous)
        return self.wait_for_resource(context, arn)

    @staticmethod
    def _push_previous(context: Context, previous: str | None) -> None:
        if previous is not None:
            context["ti"].xcom_push(key="previous_solution_version_arn", value=previous)

    def _converge(self, existing: dict[str, Any], settings: dict[str, Any]) -> tuple[bool, str | None]:
        """
        Update the campaign unless it already serves (or is moving to) the request.

        Returns whether a wait is due, and the version served before this task's update (None when the
        campaign already served the requested version).
        """
        arn, status = existing["campaignArn"], existing.get("status")
        if status in DELETING_STATES:
            raise PersonalizeResourceConflictError(f"Personalize campaign {arn} is being deleted ({status}).")
        serving_version = existing.get("solutionVersionArn")
        update = existing.get("latestCampaignUpdate") or {}
        if update.get("status") in IN_FLIGHT_STATES:
            if update.get("solutionVersionArn") != self.solution_version_arn:
                raise PersonalizeResourceConflictError(
                    f"Personalize campaign {arn} is being updated to {update.get('solutionVersionArn')}; "
                    f"it cannot move to {self.solution_version_arn} until that update ends."
                )
            self.log.info("Campaign %s is already being updated to %s.", arn, self.solution_version_arn)
            return True, serving_version
        serving = {
            "solutionVersionArn": serving_version,
            "minProvisionedTPS": existing.get("minProvisionedTPS"),
            "campaignConfig": existing.get("campaignConfig"),
        }
        wanted = {"solutionVersionArn": self.solution_version_arn, **settings}
        if all(serving[key] == value for key, value in wanted.items()):
            self.log.info("Campaign %s already serves %s.", arn, self.solution_version_arn)
            return status != "ACTIVE", None
        self.log.info("Updating campaign %s from %s to %s.", arn, serving_version, self.solution_version_arn)
        self.hook.conn.update_campaign(
            campaignArn=arn, solutionVersionArn=self.solution_version_arn, **settings
        )
        return True, serving_version


BATCH_JOB_FIELDS = (
    "job_name",
    "solution_version_arn",
    "input_path",
    "output_path",
    "role_arn",
    "num_results",
    "filter_arn",
)
"""The templated parameters every batch job operator takes."""


class _PersonalizeBatchJobOperator(PersonalizeBaseOperator):
    """
    Base for the batch jobs (not to be used directly in Dags): one S3 input file through a solution version
    into an S3 folder, created (or reused by name) and waited for.

    Subclasses set ``kind``, ``waiter_name``, ``link_class``, ``create_method`` (the client's create call)
    and may add to the request in :meth:`job_settings`.
    """

    create_method: ClassVar[str]

    def __init__(
        self,
        *,
        job_name: str,
        solution_version_arn: str,
        input_path: str,
        output_path: str,
        role_arn: str,
        num_results: int | None = None,
        filter_arn: str | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.solution_version_arn = solution_version_arn
        self.input_path = input_path
        self.output_path = output_path
        self.role_arn = role_arn
        self.num_results = num_results
        self.filter_arn = filter_arn
        self.tags = tags

    def job_settings(self) -> dict[str, Any]:
        """What this kind of job adds to the create request."""
        return {}

    def execute(self, context: Context) -> str:
        request = _present(
            jobName=self.job_name,
            solutionVersionArn=self.solution_version_arn,
            jobInput={"s3DataSource": {"path": self.input_path}},
            jobOutput={"s3DataDestination": {"path": self.output_path}},
            roleArn=self.role_arn,
            numResults=int(self.num_results) if self.num_results is not None else None,
            filterArn=self.filter_arn,
            **self.job_settings(),
        )
        create = getattr(self.hook.conn, self.create_method)
        arn = self.get_or_create(
            name=self.job_name,
            create=lambda: create(**request, **_tags(self.tags))[RESOURCES[self.kind].arn_field],
            expected={
                "solutionVersionArn": self.solution_version_arn,
                "jobInput.s3DataSource.path": self.input_path,
                "jobOutput.s3DataDestination.path": self.output_path,
            },
            parent_arn=self.solution_version_arn,
        )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateBatchInferenceJobOperator(_PersonalizeBatchJobOperator):
    """
    Score a file of users (or items) with a solution version in batch, and wait until the job is done.

    :param job_name: The job's name, deterministic for the run. (templated)
    :param solution_version_arn: The solution version to score with. (templated)
    :param input_path: S3 path of the JSON Lines input. (templated)
    :param output_path: S3 folder the results are written to. (templated)
    :param role_arn: IAM role Personalize assumes to read and write the bucket. (templated)
    :param num_results: Recommendations per input line. (templated)
    :param filter_arn: Filter applied to the recommendations. (templated)
    :param batch_inference_job_config: The ``batchInferenceJobConfig`` structure. (templated)
    :param tags: Tags for the new job.
    :param wait_for_completion: Whether to wait for the job to finish. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``batch_inference_job_complete`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``batch_inference_job_complete`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The batch inference job's ARN.
    """

    kind = "batch_inference_job"
    waiter_name = "batch_inference_job_complete"
    create_method = "create_batch_inference_job"
    link_class = PersonalizeBatchInferenceJobLink
    operator_extra_links = (PersonalizeBatchInferenceJobLink(),)
    template_fields: Sequence[str] = aws_template_fields(*BATCH_JOB_FIELDS, "batch_inference_job_config")

    def __init__(
        self,
        *,
        job_name: str,
        solution_version_arn: str,
        input_path: str,
        output_path: str,
        role_arn: str,
        batch_inference_job_config: dict | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            job_name=job_name,
            solution_version_arn=solution_version_arn,
            input_path=input_path,
            output_path=output_path,
            role_arn=role_arn,
            **kwargs,
        )
        self.batch_inference_job_config = batch_inference_job_config

    def job_settings(self) -> dict[str, Any]:
        return _present(batchInferenceJobConfig=self.batch_inference_job_config)


class PersonalizeCreateBatchSegmentJobOperator(_PersonalizeBatchJobOperator):
    """
    Find the users most likely to engage with each item (or item-attribute query) of a file, with an
    aws-item-affinity or aws-item-attribute-affinity solution version, and wait until the job is done.

    :param job_name: The job's name, deterministic for the run. (templated)
    :param solution_version_arn: The affinity solution version. (templated)
    :param input_path: S3 path of the JSON Lines input: ``{"itemId": ...}`` or ``{"itemAttributes": ...}``
        per line. (templated)
    :param output_path: S3 folder the segments are written to. (templated)
    :param role_arn: IAM role Personalize assumes to read and write the bucket. (templated)
    :param num_results: Users per segment. (templated)
    :param filter_arn: A user filter applied to the segments. (templated)
    :param tags: Tags for the new job.
    :param wait_for_completion: Whether to wait for the job to finish. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``batch_segment_job_complete`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``batch_segment_job_complete`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The batch segment job's ARN.
    """

    kind = "batch_segment_job"
    waiter_name = "batch_segment_job_complete"
    create_method = "create_batch_segment_job"
    link_class = PersonalizeBatchSegmentJobLink
    operator_extra_links = (PersonalizeBatchSegmentJobLink(),)
    template_fields: Sequence[str] = aws_template_fields(*BATCH_JOB_FIELDS)


class PersonalizeCreateEventTrackerOperator(PersonalizeBaseOperator):
    """
    Create an event tracker for a dataset group (or reuse the matching one) and wait until it is ACTIVE.

    Its tracking id (what PutEvents needs) is pushed to XCom as ``tracking_id``.

    :param name: The event tracker's name. (templated)
    :param dataset_group_arn: The dataset group whose interactions it records. (templated)
    :param tags: Tags for the new event tracker.
    :param wait_for_completion: Whether to wait for the event tracker to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``event_tracker_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``event_tracker_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The event tracker's ARN.
    """

    kind = "event_tracker"
    waiter_name = "event_tracker_active"
    link_class = PersonalizeEventTrackerLink
    operator_extra_links = (PersonalizeEventTrackerLink(),)
    template_fields: Sequence[str] = aws_template_fields("name", "dataset_group_arn")

    def __init__(
        self, *, name: str, dataset_group_arn: str, tags: dict[str, str] | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.dataset_group_arn = dataset_group_arn
        self.tags = tags

    def execute(self, context: Context) -> str:
        arn = self.get_or_create(
            name=self.name,
            create=lambda: self.hook.conn.create_event_tracker(
                name=self.name, datasetGroupArn=self.dataset_group_arn, **_tags(self.tags)
            )["eventTrackerArn"],
            expected={"datasetGroupArn": self.dataset_group_arn},
            parent_arn=self.dataset_group_arn,
        )
        tracking_id = self.hook.describe(kind=self.kind, arn=arn).get("trackingId")
        context["ti"].xcom_push(key="tracking_id", value=tracking_id)
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateFilterOperator(PersonalizeBaseOperator):
    """
    Create a recommendation filter (or reuse the matching one) and wait until it is ACTIVE.

    :param name: The filter's name. (templated)
    :param dataset_group_arn: The dataset group it filters for. (templated)
    :param filter_expression: The filter expression, e.g. ``EXCLUDE ItemID WHERE Interactions.EVENT_TYPE
        IN ("purchase")``. (templated)
    :param tags: Tags for the new filter.
    :param wait_for_completion: Whether to wait for the filter to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``filter_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``filter_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The filter's ARN.
    """

    kind = "filter"
    waiter_name = "filter_active"
    link_class = PersonalizeFilterLink
    operator_extra_links = (PersonalizeFilterLink(),)
    template_fields: Sequence[str] = aws_template_fields("name", "dataset_group_arn", "filter_expression")

    def __init__(
        self,
        *,
        name: str,
        dataset_group_arn: str,
        filter_expression: str,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.dataset_group_arn = dataset_group_arn
        self.filter_expression = filter_expression
        self.tags = tags

    def execute(self, context: Context) -> str:
        arn = self.get_or_create(
            name=self.name,
            create=lambda: self.hook.conn.create_filter(
                name=self.name,
                datasetGroupArn=self.dataset_group_arn,
                filterExpression=self.filter_expression,
                **_tags(self.tags),
            )["filterArn"],
            expected={"datasetGroupArn": self.dataset_group_arn, "filterExpression": self.filter_expression},
            parent_arn=self.dataset_group_arn,
        )
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeCreateRecommenderOperator(PersonalizeBaseOperator):
    """
    Create a recommender of a domain dataset group, or converge the one of that name; wait until ACTIVE.

    An existing recommender of that name is reused when its dataset group and recipe are the requested
    ones (else the task fails naming the difference); when its ``recommenderConfig`` differs from the
    request it is updated (UpdateRecommender) and the wait covers the update; a stopped (INACTIVE) one is
    started, its config updated by a later run once it is ACTIVE.

    :param name: The recommender's name, deterministic for the run. (templated)
    :param dataset_group_arn: The domain dataset group it recommends from. (templated)
    :param recipe_arn: A recipe of the group's domain, e.g. ``arn:aws:personalize:::recipe/aws-vod-top-picks``.
        (templated)
    :param recommender_config: The ``recommenderConfig`` structure (``minRecommendationRequestsPerSecond``,
        ``itemExplorationConfig``, ``trainingDataConfig``...). (templated)
    :param tags: Tags for a new recommender.
    :param wait_for_completion: Whether to wait for the recommender to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``recommender_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``recommender_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The recommender's ARN.
    """

    kind = "recommender"
    waiter_name = "recommender_active"
    link_class = PersonalizeRecommenderLink
    operator_extra_links = (PersonalizeRecommenderLink(),)
    template_fields: Sequence[str] = aws_template_fields(
        "name", "dataset_group_arn", "recipe_arn", "recommender_config"
    )
    template_fields_renderers: ClassVar[dict] = {"recommender_config": "json"}

    def __init__(
        self,
        *,
        name: str,
        dataset_group_arn: str,
        recipe_arn: str,
        recommender_config: dict | None = None,
        tags: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.dataset_group_arn = dataset_group_arn
        self.recipe_arn = recipe_arn
        self.recommender_config = recommender_config
        self.tags = tags

    def execute(self, context: Context) -> str:
        request = _present(
            name=self.name,
            datasetGroupArn=self.dataset_group_arn,
            recipeArn=self.recipe_arn,
            recommenderConfig=self.recommender_config,
        )
        try:
            arn = self.hook.conn.create_recommender(**request, **_tags(self.tags))["recommenderArn"]
            self.log.info("Created Personalize recommender %r: %s", self.name, arn)
        except ClientError as error:
            if _error_code(error) != "ResourceAlreadyExistsException":
                raise
            existing = self.hook.find_by_name(
                kind=self.kind, name=self.name, parent_arn=self.dataset_group_arn
            ) or self.hook.find_by_name(kind=self.kind, name=self.name)
            if existing is None:
                raise AirflowException(
                    f"Personalize says recommender {self.name!r} already exists but it is not listed: {error}"
                ) from error
            arn = self.hook.reuse(
                kind=self.kind,
                existing=existing,
                expected={"datasetGroupArn": self.dataset_group_arn, "recipeArn": self.recipe_arn},
            )
            self._converge(existing)
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)

    def _converge(self, existing: dict[str, Any]) -> None:
        """Start a stopped recommender; update one whose config differs from the request."""
        arn, status = existing["recommenderArn"], existing.get("status")
        if status == "INACTIVE":
            self.log.info("Recommender %s is stopped: starting it.", arn)
            self.hook.conn.start_recommender(recommenderArn=arn)
            return
        wanted = self.recommender_config or {}
        update = existing.get("latestRecommenderUpdate") or {}
        if update.get("status") in IN_FLIGHT_STATES:
            pending = update.get("recommenderConfig") or {}
            if any(pending.get(key) != value for key, value in wanted.items()):
                raise PersonalizeResourceConflictError(
                    f"Personalize recommender {arn} is being updated to {pending}; it cannot move to {wanted} "
                    "until that update ends."
                )
            self.log.info("Recommender %s is already being updated to %s.", arn, wanted)
            return
        current = existing.get("recommenderConfig") or {}
        if all(current.get(key) == value for key, value in wanted.items()):
            self.log.info("Recommender %s already has %s.", arn, wanted or "its config")
            return
        self.log.info("Updating recommender %s from %s to %s.", arn, current, wanted)
        self.hook.conn.update_recommender(recommenderArn=arn, recommenderConfig={**current, **wanted})


class PersonalizeSwitchRecommenderOperator(PersonalizeBaseOperator):
    """
    Base for starting and stopping a recommender (not to be used directly in Dags): make the call when the
    recommender is in ``switch_from``, fail (a retry may succeed) while it is in one of ``busy``, and wait.

    Subclasses set ``waiter_name``, ``action`` (``start`` or ``stop``: the API call), ``switch_from`` and
    ``busy``.

    :param recommender_arn: The recommender to switch. (templated)
    :param kwargs: See :class:`PersonalizeBaseOperator` (waiter and AWS connection parameters).
    """

    kind = "recommender"
    action: ClassVar[str]
    switch_from: ClassVar[str]
    busy: ClassVar[tuple[str, ...]]
    link_class = PersonalizeRecommenderLink
    operator_extra_links = (PersonalizeRecommenderLink(),)
    template_fields: Sequence[str] = aws_template_fields("recommender_arn")

    def __init__(self, *, recommender_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.recommender_arn = recommender_arn

    def execute(self, context: Context) -> str:
        arn = self.recommender_arn
        status = self.hook.describe(kind=self.kind, arn=arn)["status"]
        if status in self.busy:
            raise AirflowException(
                f"Personalize recommender {arn} is {status}; {self.action} it once it is {self.switch_from}."
            )
        if status == self.switch_from:
            getattr(self.hook.conn, f"{self.action}_recommender")(recommenderArn=arn)
            self.log.info("Personalize recommender %s: %s requested.", arn, self.action)
        else:
            self.log.info("Personalize recommender %s is %s: nothing to %s.", arn, status, self.action)
        self.persist_link(context, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeStartRecommenderOperator(PersonalizeSwitchRecommenderOperator):
    """
    Start a stopped (INACTIVE) recommender and wait until it is ACTIVE; one already ACTIVE is left as it is.

    :param recommender_arn: The recommender to start. (templated)
    :param wait_for_completion: Whether to wait for the recommender to be ACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``recommender_active`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``recommender_active`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The recommender's ARN.
    """

    waiter_name = "recommender_active"
    action = "start"
    switch_from = "INACTIVE"
    busy = STOPPING_STATES


class PersonalizeStopRecommenderOperator(PersonalizeSwitchRecommenderOperator):
    """
    Stop an ACTIVE recommender (an INACTIVE one bills nothing and keeps its model) and wait until INACTIVE;
    one already stopped or stopping is not an error.

    :param recommender_arn: The recommender to stop. (templated)
    :param wait_for_completion: Whether to wait for the recommender to be INACTIVE. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``recommender_stopped`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``recommender_stopped`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The recommender's ARN.
    """

    waiter_name = "recommender_stopped"
    action = "stop"
    switch_from = "ACTIVE"
    busy = (*IN_FLIGHT_STATES, *STARTING_STATES)


class PersonalizeDeleteResourceOperator(PersonalizeBaseOperator):
    """
    Base for the delete operators: delete one resource and wait until it is gone.

    Idempotent: a resource already gone, or already being deleted by an earlier try, is not an error.

    Subclasses set ``kind`` and take the resource's ARN as ``<kind>_arn``. (templated)

    :param wait_for_completion: Whether to wait until the resource is gone. (default: True)
    :param waiter_delay: Time in seconds to wait between status checks.
        (default: the ``<kind>_deleted`` waiter's ``delay``)
    :param waiter_max_attempts: Maximum number of status checks.
        (default: the ``<kind>_deleted`` waiter's ``maxAttempts``)
    :param deferrable: If True, wait in the triggerer, holding no worker slot. (default: True)
    :param aws_conn_id: The Airflow connection used for AWS credentials.
    :param region_name: AWS region_name. If not specified then the default boto3 behaviour is used.
    :param verify: Whether to verify SSL certificates.
    :param botocore_config: Configuration dictionary (key-values) for botocore client.
    :return: The deleted resource's ARN.
    """

    ui_color = "#f4b6a4"

    def execute(self, context: Context) -> str:
        resource = RESOURCES[self.kind]
        arn = getattr(self, resource.arn_param)
        try:
            getattr(self.hook.conn, f"delete_{resource.snake}")(**{resource.arn_field: arn})
        except ClientError as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                self.log.info("Personalize %s %s does not exist (already deleted).", resource.label, arn)
                return arn
            if (
                code != "ResourceInUseException"
                or self.hook.describe(kind=self.kind, arn=arn).get("status") not in DELETING_STATES
            ):
                raise
            self.log.info("Personalize %s %s is already being deleted.", resource.label, arn)
        else:
            self.log.info("Deleting Personalize %s %s.", resource.label, arn)
        return self.wait_for_resource(context, arn)


class PersonalizeDeleteDatasetGroupOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize dataset group (its datasets, solutions, trackers and filters must be gone) and wait.

    :param dataset_group_arn: The dataset group to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "dataset_group"
    waiter_name = "dataset_group_deleted"
    template_fields: Sequence[str] = aws_template_fields("dataset_group_arn")

    def __init__(self, *, dataset_group_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dataset_group_arn = dataset_group_arn


class PersonalizeDeleteDatasetOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize dataset and wait until it is gone.

    :param dataset_arn: The dataset to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "dataset"
    waiter_name = "dataset_deleted"
    template_fields: Sequence[str] = aws_template_fields("dataset_arn")

    def __init__(self, *, dataset_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dataset_arn = dataset_arn


class PersonalizeDeleteSchemaOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize schema (no dataset may use it) and wait until it is gone.

    :param schema_arn: The schema to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "schema"
    waiter_name = "schema_deleted"
    template_fields: Sequence[str] = aws_template_fields("schema_arn")

    def __init__(self, *, schema_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.schema_arn = schema_arn


class PersonalizeDeleteSolutionOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize solution and all its versions (no campaign may serve one) and wait until gone.

    :param solution_arn: The solution to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "solution"
    waiter_name = "solution_deleted"
    template_fields: Sequence[str] = aws_template_fields("solution_arn")

    def __init__(self, *, solution_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.solution_arn = solution_arn


class PersonalizeDeleteCampaignOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize campaign and wait until it is gone.

    :param campaign_arn: The campaign to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "campaign"
    waiter_name = "campaign_deleted"
    template_fields: Sequence[str] = aws_template_fields("campaign_arn")

    def __init__(self, *, campaign_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.campaign_arn = campaign_arn


class PersonalizeDeleteEventTrackerOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize event tracker and wait until it is gone.

    :param event_tracker_arn: The event tracker to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "event_tracker"
    waiter_name = "event_tracker_deleted"
    template_fields: Sequence[str] = aws_template_fields("event_tracker_arn")

    def __init__(self, *, event_tracker_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.event_tracker_arn = event_tracker_arn


class PersonalizeDeleteFilterOperator(PersonalizeDeleteResourceOperator):
    """
    Delete a Personalize filter and wait until it is gone.

    :param filter_arn: The filter to delete. (templated)
    :param kwargs: See :class:`PersonalizeDeleteResourceOperator` (waiter and AWS connection parameters).
    """

    kind = "filter"
    waiter_name = "filter_deleted"
    template_fields: Sequence[str] = aws_template_fields("filter_arn")

    def __init__(self, *, filter_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.filter_arn = filter_arn
