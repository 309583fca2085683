"""30% of Personalize calls throttled: shop__cleanup still succeeds, deletes exactly the superseded champion's
resources and the losing challenger, and keeps the champion, what it depends on and other teams' groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.serving.conftest import connect, exists, load_dag, task_states, use_test_config, xcom


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """Overrides the shared endpoint: every Personalize operation is answered ThrottlingException 30% of
    the time (the worlds are built through clients with standard retries)."""
    from personalize_local.testing import running_endpoint

    state = tmp_path_factory.mktemp("throttled-cleanup-endpoint")
    with running_endpoint(state_dir=state, phase_seconds=0.05, throttle_rate=0.3, fault_seed=3) as url:
        yield url, state


def test_cleanup_deletes_what_it_should_once_under_throttling(worlds, monkeypatch, tmp_path, airflow_db):
    old, new = worlds["old"], worlds["new"]
    p = new.personalize
    use_test_config(
        monkeypatch, tmp_path, bucket=new.bucket, cleanup={"retention_days": 0, "keep_champions": 1}
    )
    connect(monkeypatch, new)

    run = load_dag("shop__cleanup").test(
        logical_date=datetime.now(UTC) + timedelta(days=1), run_conf={"dry_run": False}
    )

    assert run.state == "success", task_states(run)
    planned = {(d["kind"], d["arn"]) for d in xcom(run, "plan_cleanup")["plan"]}
    assert planned == {
        ("campaign", old.campaign),
        ("event_tracker", old.tracker),
        ("filter", worlds["filters"][old.group]),
        ("solution", old.solution),
        ("solution", worlds["challenger"]),
        ("dataset", old.dataset),
        ("dataset_group", old.group),
        ("schema", old.schema),
    }
    describe = {
        "campaign": (p.describe_campaign, "campaignArn"),
        "event_tracker": (p.describe_event_tracker, "eventTrackerArn"),
        "filter": (p.describe_filter, "filterArn"),
        "solution": (p.describe_solution, "solutionArn"),
        "dataset": (p.describe_dataset, "datasetArn"),
        "dataset_group": (p.describe_dataset_group, "datasetGroupArn"),
        "schema": (p.describe_schema, "schemaArn"),
    }
    still_there = [
        (kind, arn) for kind, arn in planned if exists(describe[kind][0], **{describe[kind][1]: arn})
    ]
    assert still_there == []

    # what stays: the champion and everything it depends on, and the other team's group — each once
    assert {g["datasetGroupArn"] for g in p.list_dataset_groups()["datasetGroups"]} == {
        new.group,
        worlds["other"],
    }
    assert [c["campaignArn"] for c in p.list_campaigns()["campaigns"]] == [new.campaign]
    assert [s["solutionArn"] for s in p.list_solutions()["solutions"]] == [new.solution]
    assert [t["eventTrackerArn"] for t in p.list_event_trackers()["eventTrackers"]] == [new.tracker]
    assert [s["schemaArn"] for s in p.list_schemas()["schemas"]] == [new.schema]
    assert p.describe_campaign(campaignArn=new.campaign)["campaign"]["status"] == "ACTIVE"
    assert (
        p.describe_solution_version(solutionVersionArn=new.version)["solutionVersion"]["status"] == "ACTIVE"
    )
    assert p.describe_filter(filterArn=worlds["filters"][new.group])["filter"]["status"] == "ACTIVE"
