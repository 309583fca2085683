"""The ``<use_case>__events`` DAG's steps: bring the champion's event tracker up to date with the warehouse.

The watermark is an S3 object per event tracker (:meth:`personalize_pipelines.layout.UseCaseLayout.watermark`)
rather than an Airflow Variable: it sits beside the registry it belongs to, survives a rebuilt metadata DB,
can be read by anything that reads the bucket, and S3's conditional writes (IfMatch) make two runs unable to
move it backwards. A new champion with a new tracker starts its own watermark at the end of the export window
its model was trained on (its manifest), so nothing between training and serving is lost.
"""

from __future__ import annotations

import csv
import json
import logging
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from personalize_pipelines.events import Normalised, Position, S3Watermark, normalise, stream
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.naming import derive_name
from personalize_pipelines.serving import Query, ServingError, champion_of
from personalize_pipelines.templates import render_query

log = logging.getLogger(__name__)

IMPORT_VALUES = {
    "USER_ID": "user_id",
    "ITEM_ID": "item_id",
    "TIMESTAMP": "timestamp",
    "EVENT_TYPE": "event_type",
    "EVENT_VALUE": "event_value",
}
"""The Interactions schema's fields the events SQL fills, and the :class:`Interaction` attribute of each."""


def start_position(s3_client: Any, *, use_case: Any, champion: Any, moment: datetime) -> Position:
    """Where a tracker without a watermark starts: its model's export window end, else the lookback."""
    layout = UseCaseLayout.for_use_case(use_case)
    key = layout.version(champion.export_version).manifest
    try:
        manifest = json.loads(s3_client.get_object(Bucket=layout.bucket, Key=key)["Body"].read())
        end = datetime.fromisoformat(manifest["window"]["end"])
        log.info(
            "no watermark yet: starting at the end of export %s's window, %s", champion.export_version, end
        )
        return Position(int(end.timestamp()) - 1, "~")  # "~" sorts after every hex id: the second is done
    except Exception as exc:  # a missing or unreadable manifest falls back to the lookback, said aloud
        hours = use_case.serving.events.initial_lookback_hours
        log.warning(
            "no watermark and no readable manifest %s (%s): starting %dh before the run",
            layout.uri(key),
            exc,
            hours,
        )
        return Position(int((moment - timedelta(hours=hours)).timestamp()), "")


def _rows(query: Query, *, use_case: Any, after: Position) -> Iterable[dict[str, Any]]:
    """Warehouse rows of the events SQL from the position's second on."""
    return query(
        render_query(
            use_case.serving.events.sql, sql_root=use_case.project.sql_dir, **template_context(after)
        )
    )


def template_context(after: Position) -> dict[str, int]:
    """What the events SQL sees: the position's second, in epoch seconds and milliseconds (ties included)."""
    return {"since_epoch": after.timestamp, "since_epoch_ms": after.timestamp * 1000}


def _normaliser(use_case: Any, after: Position) -> Callable[..., Normalised]:
    mapping = {raw: target for source in use_case.sources for raw, target in source.event_types.items()}
    return partial(
        normalise,
        event_types=mapping,
        millisecond_threshold=use_case.cleaning.millisecond_threshold,
        after=after,
    )


def pending_interactions(
    query: Query, *, use_case: Any, after: Position, limit: int | None
) -> tuple[Normalised, bool]:
    """Interactions after the position, and whether there were more than ``limit`` (reading stops there)."""
    result = Normalised()
    add = _normaliser(use_case, after)
    for row in _rows(query, use_case=use_case, after=after):
        add([row], into=result)
        if limit is not None and len(result.interactions) > limit:
            return result, True
    return result, False


def plan(
    s3_client: Any,
    personalize_client: Any,
    query: Query,
    *,
    use_case: Any,
    moment: datetime,
) -> dict[str, Any]:
    """The champion's tracker, its watermark (or start position) and what is pending after it.

    :param moment: the run's moment; a tracker with neither watermark nor readable manifest starts
        ``initial_lookback_hours`` before it.
    :return: ``mode`` (``stream``, ``import`` or ``idle``) and what the next steps need.
    :raises NothingToServe: before the first promotion.
    :raises ServingError: when the champion has no event tracker, or it is not ACTIVE.
    """
    champion = champion_of(s3_client, use_case=use_case)
    if not champion.event_tracker_arn:
        raise ServingError(
            f"the champion {champion.serving_arn} records no event_tracker_arn: "
            "the train DAG must create a tracker for its dataset group to stream events"
        )
    tracker = personalize_client.describe_event_tracker(eventTrackerArn=champion.event_tracker_arn)[
        "eventTracker"
    ]
    if tracker["status"] != "ACTIVE":
        raise ServingError(f"event tracker {champion.event_tracker_arn} is {tracker['status']}, not ACTIVE")
    layout = UseCaseLayout.for_use_case(use_case)
    key = layout.watermark(champion.event_tracker_arn)
    watermark = S3Watermark(s3_client, bucket=layout.bucket, key=key)
    after = watermark.position or start_position(
        s3_client, use_case=use_case, champion=champion, moment=moment
    )
    pending, overflow = pending_interactions(
        query, use_case=use_case, after=after, limit=use_case.serving.events.import_threshold
    )
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


