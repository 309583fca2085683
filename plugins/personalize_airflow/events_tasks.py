"""Task callables of the `<use_case>__events` DAG: stream new interactions to the champion's event tracker.

The watermark is an S3 object per event tracker,
``s3://<bucket>/<prefix>/<use_case>/events/<tracker id>/watermark.json``, rather than an Airflow
Variable: it sits beside the registry it belongs to, survives a rebuilt metadata DB, can be read by
anything that reads the bucket, and S3's conditional writes (IfMatch) make two runs unable to move it
backwards. A new champion with a new tracker starts its own watermark at the end of the export window
its model was trained on (its manifest), so nothing between training and serving is lost.
"""

from __future__ import annotations

import csv
import json
import logging
import tempfile
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import task
from airflow.sdk.exceptions import AirflowFailException

from personalize_airflow.batch_tasks import (
    champion_of,
    query_warehouse,
    serving_of,
)
from personalize_airflow.moments import run_moment

log = logging.getLogger(__name__)


def _clients(uc: Any) -> tuple[Any, Any, Any]:
    """(s3, personalize, personalize-events); the events client does not retry by itself: the stream
    retries each call with its own backoff and counts it."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.config import Config

    from personalize_airflow.hooks.personalize import PersonalizeEventsHook, PersonalizeHook

    events = PersonalizeEventsHook(
        aws_conn_id=uc.s3.conn_id, config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    ).conn
    return (
        S3Hook(aws_conn_id=uc.s3.conn_id).get_conn(),
        PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn,
        events,
    )


def watermark_key(uc: Any, tracker_arn: str) -> str:
    return f"{uc.s3_prefix}/events/{tracker_arn.rsplit('/', 1)[-1]}/watermark.json"


def _start_position(uc: Any, s3: Any, champion: Any, moment: datetime) -> Any:
    """Where a tracker without a watermark starts: its model's export window end, else the lookback."""
    from personalize_pipelines.events import Position

    key = f"{uc.s3_prefix}/{champion.export_version}/manifest.json"
    try:
        manifest = json.loads(s3.get_object(Bucket=uc.s3.bucket, Key=key)["Body"].read())
        end = datetime.fromisoformat(manifest["window"]["end"])
        log.info(
            "no watermark yet: starting at the end of export %s's window, %s", champion.export_version, end
        )
        return Position(int(end.timestamp()) - 1, "~")  # "~" sorts after every hex id: the second is done
    except Exception as exc:  # a missing or unreadable manifest falls back to the lookback, said aloud
        hours = uc.serving.events.initial_lookback_hours
        log.warning(
            "no watermark and no readable manifest s3://%s/%s (%s): starting %dh before the run",
            uc.s3.bucket,
            key,
            exc,
            hours,
        )
        return Position(int((moment - timedelta(hours=hours)).timestamp()), "")


def _rows(uc: Any, after: Any) -> Any:
    """Warehouse rows of the events SQL from the position's second on."""
    from personalize_pipelines.paths import SQL_DIR
    from personalize_pipelines.templates import render_query

    sql = render_query(uc.serving.events.sql, sql_root=SQL_DIR, since_epoch=after.timestamp)
    return query_warehouse(uc.warehouse_conn_id, sql)


def _normaliser(uc: Any, after: Any) -> Any:
    from functools import partial

    from personalize_pipelines.events import normalise

    mapping = {raw: target for source in uc.sources for raw, target in source.event_types.items()}
    return partial(
        normalise, event_types=mapping, millisecond_threshold=uc.cleaning.millisecond_threshold, after=after
    )


def _pending(uc: Any, after: Any, *, limit: int | None) -> tuple[Any, bool]:
    """Interactions after the position, and whether there were more than ``limit`` (reading stops there)."""
    from personalize_pipelines.events import Normalised

    result = Normalised()
    add = _normaliser(uc, after)
    for row in _rows(uc, after):
        add([row], into=result)
        if limit is not None and len(result.interactions) > limit:
            return result, True
    return result, False


