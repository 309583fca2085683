"""What every flow's DAG shares: its id ``<use_case>__<flow>``, the use case's start date and owner, one
run at a time, no catch-up, retries, alerts and tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG

from personalize_airflow.alerts import alert_args
from personalize_airflow.use_cases import retry_delay, start_date

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase


def use_case_dag(
    uc: UseCase,
    flow: str,
    *,
    schedule: Any,
    doc_md: str,
    retries: int = 2,
    retry_delay_seconds: int = 60,
    task_defaults: dict[str, Any] | None = None,
    **dag_args: Any,
) -> DAG:
    """The DAG ``<use_case>__<flow>``; ``task_defaults`` add to every task's defaults, ``dag_args`` to the
    DAG's."""
    return DAG(
        dag_id=f"{uc.name}__{flow}",
        schedule=schedule,
        start_date=start_date(uc),
        catchup=False,
        max_active_runs=1,  # one writer per use case: staging, the registry, the watermark
        default_args={
            "owner": uc.owner,
            "retries": retries,
            "retry_delay": retry_delay(retry_delay_seconds),
            **(task_defaults or {}),
            **alert_args(uc),
        },
        tags=["personalize", flow, *uc.tags],
        doc_md=doc_md,
        **dag_args,
    )
