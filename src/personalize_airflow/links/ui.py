"""The extra link from a train run's ``evaluate_models`` task to its use case's Personalize page.

A ``@task``'s operator (``_PythonDecoratedOperator``) has no ``operator_extra_links`` of its own to
extend, so the plugin registers this link globally: Airflow offers it on every task, and it has a URL
only on the ``evaluate_models`` task of a ``<use_case>__train`` DAG (every other task gets none,
which the UI leaves out).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import BaseOperatorLink

EVALUATE_TASK_ID = "evaluate_models"
TRAIN_DAG_SUFFIX = "__train"


def use_case_of(*, dag_id: str, task_id: str) -> str | None:
    """The use case whose page the task links to: ``shop`` for ``shop__train.evaluate_models``."""
    if task_id != EVALUATE_TASK_ID or not dag_id.endswith(TRAIN_DAG_SUFFIX):
        return None
    return dag_id.removesuffix(TRAIN_DAG_SUFFIX)


class PersonalizePageLink(BaseOperatorLink):
    """Link from ``evaluate_models`` to the use case's Personalize page (versions, champion, evaluations)."""

    name = "Personalize page"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.configuration import conf

        from personalize_airflow.ui import page_url

        use_case = use_case_of(dag_id=ti_key.dag_id, task_id=ti_key.task_id)
        if use_case is None:
            return ""
        return page_url(use_case, base_url=conf.get("api", "base_url", fallback=""))