@task
def plan(use_case_name: str, **context) -> dict[str, Any]:
    """Read the champion, its tracker and watermark, and count what is pending."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.events import S3Watermark

    uc = use_case(use_case_name)
    events = serving_of(uc, "events")
    s3, personalize, _ = _clients(uc)
    champion = champion_of(uc, s3)
    if not champion.event_tracker_arn:
        raise AirflowFailException(
            f"the champion {champion.solution_version_arn} records no event_tracker_arn: "
            "the train DAG must create a tracker for its dataset group to stream events"
        )
    tracker = personalize.describe_event_tracker(eventTrackerArn=champion.event_tracker_arn)["eventTracker"]
    if tracker["status"] != "ACTIVE":
        raise AirflowFailException(
            f"event tracker {champion.event_tracker_arn} is {tracker['status']}, not ACTIVE"
        )
    key = watermark_key(uc, champion.event_tracker_arn)
    watermark = S3Watermark(s3, bucket=uc.s3.bucket, key=key)
    after = watermark.position or _start_position(uc, s3, champion, run_moment(context))
    pending, overflow = _pending(uc, after, limit=events.import_threshold)
    mode = "import" if overflow else ("stream" if pending.interactions else "idle")
    log.info(
        "watermark %s; %s%d interaction(s) pending, skipped %s → %s",
        after,
        "more than " if overflow else "",
        len(pending.interactions),
        pending.skipped,
        mode,
    )
    return {
        "mode": mode,
        "tracking_id": tracker["trackingId"],
        "event_tracker_arn": champion.event_tracker_arn,
        "dataset_group_arn": champion.dataset_group_arn,
        "watermark_key": key,
        "after": after.as_dict(),
        "pending": len(pending.interactions),
        "skipped": pending.skipped,
    }


@task.branch
def choose(planned: dict[str, Any]) -> list[str]:
    """Stream a few, import many, or do nothing."""
    return {"stream": ["stream_events"], "import": ["stage_import"], "idle": []}[planned["mode"]]


@task
def stream_events(use_case_name: str, planned: dict[str, Any]) -> dict[str, Any]:
    """PutEvents in calls of ≤ 10, paced and retried; the watermark follows the acknowledged events."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.events import Position, S3Watermark, stream

    uc = use_case(use_case_name)
    events = uc.serving.events
    s3, _, client = _clients(uc)
    watermark = S3Watermark(s3, bucket=uc.s3.bucket, key=planned["watermark_key"])
    after = watermark.position or Position(**planned["after"])
    pending, _ = _pending(uc, after, limit=None)
    report = stream(
        pending.interactions,
        put_events=client.put_events,
        tracking_id=planned["tracking_id"],
        start=after,
        checkpoint=lambda position: watermark.save(position, tracker=planned["event_tracker_arn"]),
        calls_per_second=events.calls_per_second,
        max_attempts=events.max_attempts,
        checkpoint_calls=events.checkpoint_calls,
    )
    log.info(
        "sent %d event(s) in %d call(s), %d retried; watermark now %s",
        report.events_sent,
        report.calls,
        report.retries,
        report.watermark,
    )
    return {**report.as_dict(), "skipped": pending.skipped}


def _interactions_dataset(personalize: Any, dataset_group_arn: str) -> dict[str, Any]:
    for page in personalize.get_paginator("list_datasets").paginate(datasetGroupArn=dataset_group_arn):
        for summary in page.get("datasets", []):
            if summary.get("datasetType", "").upper() == "INTERACTIONS":
                return personalize.describe_dataset(datasetArn=summary["datasetArn"])["dataset"]
    raise AirflowFailException(
        f"dataset group {dataset_group_arn} has no Interactions dataset to import into"
    )


@task
def stage_import(use_case_name: str, planned: dict[str, Any], **context) -> dict[str, Any]:
    """Too much to stream: write every pending interaction as CSV for one INCREMENTAL import."""
    from personalize_airflow.hooks.personalize import derive_name
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.events import Position
    from personalize_pipelines.export import run_key

    uc = use_case(use_case_name)
    s3, personalize, _ = _clients(uc)
    dataset = _interactions_dataset(personalize, planned["dataset_group_arn"])
    schema = json.loads(personalize.describe_schema(schemaArn=dataset["schemaArn"])["schema"]["schema"])
    columns = [f["name"] for f in schema["fields"]]
    after = Position(**planned["after"])
    values = {
        "USER_ID": "user_id",
        "ITEM_ID": "item_id",
        "TIMESTAMP": "timestamp",
        "EVENT_TYPE": "event_type",
        "EVENT_VALUE": "event_value",
    }
    optional = {f["name"] for f in schema["fields"] if isinstance(f["type"], list) and "null" in f["type"]}
    unfilled = [c for c in columns if c not in values and c not in optional]
    if unfilled:
        raise AirflowFailException(
            f"dataset {dataset['datasetArn']} requires columns the events SQL has no value for: {unfilled}"
        )
    kept = [c for c in columns if c in values]
    key = f"{uc.s3_prefix}/events/imports/{run_key(uc.name, context['run_id'])}/interactions.csv"
    add, rows, last = _normaliser(uc, after), 0, None
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(kept)
        for row in _rows(uc, after):
            for interaction in add([row]).interactions:
                rows += 1
                last = max(last, interaction.position) if last else interaction.position
                writer.writerow(["" if (v := getattr(interaction, values[c])) is None else v for c in kept])
        handle.flush()
        s3.upload_file(handle.name, uc.s3.bucket, key, ExtraArgs={"ContentType": "text/csv"})
    if last is None:
        raise AirflowFailException(f"nothing left to import after {after} (planned {planned['pending']}+)")
    log.info("staged %d interaction(s) for an INCREMENTAL import at s3://%s/%s", rows, uc.s3.bucket, key)
    return {
        "job_name": derive_name(f"{uc.name}-events-import", uc.name, context["run_id"]),
        "dataset_arn": dataset["datasetArn"],
        "data_location": f"s3://{uc.s3.bucket}/{key}",
        "role_arn": uc.serving.role_arn,
        "rows": rows,
        "watermark_key": planned["watermark_key"],
        "event_tracker_arn": planned["event_tracker_arn"],
        "last": last.as_dict(),
        "staged_at": datetime.now(UTC).isoformat(),
    }


@task
def advance_after_import(use_case_name: str, staged: dict[str, Any], job_arn: str) -> dict[str, Any]:
    """The import is ACTIVE: move the watermark past everything it held."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.events import Position, S3Watermark

    uc = use_case(use_case_name)
    s3, _, _ = _clients(uc)
    watermark = S3Watermark(s3, bucket=uc.s3.bucket, key=staged["watermark_key"])
    watermark.save(Position(**staged["last"]), tracker=staged["event_tracker_arn"], import_job=job_arn)
    log.info(
        "imported %d interaction(s) with %s; watermark now %s", staged["rows"], job_arn, watermark.position
    )
    return {"imported": staged["rows"], "import_job": job_arn, "watermark": watermark.position.as_dict()}
