"""Least privilege for one use case: the IAM documents its DAGs need on AWS, built from its config.

- the Airflow workers' policy: the Personalize actions the DAGs call, S3 on the use case's folder of its
  bucket, ``iam:PassRole`` of the configured service role(s) to Personalize, and SNS publish when alerts
  go to a topic;
- the Personalize service role's policy (read the use case's folder, write the batch outputs) and its
  trust policy, plus the bucket policy Personalize also needs on the bucket.

Every action comes from the tables below, so the documents, the CLI and the coverage test
(``tests/test_policy_coverage.py``, which checks them against every call the DAGs make in the end-to-end
tests) share one list.
"""

from __future__ import annotations

from typing import Any

from personalize_pipelines.layout import UseCaseLayout

VERSION = "2012-10-17"
PERSONALIZE_PRINCIPAL = "personalize.amazonaws.com"
ANY = "*"

# Every Personalize API operation the DAGs call (control plane, runtime and events alike are
# ``personalize:<operation>``) → the resource type it is authorized on; None: the action has no
# resource-level permissions (the List calls), so it takes "*". From the Service Authorization Reference.
PERSONALIZE_ACTIONS: dict[str, str | None] = {
    "CreateBatchInferenceJob": "batch-inference-job",
    "CreateBatchSegmentJob": "batch-segment-job",
    "CreateCampaign": "campaign",
    "CreateDataset": "dataset",
    "CreateDatasetGroup": "dataset-group",
    "CreateDatasetImportJob": "dataset-import-job",
    "CreateEventTracker": "event-tracker",
    "CreateFilter": "filter",
    "CreateSchema": "schema",
    "CreateSolution": "solution",
    "CreateSolutionVersion": "solution",
    "DeleteCampaign": "campaign",
    "DeleteDataset": "dataset",
    "DeleteDatasetGroup": "dataset-group",
    "DeleteEventTracker": "event-tracker",
    "DeleteFilter": "filter",
    "DeleteSchema": "schema",
    "DeleteSolution": "solution",
    "DescribeBatchInferenceJob": "batch-inference-job",
    "DescribeBatchSegmentJob": "batch-segment-job",
    "DescribeCampaign": "campaign",
    "DescribeDataset": "dataset",
    "DescribeDatasetGroup": "dataset-group",
    "DescribeDatasetImportJob": "dataset-import-job",
    "DescribeEventTracker": "event-tracker",
    "DescribeFilter": "filter",
    "DescribeRecipe": "recipe",
    "DescribeSchema": "schema",
    "DescribeSolution": "solution",
    "DescribeSolutionVersion": "solution",
    "GetRecommendations": "campaign",
    "GetSolutionMetrics": "solution",
    "ListBatchInferenceJobs": None,
    "ListBatchSegmentJobs": None,
    "ListCampaigns": None,
    "ListDatasetGroups": None,
    "ListDatasetImportJobs": None,
    "ListDatasets": None,
    "ListEventTrackers": None,
    "ListFilters": None,
    "ListSchemas": None,
    "ListSolutionVersions": None,
    "ListSolutions": None,
    "PutEvents": "event-tracker",
    "UpdateCampaign": "campaign",
}
# A use case with recommenders (training.recommenders, serving.recommenders) also calls these, and asks
# its recommenders for recommendations (GetRecommendations, beside any campaign's).
RECOMMENDER_ACTIONS: dict[str, str | None] = {
    "CreateRecommender": "recommender",
    "DescribeRecommender": "recommender",
    "StartRecommender": "recommender",
    "StopRecommender": "recommender",
    "UpdateRecommender": "recommender",
}
RECOMMENDER_RUNTIME_ACTIONS = ("GetRecommendations",)
# A domain use case (dataset_group.domain) lists recommenders (the create operator finds its own by name,
# the cleanup looks in every domain dataset group) and its cleanup deletes the superseded ones, whether
# the use case still configures recommenders or not.
DOMAIN_ACTIONS: dict[str, str | None] = {"DeleteRecommender": "recommender", "ListRecommenders": None}
ACTION_TABLES = (PERSONALIZE_ACTIONS, RECOMMENDER_ACTIONS, DOMAIN_ACTIONS)
# Only the caches scored by a solution named in ``serving.batch`` (related_items, ranking) check its
# recipe; those solutions, of any name, they only describe.
BATCH_SOLUTION_RECIPE_ACTIONS = ("DescribeRecipe",)
BATCH_SOLUTION_ACTIONS = ("DescribeSolution",)
# Only the segments DAG (serving.segments) runs batch segment jobs.
SEGMENT_ACTIONS = ("CreateBatchSegmentJob", "DescribeBatchSegmentJob", "ListBatchSegmentJobs")
# Not named after the use case: event trackers are named by their tracking id, recipes are AWS's.
UNNAMED_RESOURCE_TYPES = ("event-tracker", "recipe")
# S3 operations the DAGs call → the IAM action each needs, on an object or on the bucket.
S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
}
S3_BUCKET_ACTIONS = {"ListObjectsV2": "s3:ListBucket"}
# SNS operations the alerts make (the Amazon provider's SnsNotifier).
SNS_ACTIONS = {"Publish": "sns:Publish"}
# What Personalize does with the bucket: read the use case's folder (and list it), write batch outputs.
SERVICE_READ_ACTIONS = ["s3:GetObject"]
SERVICE_LIST_ACTIONS = ["s3:ListBucket"]
SERVICE_WRITE_ACTIONS = ["s3:PutObject"]


