"""Alerts: a task failure and a "not promoted" decision reach the use case's SNS topic (personalize-local
routes SNS and SQS to moto; a queue subscribed to the topic receives what was published)."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.serving.conftest import load_dag, use_test_config


@pytest.fixture
def topic(endpoint, monkeypatch, tmp_path, airflow_db):
    url, _ = endpoint
    options = {"endpoint_url": url, "region_name": "us-east-1"}
    sns, sqs = boto3.client("sns", **options), boto3.client("sqs", **options)
    arn = sns.create_topic(Name=f"alerts-{tmp_path.name[-12:]}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"alerts-{tmp_path.name[-12:]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    extra = {"endpoint_url": url, "region_name": "us-east-1"}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": extra}))
    use_test_config(monkeypatch, tmp_path, alerts={"sns_topic_arn": arn})

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in messages]

    return arn, received


def test_every_dag_announces_task_failures_on_the_topic(topic):
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    arn, _ = topic
    for dag_id in ("shop__export", "shop__batch", "shop__events", "shop__cleanup"):
        dag = load_dag(dag_id)
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert [c.target_arn for c in callbacks if isinstance(c, SnsNotifier)] == [arn], (
                f"{dag_id}.{task.task_id}"
            )


PROBE_DAG = """
from datetime import UTC, datetime

from airflow.sdk import DAG, task
from airflow.providers.common.compat.sdk import AirflowFailException
from personalize_airflow.alerts import alert_args
from personalize_airflow.use_cases import use_case


@task
def extract():
    raise AirflowFailException("warehouse table clickstream is missing")


with DAG("alerts_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC),
         default_args={"owner": "data-engineering", **alert_args(use_case("shop"))}) as dag:
    extract()
"""


def test_a_failed_task_publishes_what_failed_and_why(topic, tmp_path, monkeypatch):
    from tests.airflow_compat import DagBag

    _, received = topic
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "alerts_probe.py").write_text(PROBE_DAG)
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [
        {"name": "personalize-serving-tests", "classpath": local, "kwargs": {"path": str(folder)}},
        {"name": "dags-folder", "classpath": local, "kwargs": {}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    bag = DagBag(dag_folder=str(folder / "alerts_probe.py"))
    assert bag.import_errors == {}
    run = bag.dags["alerts_probe"].test()
    assert run.state == "failed"
    [message] = received()
    assert message["Subject"] == "[personalize] alerts_probe failed"
    assert "task extract failed" in message["Message"]
    assert "warehouse table clickstream is missing" in message["Message"]


def test_not_promoted_is_announced_with_the_reason(topic):
    from personalize_airflow.alerts import notify_not_promoted
    from personalize_airflow.use_cases import use_case

    _, received = topic
    reason = "challenger personalized ndcg_at_10 0.071 does not beat {champion} 0.078 by 2%"
    sent = notify_not_promoted(
        use_case("shop"),
        {"run_id": "scheduled__2026-11-29"},
        reason=reason,
        champion="arn:aws:personalize:us-east-1:123456789012:solution/shop/v1",
    )
    assert sent == 1
    [message] = received()
    assert message["Subject"] == "[personalize] shop: challenger not promoted"
    assert reason in message["Message"] and "scheduled__2026-11-29" in message["Message"]


def test_no_channel_configured_attaches_nothing():
    from personalize_airflow.alerts import alert_args
    from personalize_airflow.use_cases import use_case

    assert alert_args(use_case("shop")) == {}  # shop.yaml ships with sns_topic_arn: null
