"""Task callables of the `<use_case>__trending` DAG; the steps are :mod:`personalize_pipelines.trending`."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import task

from personalize_airflow.moments import run_moment
from personalize_airflow.serving_support import airflow_outcomes, s3_client, serving_use_case

log = logging.getLogger(__name__)


@task(multiple_outputs=True)
def plan(use_case_name: str, **context) -> dict[str, Any]:
    """The champion's dataset group and the names this run serves from; skipped before the first promotion."""
    from personalize_pipelines.serving import champion_of
    from personalize_pipelines.trending import plan as plan_trending

    uc, _ = serving_use_case(use_case_name, "trending")
    with airflow_outcomes():
        champion = champion_of(s3_client(uc), use_case=uc)
    planned = plan_trending(uc, champion=champion, moment=run_moment(context))
    log.info("trending in %s, retrain period %s", planned["dataset_group_arn"], planned["retrain_period"])
    return planned


@task(multiple_outputs=False)
def load_trending(
    use_case_name: str, campaign_arn: str, solution_version_arn: str, **context
) -> dict[str, Any]:
    """What the campaign trends now → ``serving.trending.table``, the list replaced whole."""
    from functools import partial

    from personalize_airflow.hooks.personalize import PersonalizeRuntimeHook
    from personalize_airflow.warehouse import cache_connection
    from personalize_pipelines.trending import load_trending as load

    uc, _ = serving_use_case(use_case_name, "trending")
    with airflow_outcomes():
        return load(
            PersonalizeRuntimeHook(aws_conn_id=uc.s3.conn_id).conn,
            use_case=uc,
            campaign_arn=campaign_arn,
            solution_version_arn=solution_version_arn,
            moment=run_moment(context),
            open_cache=partial(cache_connection, uc.warehouse_conn_id),
        )