def iam_action(service: str, operation: str) -> str:
    """
    Return the IAM action an API call of the DAGs needs, e.g. ``personalize:CreateCampaign``.

    :param service: botocore's service name (``personalize``, ``personalize-runtime``, ``s3``, ``sns``...).
    :param operation: the API operation, e.g. ``CreateCampaign``.
    """
    if service.startswith("personalize") and (any(operation in table for table in ACTION_TABLES)):
        return f"personalize:{operation}"
    tables = {"s3": {**S3_OBJECT_ACTIONS, **S3_BUCKET_ACTIONS}, "sns": SNS_ACTIONS}
    try:
        return tables[service][operation]
    except KeyError:
        raise ValueError(f"{service}:{operation} is not an operation the DAGs are known to call") from None


def _statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def _bucket_arn(uc: Any) -> str:
    return f"arn:aws:s3:::{uc.s3.bucket}"


def _objects_arn(uc: Any, key_pattern: str) -> str:
    return f"{_bucket_arn(uc)}/{key_pattern}"


def _folder_pattern(uc: Any) -> str:
    """Every key of the use case: ``<prefix>/<use_case>/*``."""
    return UseCaseLayout.for_use_case(uc).folder + ANY


def _batch_output_patterns(uc: Any) -> list[str]:
    """Where Personalize writes batch output: the evaluations', the batch and segments DAGs' and the
    experiments'."""
    layout = UseCaseLayout.for_use_case(uc)
    return [
        layout.version(ANY).evaluation(ANY).batch_output(ANY) + ANY,
        layout.batch_run(ANY, ANY).output + ANY,
        layout.experiment(ANY).batch_output(ANY, ANY) + ANY,
    ]


def _name_patterns(uc: Any) -> list[str]:
    """The names of the use case's Personalize resources: its name (the campaign), ``<name>-...`` (every
    other resource, not those of a use case whose name merely starts with it) and the cleanup's
    ``name_prefix`` when that is another."""
    patterns = [uc.name, f"{uc.name}-*"]
    cleanup_prefix = uc.serving.cleanup.name_prefix if uc.serving else None
    if cleanup_prefix and not cleanup_prefix.startswith(f"{uc.name}-"):
        patterns.append(f"{cleanup_prefix}*")
    return patterns


def _role_arns(uc: Any) -> list[str]:
    roles = [uc.training.role_arn if uc.training else None, uc.serving.role_arn if uc.serving else None]
    return sorted({role for role in roles if role})