def stream_pending(
    s3_client: Any, events_client: Any, query: Query, *, use_case: Any, planned: dict[str, Any]
) -> dict[str, Any]:
    """PutEvents in calls of ≤ 10, paced and retried; the watermark follows the acknowledged events.

    :param events_client: a personalize-events client that does not retry by itself: the stream retries
        each call with its own backoff and counts it.
    :param planned: the result of :func:`plan`.
    """
    events = use_case.serving.events
    watermark = S3Watermark(s3_client, bucket=use_case.s3.bucket, key=planned["watermark_key"])
    after = watermark.position or Position(**planned["after"])
    pending, _ = pending_interactions(query, use_case=use_case, after=after, limit=None)
    report = stream(
        pending.interactions,
        put_events=events_client.put_events,
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


def interactions_dataset(personalize_client: Any, *, dataset_group_arn: str) -> dict[str, Any]:
    """The description of the dataset group's Interactions dataset.

    :raises ServingError: when the group has none.
    """
    paginator = personalize_client.get_paginator("list_datasets")
    for page in paginator.paginate(datasetGroupArn=dataset_group_arn):
        for summary in page.get("datasets", []):
            if summary.get("datasetType", "").upper() == "INTERACTIONS":
                return personalize_client.describe_dataset(datasetArn=summary["datasetArn"])["dataset"]
    raise ServingError(f"dataset group {dataset_group_arn} has no Interactions dataset to import into")


def import_columns(schema: dict[str, Any], *, dataset_arn: str) -> list[str]:
    """The CSV columns of an INCREMENTAL import into a dataset of this Avro schema, in its field order:
    the fields the events SQL fills (:data:`IMPORT_VALUES`); optional fields it cannot fill are left out.

    :raises ServingError: when the schema requires a field the events SQL has no value for.
    """
    columns = [f["name"] for f in schema["fields"]]
    optional = {f["name"] for f in schema["fields"] if isinstance(f["type"], list) and "null" in f["type"]}
    unfilled = [c for c in columns if c not in IMPORT_VALUES and c not in optional]
    if unfilled:
        raise ServingError(
            f"dataset {dataset_arn} requires columns the events SQL has no value for: {unfilled}"
        )
    return [c for c in columns if c in IMPORT_VALUES]


def import_job_name(use_case_name: str, *, run_id: str) -> str:
    """The INCREMENTAL import job of one events run: a retry finds the job its earlier try created."""
    return derive_name(f"{use_case_name}-events-import", use_case_name, run_id)


def stage_import(
    s3_client: Any,
    personalize_client: Any,
    query: Query,
    *,
    use_case: Any,
    planned: dict[str, Any],
    run_key: str,
    job_name: str,
) -> dict[str, Any]:
    """Too much to stream: write every pending interaction as CSV for one INCREMENTAL import.

    :param planned: the result of :func:`plan`.
    :param run_key: names this run's import file.
    :param job_name: the dataset import job's name, deterministic for the run.
    :raises ServingError: when the dataset cannot take the import, or nothing is left to import.
    """
    dataset = interactions_dataset(personalize_client, dataset_group_arn=planned["dataset_group_arn"])
    schema = json.loads(
        personalize_client.describe_schema(schemaArn=dataset["schemaArn"])["schema"]["schema"]
    )
    kept = import_columns(schema, dataset_arn=dataset["datasetArn"])
    after = Position(**planned["after"])
    layout = UseCaseLayout.for_use_case(use_case)
    key = layout.events_import(run_key)
    add, rows, last = _normaliser(use_case, after), 0, None
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(kept)
        for row in _rows(query, use_case=use_case, after=after):
            for interaction in add([row]).interactions:
                rows += 1
                last = max(last, interaction.position) if last else interaction.position
                writer.writerow(
                    ["" if (v := getattr(interaction, IMPORT_VALUES[c])) is None else v for c in kept]
                )
        handle.flush()
        s3_client.upload_file(handle.name, layout.bucket, key, ExtraArgs={"ContentType": "text/csv"})
    if last is None:
        raise ServingError(f"nothing left to import after {after} (planned {planned['pending']}+)")
    log.info("staged %d interaction(s) for an INCREMENTAL import at %s", rows, layout.uri(key))
    return {
        "job_name": job_name,
        "dataset_arn": dataset["datasetArn"],
        "data_location": layout.uri(key),
        "role_arn": use_case.serving.role_arn,
        "rows": rows,
        "watermark_key": planned["watermark_key"],
        "event_tracker_arn": planned["event_tracker_arn"],
        "last": last.as_dict(),
        "staged_at": datetime.now(UTC).isoformat(),
    }


def advance_after_import(
    s3_client: Any, *, use_case: Any, staged: dict[str, Any], job_arn: str
) -> dict[str, Any]:
    """The import is ACTIVE: move the watermark past everything it held.

    :param staged: the result of :func:`stage_import`.
    :param job_arn: the finished dataset import job.
    """
    watermark = S3Watermark(s3_client, bucket=use_case.s3.bucket, key=staged["watermark_key"])
    watermark.save(Position(**staged["last"]), tracker=staged["event_tracker_arn"], import_job=job_arn)
    log.info(
        "imported %d interaction(s) with %s; watermark now %s", staged["rows"], job_arn, watermark.position
    )
    return {"imported": staged["rows"], "import_job": job_arn, "watermark": watermark.position.as_dict()}
