"""30% of Personalize calls throttled: the batch and events DAGs still succeed, create no duplicate resources
and record no event twice."""

from __future__ import annotations

import duckdb
import pytest

from tests.serving.conftest import RUN_AT, connect, load_dag, task_states, use_test_config, xcom
from tests.serving.test_events import pending_in_warehouse


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """Overrides the shared endpoint: every Personalize operation (control plane, runtime, events) is
    answered ThrottlingException 30% of the time."""
    from personalize_local.testing import running_endpoint

    state = tmp_path_factory.mktemp("throttled-endpoint")
    with running_endpoint(state_dir=state, phase_seconds=0.05, throttle_rate=0.3, fault_seed=5) as url:
        yield url, state


def test_batch_and_events_succeed_once_under_throttling(world, monkeypatch, tmp_path, airflow_db):
    use_test_config(monkeypatch, tmp_path, bucket=world.bucket)
    connect(monkeypatch, world)
    p = world.personalize

    batch = load_dag("shop__batch").test(logical_date=RUN_AT)
    assert batch.state == "success", task_states(batch)
    jobs = p.list_batch_inference_jobs(solutionVersionArn=world.version)["batchInferenceJobs"]
    assert len(jobs) == 1 and jobs[0]["status"] == "ACTIVE"
    con = duckdb.connect(str(world.warehouse), read_only=True)
    duplicated = con.execute(
        "SELECT count(*) FROM (SELECT user_id, rank FROM personalize_recommendations "
        "GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()[0]
    users = con.execute("SELECT count(DISTINCT user_id) FROM personalize_recommendations").fetchone()[0]
    con.close()
    assert duplicated == 0 and users == xcom(batch, "load_recommendations")["loaded"] > 0

    before = len(world.records())
    events = load_dag("shop__events").test(logical_date=RUN_AT)
    assert events.state == "success", task_states(events)
    report = xcom(events, "stream_events")
    expected = pending_in_warehouse(world.warehouse)
    assert report["events_sent"] == expected and report["retries"] > 0  # throttled calls were retried
    assert len(world.records()) - before == expected  # a throttled call records nothing, its retry once

    assert len(p.list_dataset_groups()["datasetGroups"]) == 1
    assert len(p.list_campaigns()["campaigns"]) == 1
    assert len(p.list_event_trackers()["eventTrackers"]) == 1
