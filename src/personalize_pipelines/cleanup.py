"""The ``<use_case>__cleanup`` DAG's steps: what exists, what retention retires, and dead publishes' folders.

:func:`inventory` lists the Personalize resources in and around the use case's dataset groups;
:func:`plan_cleanup` keeps the champion, the recent champions and what they depend on, and hands the
rest to :func:`personalize_pipelines.retention.plan`; :func:`remove_abandoned_exports` deletes export
version folders that never got a manifest. On a dry run both only list.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import abandoned_versions, delete_folder
from personalize_pipelines.registry import RegistryLocation, history, read_champion
from personalize_pipelines.retention import ORDER, Inventory, Resource, describe_plan, plan, protected_arns

log = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(days=1)
"""A version folder without a manifest this long after its publishing began is a dead publish's, however
short the retention: no publish takes a day, so one in flight is never touched."""


def _created(summary: dict[str, Any]) -> datetime:
    moment = summary.get("creationDateTime")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)
    return datetime.fromtimestamp(float(moment or 0), tz=UTC)


def _pages(client: Any, method: str, key: str, **arguments: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(method).paginate(**arguments) for item in page.get(key, [])]


def _resource(kind: str, summary: dict[str, Any], arn_field: str, **links: str | None) -> Resource:
    return Resource(kind, summary[arn_field], summary["name"], _created(summary), **links)


def inventory(personalize_client: Any, *, scope_groups: set[str], name_prefix: str | None) -> Inventory:
    """What exists in (and around) the use case's dataset groups, as :mod:`retention` needs it.

    :param scope_groups: the dataset groups the registry recorded.
    :param name_prefix: dataset groups whose name starts with it are listed too.
    """
    found = Inventory()
    groups = [
        g
        for g in _pages(personalize_client, "list_dataset_groups", "datasetGroups")
        if g["datasetGroupArn"] in scope_groups or (name_prefix and g["name"].startswith(name_prefix))
    ]
    for group in groups:
        arn = group["datasetGroupArn"]
        found.add(_resource("dataset_group", group, "datasetGroupArn"))
        for tracker in _pages(
            personalize_client, "list_event_trackers", "eventTrackers", datasetGroupArn=arn
        ):
            found.add(_resource("event_tracker", tracker, "eventTrackerArn", dataset_group_arn=arn))
        if group.get("domain"):  # only a domain dataset group holds recommenders
            for recommender in _pages(
                personalize_client, "list_recommenders", "recommenders", datasetGroupArn=arn
            ):
                found.add(_resource("recommender", recommender, "recommenderArn", dataset_group_arn=arn))
        for item in _pages(personalize_client, "list_filters", "Filters", datasetGroupArn=arn):
            found.add(_resource("filter", item, "filterArn", dataset_group_arn=arn))
        for solution in _pages(personalize_client, "list_solutions", "solutions", datasetGroupArn=arn):
            found.add(_resource("solution", solution, "solutionArn", dataset_group_arn=arn))
            solution_arn = solution["solutionArn"]
            for campaign in _pages(
                personalize_client, "list_campaigns", "campaigns", solutionArn=solution_arn
            ):
                found.add(_resource("campaign", campaign, "campaignArn", solution_arn=solution_arn))
    for summary in _pages(personalize_client, "list_datasets", "datasets"):  # all: a schema in use stays
        dataset = personalize_client.describe_dataset(datasetArn=summary["datasetArn"])["dataset"]
        found.add(
            _resource(
                "dataset",
                dataset,
                "datasetArn",
                dataset_group_arn=dataset["datasetGroupArn"],
                schema_arn=dataset["schemaArn"],
            )
        )
    for schema in _pages(personalize_client, "list_schemas", "schemas"):
        found.add(_resource("schema", schema, "schemaArn"))
    return found


def is_dry_run(params: Mapping[str, Any], *, cleanup: Any) -> bool:
    """The run's ``dry_run`` param; the use case's ``serving.cleanup.dry_run`` when the run gives none."""
    return bool(params.get("dry_run", cleanup.dry_run))


def _verb(dry_run: bool) -> str:
    return "DRY RUN: would delete" if dry_run else "deleting"


def plan_cleanup(
    s3_client: Any, personalize_client: Any, *, use_case: Any, moment: datetime, dry_run: bool
) -> dict[str, Any]:
    """What retention retires, in dependency order: the ARNs of each kind (none on a dry run), the plan
    and the protected ARNs.

    :param moment: the run's moment; resources created ``retention_days`` before it may go.
    """
    cleanup = use_case.serving.cleanup
    location = RegistryLocation.for_use_case(use_case)
    champion = read_champion(s3_client, location=location)
    past = history(s3_client, location=location)
    kept = ([champion] if champion else []) + past[-cleanup.keep_champions :]
    scope = {entry.dataset_group_arn for entry in past} | (
        {champion.dataset_group_arn} if champion else set()
    )
    found = inventory(personalize_client, scope_groups=scope, name_prefix=cleanup.name_prefix)
    protected = protected_arns(kept, found)
    cutoff = moment - timedelta(days=cleanup.retention_days)
    deletions = plan(
        found, protected=protected, cutoff=cutoff, scope_groups=scope, name_prefix=cleanup.name_prefix
    )
    log.info(
        "%s (cutoff %s, %d protected ARN(s) of %d champion(s)):\n%s",
        _verb(dry_run),
        cutoff.isoformat(),
        len(protected),
        len(kept),
        describe_plan(deletions),
    )
    result: dict[str, Any] = {kind: [] if dry_run else [d.arn for d in deletions[kind]] for kind in ORDER}
    result["dry_run"] = dry_run
    result["plan"] = [d.as_dict() for kind in ORDER for d in deletions[kind]]
    result["protected"] = sorted(protected)
    return result


def remove_abandoned_exports(
    s3_client: Any, *, use_case: Any, moment: datetime, dry_run: bool, now: datetime | None = None
) -> dict[str, Any]:
    """Delete export version folders that never got a manifest (a publish that died), once past retention
    and at least :data:`ABANDONED_AFTER` old.

    :param moment: the run's moment; publishes begun ``retention_days`` before it may go.
    :param now: the wall clock (default: the current UTC time).
    """
    cleanup = use_case.serving.cleanup
    layout = UseCaseLayout.for_use_case(use_case)
    started_before = min(
        moment - timedelta(days=cleanup.retention_days), (now or datetime.now(UTC)) - ABANDONED_AFTER
    )
    abandoned = abandoned_versions(
        s3_client, bucket=layout.bucket, use_case_prefix=layout.prefix, started_before=started_before
    )
    log.info(
        "%s %d export version folder(s) without a manifest, publishing begun before %s: %s",
        _verb(dry_run),
        len(abandoned),
        started_before.isoformat(),
        ", ".join(abandoned) or "none",
    )
    deleted = (
        {}
        if dry_run
        else {
            version: delete_folder(s3_client, bucket=layout.bucket, prefix=layout.version(version).folder)
            for version in abandoned
        }
    )
    return {"dry_run": dry_run, "abandoned": abandoned, "objects_deleted": deleted}
