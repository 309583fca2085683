"""Task callables of the `<use_case>__cleanup` DAG: list what retention retires (the steps are
:mod:`personalize_pipelines.cleanup`); the DAG deletes it in order."""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from personalize_airflow.moments import run_moment
from personalize_airflow.serving_support import personalize_client, s3_client, serving_use_case


@task(multiple_outputs=False)
def plan_cleanup(use_case_name: str, **context) -> dict[str, Any]:
    """What retention retires, in dependency order; with ``dry_run`` it is only listed."""
    from personalize_pipelines.cleanup import is_dry_run
    from personalize_pipelines.cleanup import plan_cleanup as plan

    uc, serving = serving_use_case(use_case_name)
    return plan(
        s3_client(uc),
        personalize_client(uc),
        use_case=uc,
        moment=run_moment(context),
        dry_run=is_dry_run(context["params"], cleanup=serving.cleanup),
    )


@task
def arns_to_delete(planned: dict[str, Any], kind: str) -> list[str]:
    """One kind's ARNs from the plan, for the mapped delete of that kind (empty on a dry run)."""
    return planned[kind]


@task(multiple_outputs=False)
def remove_abandoned_exports(use_case_name: str, **context) -> dict[str, Any]:
    """Delete export version folders that never got a manifest (a publish that died), once past retention."""
    from personalize_pipelines.cleanup import is_dry_run
    from personalize_pipelines.cleanup import remove_abandoned_exports as remove

    uc, serving = serving_use_case(use_case_name)
    return remove(
        s3_client(uc),
        use_case=uc,
        moment=run_moment(context),
        dry_run=is_dry_run(context["params"], cleanup=serving.cleanup),
    )
