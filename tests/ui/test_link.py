"""The extra link from a train run's evaluate_models task to its use case's Personalize page."""

from __future__ import annotations

from airflow.models.taskinstancekey import TaskInstanceKey

from personalize_airflow.links.ui import PersonalizePageLink, use_case_of


def test_only_evaluate_models_of_a_train_dag_links_to_its_use_case():
    assert use_case_of(dag_id="shop__train", task_id="evaluate_models") == "shop"
    assert use_case_of(dag_id="shop__train", task_id="gate") is None
    assert use_case_of(dag_id="shop__export", task_id="evaluate_models") is None


def test_the_link_is_the_use_case_page_under_the_api_base_url(monkeypatch):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.test:8080")
    link = PersonalizePageLink()
    key = TaskInstanceKey(dag_id="shop__train", task_id="evaluate_models", run_id="manual__1")
    assert link.get_link(None, ti_key=key) == "http://airflow.test:8080/personalize/use-cases/shop"
    other = TaskInstanceKey(dag_id="shop__train", task_id="plan", run_id="manual__1")
    assert link.get_link(None, ti_key=other) == ""