def resource_types(operation: str) -> tuple[str, ...]:
    """The resource types a Personalize operation is authorized on; none: it takes "*" (the List calls)."""
    types = [table.get(operation) for table in ACTION_TABLES]
    if operation in RECOMMENDER_RUNTIME_ACTIONS:
        types.append("recommender")
    return tuple(dict.fromkeys(t for t in types if t))


def _has_recommenders(uc: Any) -> bool:
    return bool((uc.training and uc.training.recommenders) or (uc.serving and uc.serving.recommenders))


def _scope(types: list[str]) -> str:
    if not types:
        return "list"
    return "unnamed" if types[0] in UNNAMED_RESOURCE_TYPES else "named"


def _typed(actions: dict[str, str | None]) -> dict[str, list[str]]:
    """Each operation's resource types: none for a List call, authorized on "*"."""
    return {
        operation: [resource_type] if resource_type else [] for operation, resource_type in actions.items()
    }


def _personalize_statements(uc: Any) -> list[dict[str, Any]]:
    batch = uc.serving.batch if uc.serving else None
    specs = (batch.related_items, batch.ranking) if batch else ()
    configured = sorted({spec.solution_arn for spec in specs if spec is not None})
    segments = bool(uc.serving and uc.serving.segments)
    used = _typed(
        {
            operation: resource_type
            for operation, resource_type in PERSONALIZE_ACTIONS.items()
            if (configured or operation not in BATCH_SOLUTION_RECIPE_ACTIONS)
            and (segments or operation not in SEGMENT_ACTIONS)
        }
    )
    if uc.dataset_group.domain:
        used |= _typed(DOMAIN_ACTIONS)
    if _has_recommenders(uc):
        used |= _typed(RECOMMENDER_ACTIONS)
        for operation in RECOMMENDER_RUNTIME_ACTIONS:
            used[operation].append("recommender")
    by_scope: dict[str, list[str]] = {"list": [], "named": [], "unnamed": []}
    for operation, types in used.items():
        by_scope[_scope(types)].append(f"personalize:{operation}")
    named_types = sorted({t for types in used.values() if _scope(types) == "named" for t in types})
    named = [f"arn:aws:personalize:*:*:{t}/{pattern}" for t in named_types for pattern in _name_patterns(uc)]
    unnamed_types = sorted({t for types in used.values() if _scope(types) == "unnamed" for t in types})
    statements = [
        _statement("PersonalizeList", by_scope["list"], [ANY]),
        _statement("PersonalizeUseCaseResources", by_scope["named"], named),
        _statement(
            "PersonalizeTrackersAndRecipes",
            by_scope["unnamed"],
            [f"arn:aws:personalize:*:*:{t}/*" for t in unnamed_types],
        ),
    ]
    if configured:
        actions = [f"personalize:{operation}" for operation in BATCH_SOLUTION_ACTIONS]
        statements.append(_statement("PersonalizeBatchSolutions", actions, configured))
    return statements


