"""Task callables of the `<use_case>__events` DAG; the steps, and why the watermark is an S3 object, are in
:mod:`personalize_pipelines.event_sync`."""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from personalize_airflow.moments import run_moment
from personalize_airflow.serving_support import (
    airflow_outcomes,
    personalize_client,
    s3_client,
    serving_use_case,
    warehouse_query,
)
from personalize_airflow.xcom_values import without_none


@task(multiple_outputs=False)
def plan(use_case_name: str, **context) -> dict[str, Any]:
    """Read the champion, its tracker and watermark, and count what is pending."""
    from personalize_pipelines.event_sync import plan as plan_events

    uc, _ = serving_use_case(use_case_name, "events")
    with airflow_outcomes():
        return plan_events(
            s3_client(uc),
            personalize_client(uc),
            warehouse_query(uc),
            use_case=uc,
            moment=run_moment(context),
        )


@task.branch
def choose(planned: dict[str, Any]) -> list[str]:
    """Stream a few, import many, or do nothing."""
    return {"stream": ["stream_events"], "import": ["stage_import"], "idle": []}[planned["mode"]]


@task(multiple_outputs=False)
def stream_events(use_case_name: str, planned: dict[str, Any]) -> dict[str, Any]:
    """PutEvents in calls of ≤ 10, paced and retried; the watermark follows the acknowledged events."""
    from botocore.config import Config

    from personalize_airflow.hooks.personalize import PersonalizeEventsHook
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.event_sync import stream_pending

    uc = use_case(use_case_name)
    events = PersonalizeEventsHook(
        aws_conn_id=uc.s3.conn_id, config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    ).conn
    return stream_pending(s3_client(uc), events, warehouse_query(uc), use_case=uc, planned=planned)


@task(multiple_outputs=True)
def stage_import(use_case_name: str, planned: dict[str, Any], **context) -> dict[str, Any]:
    """Too much to stream: write every pending interaction as CSV for one INCREMENTAL import."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.event_sync import import_job_name
    from personalize_pipelines.event_sync import stage_import as stage
    from personalize_pipelines.export import run_key

    uc = use_case(use_case_name)
    with airflow_outcomes():
        staged = stage(
            s3_client(uc),
            personalize_client(uc),
            warehouse_query(uc),
            use_case=uc,
            planned=planned,
            run_key=run_key(uc.name, context["run_id"]),
            job_name=import_job_name(uc.name, run_id=context["run_id"]),
        )
    return without_none(staged)


@task(multiple_outputs=False)
def advance_after_import(use_case_name: str, staged: dict[str, Any], job_arn: str) -> dict[str, Any]:
    """The import is ACTIVE: move the watermark past everything it held."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.event_sync import advance_after_import as advance

    uc = use_case(use_case_name)
    return advance(s3_client(uc), use_case=uc, staged=staged, job_arn=job_arn)
