"""shop__cleanup on personalize-local: a dry run lists and deletes nothing; a real run deletes a superseded
champion's resources in dependency order and never the champion, what it depends on, or other teams'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.serving.conftest import (
    PREFIX,
    connect,
    exists,
    load_dag,
    task_states,
    use_test_config,
    xcom,
)


def test_dry_run_lists_then_a_real_run_deletes_in_order(worlds, monkeypatch, tmp_path, airflow_db):
    old, new = worlds["old"], worlds["new"]
    p = new.personalize
    use_test_config(
        monkeypatch, tmp_path, bucket=new.bucket, cleanup={"retention_days": 0, "keep_champions": 1}
    )
    connect(monkeypatch, new)
    dag = load_dag("shop__cleanup")
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    dry = dag.test(logical_date=tomorrow)
    assert dry.state == "success", task_states(dry)
    planned = xcom(dry, "plan_cleanup")
    assert planned["dry_run"] is True
    listed = [(d["kind"], d["arn"]) for d in planned["plan"]]
    expected = {
        ("campaign", old.campaign),
        ("event_tracker", old.tracker),
        ("filter", worlds["filters"][old.group]),
        ("solution", old.solution),
        ("solution", worlds["challenger"]),
        ("dataset", old.dataset),
        ("dataset_group", old.group),
        ("schema", old.schema),
    }
    assert set(listed) == expected
    kinds = [kind for kind, _ in listed]
    assert (
        kinds.index("campaign")
        < kinds.index("solution")
        < kinds.index("dataset")
        < kinds.index("dataset_group")
        < kinds.index("schema")
    )
    assert exists(p.describe_campaign, campaignArn=old.campaign)
    assert exists(p.describe_dataset_group, datasetGroupArn=old.group)
    assert {s for s, state in task_states(dry).items() if s.startswith("delete_")} and all(
        state == "skipped" for s, state in task_states(dry).items() if s.startswith("delete_")
    )

    real = dag.test(logical_date=tomorrow + timedelta(minutes=1), run_conf={"dry_run": False})
    assert real.state == "success", task_states(real)
    assert not exists(p.describe_campaign, campaignArn=old.campaign)
    assert not exists(p.describe_solution, solutionArn=old.solution)
    assert not exists(p.describe_solution, solutionArn=worlds["challenger"])
    assert not exists(p.describe_event_tracker, eventTrackerArn=old.tracker)
    assert not exists(p.describe_dataset, datasetArn=old.dataset)
    assert not exists(p.describe_dataset_group, datasetGroupArn=old.group)
    assert not exists(p.describe_schema, schemaArn=old.schema)

    # the champion and everything it depends on, and the other team's group, are untouched
    assert p.describe_campaign(campaignArn=new.campaign)["campaign"]["status"] == "ACTIVE"
    assert (
        p.describe_solution_version(solutionVersionArn=new.version)["solutionVersion"]["status"] == "ACTIVE"
    )
    for describe, key, argument in (
        (p.describe_dataset_group, "datasetGroup", {"datasetGroupArn": new.group}),
        (p.describe_dataset, "dataset", {"datasetArn": new.dataset}),
        (p.describe_event_tracker, "eventTracker", {"eventTrackerArn": new.tracker}),
        (p.describe_filter, "filter", {"filterArn": worlds["filters"][new.group]}),
        (p.describe_dataset_group, "datasetGroup", {"datasetGroupArn": worlds["other"]}),
    ):
        assert describe(**argument)[key]["status"] == "ACTIVE"
    assert exists(p.describe_schema, schemaArn=new.schema)

    # each stage finished before the next began
    tis = {ti.task_id: ti for ti in real.get_task_instances() if ti.task_id.startswith("delete_")}
    order = [
        "delete_campaigns",
        "delete_filters",
        "delete_solutions",
        "delete_datasets",
        "delete_dataset_groups",
        "delete_schemas",
    ]
    assert all(tis[task].state == "success" for task in order)
    for earlier, later in zip(order, order[1:], strict=False):
        assert tis[earlier].end_date <= tis[later].start_date, (earlier, later)


def test_a_dead_publishs_version_folder_goes_once_past_retention_and_nothing_else(
    worlds, monkeypatch, tmp_path, airflow_db
):
    new = worlds["new"]
    use_test_config(monkeypatch, tmp_path, bucket=new.bucket, cleanup={"retention_days": 3})
    connect(monkeypatch, new)
    now = datetime.now(UTC)

    def version(publishing_began: datetime) -> str:
        return f"20260101T000000Z-{publishing_began:%Y%m%dT%H%M%S}-abc123"

    folders = {
        "dead": (
            version(now - timedelta(days=5)),
            ["interactions/part-00000.csv", "interactions/part-00001.csv"],
        ),
        "dead_within_retention": (version(now - timedelta(days=2)), ["interactions/part-00000.csv"]),
        "in_flight": (version(now - timedelta(hours=2)), ["interactions/part-00000.csv"]),
        "complete": (version(now - timedelta(days=9)), ["interactions/part-00000.csv", "manifest.json"]),
        "not_a_version": ("scratch", ["notes.csv"]),
    }
    for name, files in folders.values():
        for file in files:
            new.s3.put_object(Bucket=new.bucket, Key=f"{PREFIX}/{name}/{file}", Body=b"USER_ID\n")

    def left(name: str) -> int:
        return new.s3.list_objects_v2(Bucket=new.bucket, Prefix=f"{PREFIX}/{name}/").get("KeyCount", 0)

    dag = load_dag("shop__cleanup")
    dead = folders["dead"][0]
    dry = dag.test(logical_date=now + timedelta(hours=2))
    assert dry.state == "success", task_states(dry)
    assert xcom(dry, "remove_abandoned_exports") == {
        "dry_run": True,
        "abandoned": [dead],
        "objects_deleted": {},
    }
    assert left(dead) == 2

    real = dag.test(logical_date=now + timedelta(hours=2, minutes=1), run_conf={"dry_run": False})
    assert real.state == "success", task_states(real)
    assert xcom(real, "remove_abandoned_exports") == {
        "dry_run": False,
        "abandoned": [dead],
        "objects_deleted": {dead: 2},
    }
    assert left(dead) == 0
    assert {kind: left(name) for kind, (name, _) in folders.items() if kind != "dead"} == {
        "dead_within_retention": 1,
        "in_flight": 1,
        "complete": 2,
        "not_a_version": 1,
    }
