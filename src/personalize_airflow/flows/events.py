"""<use_case>__events: new interactions from the warehouse to the champion's event tracker, one DAG per
use case with a serving.events section."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from airflow.sdk import DAG

from personalize_airflow.events_tasks import advance_after_import, choose, plan, stage_import, stream_events
from personalize_airflow.flows.common import serving_waits, use_case_dag
from personalize_airflow.operators.personalize import PersonalizeCreateDatasetImportJobOperator
from personalize_airflow.use_cases import use_case_layout

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: stream new interactions to Personalize
The model sees fresh behaviour between retrainings.

1. **plan** — the champion's event tracker (from the registry; skipped before the first promotion), its
   watermark `{watermark}` (first run: the end of the
   champion's export window) and the interactions of `include/sql/{sql}` after it.
2. **choose** — nothing pending: done; up to {threshold} pending: stream; more: one import.
3. **stream_events** — PutEvents, ≤ 10 events per call (one user and session each), at most
   {rate} calls/s, each call retried up to {attempts} times with exponential backoff on throttling, 5xx
   and dropped connections. Every event carries a stable `eventId` (a hash of its fields), so an event
   sent again after a crash is the same event. The watermark moves only past acknowledged events (every
   {checkpoint} calls, at the end, and before a failure is raised).
4. **stage_import → import_interactions → advance_after_import** — a catch-up too large to stream:
   the pending interactions as CSV, an INCREMENTAL dataset import into the champion's Interactions
   dataset (deferred wait), then the watermark moves past them.
"""


def build(uc: UseCase) -> DAG | None:
    if uc.serving is None or uc.serving.events is None:
        return None
    events = uc.serving.events
    layout = use_case_layout(uc)
    with use_case_dag(
        uc,
        "events",
        schedule=events.schedule,
        retries=3,
        task_defaults={"retry_exponential_backoff": True},
        dagrun_timeout=timedelta(hours=6),
        doc_md=DOC.format(
            name=uc.name,
            watermark=layout.uri(layout.watermark("<tracker id>")),
            sql=events.sql,
            threshold=events.import_threshold,
            rate=events.calls_per_second,
            attempts=events.max_attempts,
            checkpoint=events.checkpoint_calls,
        ),
    ) as dag:
        planned = plan(use_case_name=uc.name)
        branch = choose(planned=planned)
        streamed = stream_events(use_case_name=uc.name, planned=planned)
        staged = stage_import(use_case_name=uc.name, planned=planned)
        imported = PersonalizeCreateDatasetImportJobOperator(
            task_id="import_interactions",
            job_name=staged["job_name"],
            dataset_arn=staged["dataset_arn"],
            data_location=staged["data_location"],
            role_arn=staged["role_arn"],
            import_mode="INCREMENTAL",
            **serving_waits(uc),
        )
        branch >> [streamed, staged]
        advance_after_import(use_case_name=uc.name, staged=staged, job_arn=imported.output)
    return dag