def worker_policy(uc: Any) -> dict[str, Any]:
    """
    Return the identity policy of the Airflow workers (the AWS connection) running the use case's DAGs.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    folder = _folder_pattern(uc)
    statements = [
        _statement("S3UseCaseObjects", list(set(S3_OBJECT_ACTIONS.values())), [_objects_arn(uc, folder)]),
        _statement(
            "S3ListUseCaseFolder",
            list(set(S3_BUCKET_ACTIONS.values())),
            [_bucket_arn(uc)],
            Condition={"StringLike": {"s3:prefix": [folder]}},
        ),
    ]
    if _role_arns(uc):  # training or serving: the DAGs that call Personalize
        statements[:0] = _personalize_statements(uc)
        statements.append(
            _statement(
                "PassServiceRoleToPersonalize",
                ["iam:PassRole"],
                _role_arns(uc),
                Condition={"StringEquals": {"iam:PassedToService": PERSONALIZE_PRINCIPAL}},
            )
        )
    topic = uc.serving.alerts.sns_topic_arn if uc.serving else None
    if topic:
        statements.append(_statement("SnsAlerts", list(SNS_ACTIONS.values()), [topic]))
    return _document(*statements)


def _service_statements(uc: Any, **principal: Any) -> list[dict[str, Any]]:
    folder = _folder_pattern(uc)
    return [
        _statement(
            "PersonalizeReadsUseCaseFolder", SERVICE_READ_ACTIONS, [_objects_arn(uc, folder)], **principal
        ),
        _statement(
            "PersonalizeListsUseCaseFolder",
            SERVICE_LIST_ACTIONS,
            [_bucket_arn(uc)],
            **principal,
            Condition={"StringLike": {"s3:prefix": [folder]}},
        ),
        _statement(
            "PersonalizeWritesBatchOutput",
            SERVICE_WRITE_ACTIONS,
            [_objects_arn(uc, pattern) for pattern in _batch_output_patterns(uc)],
            **principal,
        ),
    ]


def service_role_policy(uc: Any) -> dict[str, Any]:
    """
    Return the policy of the role Personalize assumes (``training.role_arn``, ``serving.role_arn``): read
    the use case's exports and batch inputs, write the batch inference output.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    return _document(*_service_statements(uc))


def _accounts(uc: Any) -> list[str]:
    return sorted({role.split(":")[4] for role in _role_arns(uc)})


def service_role_trust_policy(uc: Any) -> dict[str, Any]:
    """
    Return the trust policy that lets Personalize, acting for the role's own account, assume the role.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    return _document(
        {
            "Sid": "PersonalizeAssumesRole",
            "Effect": "Allow",
            "Principal": {"Service": PERSONALIZE_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": _accounts(uc)}},
        }
    )


def bucket_policy(uc: Any) -> dict[str, Any]:
    """
    Return the bucket policy Personalize needs besides its role's: the same access, to its principal.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    principal = {"Principal": {"Service": PERSONALIZE_PRINCIPAL}}
    return _document(*_service_statements(uc, **principal))


def warehouse_unload_policy(uc: Any) -> dict[str, Any]:
    """
    Return the policy of the role the warehouse writes the export with in unload mode: Redshift's
    ``IAM_ROLE`` of its UNLOAD, or the role of Snowflake's storage integration behind the external stage.
    It writes CSV parts into the use case's version folders and nothing else.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    layout = UseCaseLayout.for_use_case(uc)
    parts = [
        layout.version(ANY).prefix + f"/{kind}/{ANY}"
        for kind in ("interactions", "holdout", "items", "users")
    ]
    return _document(
        _statement(
            "WarehouseWritesParts",
            ["s3:PutObject", "s3:AbortMultipartUpload"],
            [_objects_arn(uc, p) for p in parts],
        ),
        _statement(
            "WarehouseListsUseCaseFolder",
            ["s3:ListBucket", "s3:GetBucketLocation"],
            [_bucket_arn(uc)],
            Condition={"StringLike": {"s3:prefix": [_folder_pattern(uc)]}},
        ),
    )


DOCUMENTS = {
    "worker_policy": worker_policy,
    "service_role_policy": service_role_policy,
    "service_role_trust_policy": service_role_trust_policy,
    "bucket_policy": bucket_policy,
    "warehouse_unload_policy": warehouse_unload_policy,
}


def policies(uc: Any) -> dict[str, dict[str, Any]]:
    """
    Return every document of :data:`DOCUMENTS` the use case needs, by name: only the workers' when it has
    neither ``training`` nor ``serving`` (its one DAG, the export, calls no Personalize), the warehouse's
    only in unload mode.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    """
    needed = dict(DOCUMENTS) if _role_arns(uc) else {"worker_policy": worker_policy}
    if uc.export.may_unload:
        needed["warehouse_unload_policy"] = warehouse_unload_policy
    else:
        needed.pop("warehouse_unload_policy", None)
    return {name: build(uc) for name, build in needed.items()}
