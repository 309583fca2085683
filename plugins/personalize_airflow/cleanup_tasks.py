"""Task callables of the `<use_case>__cleanup` DAG: list what retention retires; the DAG deletes it in order."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import task

from personalize_airflow.batch_tasks import serving_of
from personalize_airflow.moments import run_moment

log = logging.getLogger(__name__)


def _created(summary: dict[str, Any]) -> datetime:
    moment = summary.get("creationDateTime")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)
    return datetime.fromtimestamp(float(moment or 0), tz=UTC)


def _pages(client: Any, method: str, key: str, **arguments: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(method).paginate(**arguments) for item in page.get(key, [])]


def inventory(personalize: Any, *, scope_groups: set[str], name_prefix: str | None) -> Any:
    """What exists in (and around) the use case's dataset groups, as :mod:`retention` needs it."""
    from personalize_pipelines.retention import Inventory, Resource

    found = Inventory()
    groups = [
        g
        for g in _pages(personalize, "list_dataset_groups", "datasetGroups")
        if g["datasetGroupArn"] in scope_groups or (name_prefix and g["name"].startswith(name_prefix))
    ]
    for group in groups:
        arn = group["datasetGroupArn"]
        found.add(Resource("dataset_group", arn, group["name"], _created(group)))
        for tracker in _pages(personalize, "list_event_trackers", "eventTrackers", datasetGroupArn=arn):
            found.add(
                Resource(
                    "event_tracker",
                    tracker["eventTrackerArn"],
                    tracker["name"],
                    _created(tracker),
                    dataset_group_arn=arn,
                )
            )
        for item in _pages(personalize, "list_filters", "Filters", datasetGroupArn=arn):
            found.add(
                Resource("filter", item["filterArn"], item["name"], _created(item), dataset_group_arn=arn)
            )
        for solution in _pages(personalize, "list_solutions", "solutions", datasetGroupArn=arn):
            found.add(
                Resource(
                    "solution",
                    solution["solutionArn"],
                    solution["name"],
                    _created(solution),
                    dataset_group_arn=arn,
                )
            )
            for campaign in _pages(
                personalize, "list_campaigns", "campaigns", solutionArn=solution["solutionArn"]
            ):
                found.add(
                    Resource(
                        "campaign",
                        campaign["campaignArn"],
                        campaign["name"],
                        _created(campaign),
                        solution_arn=solution["solutionArn"],
                    )
                )
    for summary in _pages(personalize, "list_datasets", "datasets"):  # all of them: a schema in use stays
        dataset = personalize.describe_dataset(datasetArn=summary["datasetArn"])["dataset"]
        found.add(
            Resource(
                "dataset",
                dataset["datasetArn"],
                dataset["name"],
                _created(dataset),
                dataset_group_arn=dataset["datasetGroupArn"],
                schema_arn=dataset["schemaArn"],
            )
        )
    for schema in _pages(personalize, "list_schemas", "schemas"):
        found.add(Resource("schema", schema["schemaArn"], schema["name"], _created(schema)))
    return found


def _dry_run(context: dict[str, Any], cleanup: Any) -> bool:
    """The run's ``dry_run`` param; the use case's ``serving.cleanup.dry_run`` when the run gives none."""
    return bool(context["params"].get("dry_run", cleanup.dry_run))


def _verb(dry_run: bool) -> str:
    return "DRY RUN: would delete" if dry_run else "deleting"


@task
def plan_cleanup(use_case_name: str, **context) -> dict[str, Any]:
    """What retention retires, in dependency order; with ``dry_run`` it is only listed."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from personalize_airflow.hooks.personalize import PersonalizeHook
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.registry import RegistryLocation, history, read_champion
    from personalize_pipelines.retention import ORDER, describe_plan, plan, protected_arns

    uc = use_case(use_case_name)
    cleanup = serving_of(uc).cleanup
    dry_run = _dry_run(context, cleanup)
    s3 = S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()
    location = RegistryLocation.for_use_case(uc)
    champion = read_champion(s3, location=location)
    past = history(s3, location=location)
    kept = ([champion] if champion else []) + past[-cleanup.keep_champions :]
    personalize = PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn
    scope = {entry.dataset_group_arn for entry in past} | (
        {champion.dataset_group_arn} if champion else set()
    )
    found = inventory(personalize, scope_groups=scope, name_prefix=cleanup.name_prefix)
    protected = protected_arns(kept, found)
    cutoff = run_moment(context) - timedelta(days=cleanup.retention_days)
    deletions = plan(
        found, protected=protected, cutoff=cutoff, scope_groups=scope, name_prefix=cleanup.name_prefix
    )
    listing = describe_plan(deletions)
    log.info(
        "%s (cutoff %s, %d protected ARN(s) of %d champion(s)):\n%s",
        _verb(dry_run),
        cutoff.isoformat(),
        len(protected),
        len(kept),
        listing,
    )
    result: dict[str, Any] = {kind: [] if dry_run else [d.arn for d in deletions[kind]] for kind in ORDER}
    result["dry_run"] = dry_run
    result["plan"] = [d.as_dict() for kind in ORDER for d in deletions[kind]]
    result["protected"] = sorted(protected)
    return result


@task
def arns_to_delete(planned: dict[str, Any], kind: str) -> list[str]:
    """One kind's ARNs from the plan, for the mapped delete of that kind (empty on a dry run)."""
    return planned[kind]


ABANDONED_AFTER = timedelta(days=1)
"""A version folder without a manifest this long after its publishing began is a dead publish's, however
short the retention: no publish takes a day, so one in flight is never touched."""


@task
def remove_abandoned_exports(use_case_name: str, **context) -> dict[str, Any]:
    """Delete export version folders that never got a manifest (a publish that died), once past retention."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.publish import abandoned_versions, delete_folder

    uc = use_case(use_case_name)
    cleanup = serving_of(uc).cleanup
    dry_run = _dry_run(context, cleanup)
    started_before = min(
        run_moment(context) - timedelta(days=cleanup.retention_days), datetime.now(UTC) - ABANDONED_AFTER
    )
    s3 = S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()
    abandoned = abandoned_versions(
        s3, bucket=uc.s3.bucket, use_case_prefix=uc.s3_prefix, started_before=started_before
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
            version: delete_folder(s3, bucket=uc.s3.bucket, prefix=f"{uc.s3_prefix}/{version}/")
            for version in abandoned
        }
    )
    return {"dry_run": dry_run, "abandoned": abandoned, "objects_deleted": deleted}
