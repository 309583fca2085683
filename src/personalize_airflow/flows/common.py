"""What every flow's DAG shares: its id ``<use_case>__<flow>``, the use case's start date and owner, one
run at a time, no catch-up, retries, alerts and tags; and the tasks of a solution a serving DAG trains
beside the champion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG

from personalize_airflow.alerts import alert_args
from personalize_airflow.operators.personalize import (
    PersonalizeCreateSolutionOperator,
    PersonalizeCreateSolutionVersionOperator,
)
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


def serving_waits(uc: UseCase) -> dict[str, Any]:
    """The serving DAGs' Personalize operators: the use case's connection, polled every
    ``serving.waiter_delay``."""
    return {"aws_conn_id": uc.s3.conn_id, "waiter_delay": uc.serving.waiter_delay}


def retrained_solution_version(
    planned: Any, *, solution_config: Any = None, **waits: Any
) -> PersonalizeCreateSolutionVersionOperator:
    """**solution → solution_version** of a solution trained beside the champion (trending, segments), named
    by the plan task (``planned``: solution, dataset_group_arn, recipe_arn, solution_version); returns the
    version's task, whose output is its ARN.

    :param solution_config: the solution's ``solutionConfig``.
    :param waits: the operators' wait arguments (``aws_conn_id``, ``waiter_delay``).
    """
    solution = PersonalizeCreateSolutionOperator(
        task_id="solution",
        name=planned["solution"],
        dataset_group_arn=planned["dataset_group_arn"],
        recipe_arn=planned["recipe_arn"],
        solution_config=solution_config,
        **waits,
    )
    return PersonalizeCreateSolutionVersionOperator(
        task_id="solution_version",
        solution_arn=solution.output,
        name=planned["solution_version"],
        **waits,
    )
