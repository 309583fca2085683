"""Task callables of the `<use_case>__segments` DAG; the steps are :mod:`personalize_pipelines.segments`."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import task

from personalize_airflow.moments import run_moment
from personalize_airflow.serving_support import airflow_outcomes, s3_client, serving_use_case, warehouse_query
from personalize_airflow.xcom_values import without_none

log = logging.getLogger(__name__)


@task(multiple_outputs=True)
def plan(use_case_name: str, **context) -> dict[str, Any]:
    """The champion's dataset group, this run's names, and the items (or attribute queries) of the query as
    the batch segment job's input; skipped before the first promotion or when the query selects nothing."""
    from personalize_pipelines.segments import stage
    from personalize_pipelines.serving import champion_of

    uc, _ = serving_use_case(use_case_name, "segments")
    with airflow_outcomes():
        s3 = s3_client(uc)
        planned = stage(
            s3,
            warehouse_query(uc),
            use_case=uc,
            champion=champion_of(s3, use_case=uc),
            moment=run_moment(context),
            run_id=context["run_id"],
        )
    log.info("segments in %s, retrain period %s", planned["dataset_group_arn"], planned["retrain_period"])
    return without_none(planned)


@task(multiple_outputs=False)
def load_segments(
    use_case_name: str, prepared: dict[str, Any], solution_version_arn: str, **context
) -> dict[str, Any]:
    """The job's output → ``serving.segments.table``, each answered segment replacing its rows; error and
    malformed lines counted in the result and the report."""
    from functools import partial

    from personalize_airflow.warehouse import cache_connection
    from personalize_pipelines.segments import load_segments as load

    uc, _ = serving_use_case(use_case_name, "segments")
    with airflow_outcomes():
        return load(
            s3_client(uc),
            use_case=uc,
            prepared=prepared,
            solution_version_arn=solution_version_arn,
            run_id=context["run_id"],
            open_cache=partial(cache_connection, uc.warehouse_conn_id),
        )
