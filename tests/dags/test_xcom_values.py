"""The XCom rule of personalize_airflow.xcom_values, held statically: a dict-returning task pushes one
XCom per key exactly when some task pulls one of its keys (``planned["job_name"]``). The other half, that
no task pushes a None value, is checked on what the session's DAG runs pushed
(tests/test_xcom_pushes.py)."""

from __future__ import annotations

import pytest

from tests.airflow_compat import DagBag
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dags():
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags


def _pulled_by_key(dag) -> set[str]:
    from airflow.sdk.definitions.xcom_arg import XComArg

    return {
        operator.task_id
        for task in dag.tasks
        for field in task.template_fields
        for operator, key in XComArg.iter_xcom_references(getattr(task, field, None))
        if key != "return_value"
    }


def test_a_task_pushes_per_key_xcoms_only_when_its_keys_are_pulled(dags):
    for dag_id, dag in dags.items():
        decorated = {t.task_id: t for t in dag.tasks if hasattr(t, "python_callable")}
        per_key = {task_id for task_id, t in decorated.items() if t.multiple_outputs}
        pulled = _pulled_by_key(dag) & decorated.keys()
        assert per_key == pulled, (
            dag_id,
            "per key, never pulled:",
            per_key - pulled,
            "pulled:",
            pulled - per_key,
        )


def test_the_train_dag_has_per_key_tasks(dags):
    """The check above sees the flows' key pulls (a refactor that hid them would pass it vacuously)."""
    per_key = {t.task_id for t in dags["shop__train"].tasks if getattr(t, "multiple_outputs", False)}
    assert {"plan", "holdout_sample", "evaluate_models"} <= per_key
