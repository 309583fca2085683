"""Task callables of the `<use_case>__recommenders_stop` and `__recommenders_start` DAGs."""

from __future__ import annotations

from airflow.sdk import task

from personalize_airflow.serving_support import airflow_outcomes, s3_client, serving_use_case


@task
def serving_recommenders(*, use_case_name: str) -> list[str]:
    """The registry champion's recommenders; skipped before the first promotion or with a campaign."""
    from personalize_pipelines.serving import serving_recommenders as recommenders_of

    uc, _ = serving_use_case(use_case_name, "recommenders")
    with airflow_outcomes():
        return recommenders_of(s3_client(uc), use_case=uc)
