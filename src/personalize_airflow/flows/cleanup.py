"""<use_case>__cleanup: retire superseded Personalize resources and dead publishes' export folders past
retention, one DAG per use case with a serving section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, Param

from personalize_airflow.cleanup_tasks import arns_to_delete, plan_cleanup, remove_abandoned_exports
from personalize_airflow.flows.common import serving_waits, use_case_dag
from personalize_airflow.operators.personalize import (
    PersonalizeDeleteCampaignOperator,
    PersonalizeDeleteDatasetGroupOperator,
    PersonalizeDeleteDatasetOperator,
    PersonalizeDeleteEventTrackerOperator,
    PersonalizeDeleteFilterOperator,
    PersonalizeDeleteRecommenderOperator,
    PersonalizeDeleteSchemaOperator,
    PersonalizeDeleteSolutionOperator,
)

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: retire superseded Personalize resources
Campaigns keep costing money after a new champion takes over; this DAG deletes what retention retires.

1. **plan_cleanup** — in the dataset groups the registry recorded{prefix}: every campaign, recommender,
   solution, dataset, schema, dataset group, event tracker and filter created more than {days} days ago,
   except the champion, the {keep} most recent champions (rollback) and everything they depend on
   (campaign or recommenders, solution and versions, dataset group, its datasets, schemas, tracker and
   filters). The list is in the task log and result.
2. **delete_*** — in dependency order, each delete waited for (deferred): campaigns and recommenders →
   event trackers and filters → solutions (with their versions) → datasets → dataset groups → schemas. A
   dataset group goes only with everything in it; a schema only when no remaining dataset uses it.
3. **remove_abandoned_exports** — export version folders that never got a manifest (a publish that died
   with its worker) and whose publishing began more than {days} days (and at least a day) ago. Readers
   already ignore them; this gives their storage back. Complete versions are never touched.

**dry_run** (param, default `{dry_run}` from `serving.cleanup.dry_run`): only list. Trigger with
`{{"dry_run": false}}` to delete once, or set `dry_run: false` in the use case's YAML so scheduled runs
delete.
"""

STAGES = [
    ("campaign", PersonalizeDeleteCampaignOperator, "campaign_arn"),
    ("recommender", PersonalizeDeleteRecommenderOperator, "recommender_arn"),
    ("event_tracker", PersonalizeDeleteEventTrackerOperator, "event_tracker_arn"),
    ("filter", PersonalizeDeleteFilterOperator, "filter_arn"),
    ("solution", PersonalizeDeleteSolutionOperator, "solution_arn"),
    ("dataset", PersonalizeDeleteDatasetOperator, "dataset_arn"),
    ("dataset_group", PersonalizeDeleteDatasetGroupOperator, "dataset_group_arn"),
    ("schema", PersonalizeDeleteSchemaOperator, "schema_arn"),
]


def delete_in_order(
    planned: Any, *, aws_conn_id: str, waiter_delay: int, trigger_rule: str = "none_failed"
) -> Any:
    """The mapped deletes of a plan (kind → ARNs, as :mod:`personalize_pipelines.retention` orders them),
    each kind after the ones that depend on it; returns the last (schemas)."""
    deletes = {}
    for kind, operator, argument in STAGES:
        arns = arns_to_delete.override(task_id=f"{kind}s_to_delete", trigger_rule=trigger_rule)(
            planned=planned, kind=kind
        )
        deletes[kind] = operator.partial(
            task_id=f"delete_{kind}s",
            aws_conn_id=aws_conn_id,
            waiter_delay=waiter_delay,
            trigger_rule=trigger_rule,
            map_index_template=f"{{{{ task.{argument} }}}}",
        ).expand(**{argument: arns})
    deletes["campaign"] >> [deletes["event_tracker"], deletes["filter"]] >> deletes["solution"]
    deletes["solution"] >> deletes["dataset"] >> deletes["dataset_group"] >> deletes["schema"]
    deletes["recommender"] >> [deletes["event_tracker"], deletes["filter"], deletes["dataset"]]
    return deletes["schema"]


def build(uc: UseCase) -> DAG | None:
    if uc.serving is None:
        return None
    cleanup = uc.serving.cleanup
    with use_case_dag(
        uc,
        "cleanup",
        schedule=cleanup.schedule,
        params={
            "dry_run": Param(cleanup.dry_run, type="boolean", description="only list what would be deleted")
        },
        doc_md=DOC.format(
            name=uc.name,
            days=cleanup.retention_days,
            keep=cleanup.keep_champions,
            dry_run=str(cleanup.dry_run).lower(),
            prefix=f" and those named {cleanup.name_prefix}*" if cleanup.name_prefix else "",
        ),
    ) as dag:
        planned = plan_cleanup(use_case_name=uc.name)
        delete_in_order(planned, **serving_waits(uc))
        remove_abandoned_exports(use_case_name=uc.name)
    return dag
