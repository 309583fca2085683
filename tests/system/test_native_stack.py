"""The pipelines on the native stack (Postgres metadata DB, CeleryExecutor on Redis, triggerer), driven
the way an operator drives production Airflow: the REST API and the `airflow` CLI.

The tests share one stack and run in order: export → train through the REST API, then a backfill.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import boto3
import pytest

from personalize_pipelines.windows import months_before, parse_instant

pytestmark = pytest.mark.system

EXPORT, TRAIN, BATCH, EVENTS = "shop__export", "shop__train", "shop__batch", "shop__events"
PREFIX = "exports/shop"
BUCKET = "personalize-demo"
TERMINAL = {"success", "failed"}


@dataclass
class Watched:
    """What polling a run's task instances saw: every state of each task, and who served its deferrals."""

    states: dict[str, list[str]] = field(default_factory=dict)
    triggers: dict[str, set[str]] = field(default_factory=dict)
    triggerers: dict[str, set[str]] = field(default_factory=dict)

    def see(self, tis: list[dict]) -> None:
        for ti in tis:
            seen = self.states.setdefault(ti["task_id"], [])
            if not seen or seen[-1] != ti["state"]:
                seen.append(ti["state"])
            if ti["state"] == "deferred" and ti.get("trigger"):
                self.triggers.setdefault(ti["task_id"], set()).add(ti["trigger"]["classpath"])
                if ti.get("triggerer_job"):
                    self.triggerers.setdefault(ti["task_id"], set()).add(ti["triggerer_job"]["job_type"])

    @property
    def deferred(self) -> set[str]:
        return {task for task, states in self.states.items() if "deferred" in states}


def wait_for_run(api, dag_id: str, run_id: str, *, timeout: float, watched: Watched | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}")
        if watched is not None:
            watched.see(api.task_instances(dag_id, run_id))
        if run["state"] in TERMINAL:
            return run
        time.sleep(1)
    states = {ti["task_id"]: ti["state"] for ti in api.task_instances(dag_id, run_id)}
    raise AssertionError(f"{dag_id} {run_id} not finished within {timeout:.0f}s: {states}")


def failed_tasks(api, dag_id: str, run_id: str) -> dict[str, str]:
    return {
        ti["task_id"]: ti["state"] for ti in api.task_instances(dag_id, run_id) if ti["state"] != "success"
    }


def s3_client(stack):
    return boto3.client("s3", endpoint_url=stack.endpoint_url, region_name="us-east-1")


def manifests(stack) -> dict[str, dict]:
    """Every published version (one with a manifest), by version."""
    s3 = s3_client(stack)
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{PREFIX}/"):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/manifest.json"):
                manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
                found[obj["Key"].split("/")[-2]] = manifest
    return found


def latest(stack) -> dict:
    return json.loads(s3_client(stack).get_object(Bucket=BUCKET, Key=f"{PREFIX}/latest.json")["Body"].read())


@pytest.fixture(scope="module")
def export_logical_date(api) -> datetime:
    """The export's latest scheduled point: a manual run there means unpausing schedules nothing extra."""
    api.wait_for_dags(EXPORT, TRAIN, BATCH, EVENTS)
    return parse_instant(api.get(f"/dags/{EXPORT}")["next_dagrun_logical_date"])


def backfill_points(export_logical_date: datetime) -> list[datetime]:
    """Three past weekly points, clear of the manual run's."""
    return [export_logical_date - timedelta(weeks=k) for k in (4, 3, 2)]


@pytest.fixture(scope="module")
def pipeline(native_stack, api, export_logical_date) -> dict:
    """Trigger the export through the REST API; its Asset event starts the train DAG.

    While the train run works, a backfill of three past export windows starts (`airflow backfill
    create`); the backfill test waits for it.
    """
    api.patch(f"/dags/{TRAIN}", {"is_paused": False})
    api.post(
        f"/dags/{EXPORT}/dagRuns",
        {"dag_run_id": "system-export", "logical_date": export_logical_date.isoformat()},
    )
    api.patch(f"/dags/{EXPORT}", {"is_paused": False})
    export = wait_for_run(api, EXPORT, "system-export", timeout=240)
    assert export["state"] == "success", failed_tasks(api, EXPORT, "system-export")
    published_by_export = latest(native_stack)

    deadline = time.monotonic() + 60
    while not (runs := api.get(f"/dags/{TRAIN}/dagRuns", run_type="asset_triggered")["dag_runs"]):
        assert time.monotonic() < deadline, "the export's Asset event started no train run"
        time.sleep(1)
    points = backfill_points(export_logical_date)
    native_stack.airflow(
        "backfill",
        "create",
        "--dag-id",
        EXPORT,
        "--from-date",
        points[0].date().isoformat(),
        "--to-date",
        points[-1].date().isoformat(),
    )
    watched = Watched()
    train = wait_for_run(api, TRAIN, runs[0]["dag_run_id"], timeout=420, watched=watched)
    api.patch(f"/dags/{TRAIN}", {"is_paused": True})  # the backfill's versions need no training
    assert train["state"] == "success", failed_tasks(api, TRAIN, train["dag_run_id"])
    return {"export": export, "train": train, "watched": watched, "published_by_export": published_by_export}


def trigger_at_latest_point(api, dag_id: str, run_id: str) -> None:
    """A manual run at the DAG's latest scheduled point, then unpause: the scheduler adds no run there."""
    logical_date = api.get(f"/dags/{dag_id}")["next_dagrun_logical_date"]
    api.post(f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": logical_date})
    api.patch(f"/dags/{dag_id}", {"is_paused": False})


@pytest.fixture(scope="module")
def serving(api, pipeline) -> dict:
    """With a champion deployed, the batch and events DAGs, triggered through the REST API side by side."""
    for dag_id in (BATCH, EVENTS):
        trigger_at_latest_point(api, dag_id, "system-serving")
    runs = {dag_id: wait_for_run(api, dag_id, "system-serving", timeout=240) for dag_id in (BATCH, EVENTS)}
    for dag_id in runs:
        api.patch(f"/dags/{dag_id}", {"is_paused": True})
    return runs


def xcom(api, dag_id: str, run_id: str, task_id: str):
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
    return api.get(path, deserialize=True)["value"]


def champion(stack) -> dict:
    body = s3_client(stack).get_object(Bucket=BUCKET, Key=f"{PREFIX}/registry/champion.json")["Body"].read()
    return json.loads(body)


def test_the_export_run_publishes_the_window_ending_at_its_logical_date(
    native_stack, pipeline, export_logical_date
):
    pointer = latest(native_stack)
    manifest = manifests(native_stack)[pointer["version"]]
    assert parse_instant(manifest["window"]["end"]) == export_logical_date
    assert manifest["validation"]["success"] is True
    assert manifest["datasets"]["interactions"]["rows"] > 1000


def test_the_asset_event_starts_the_train_run_which_succeeds(api, pipeline):
    train = pipeline["train"]
    assert train["state"] == "success", failed_tasks(api, TRAIN, train["dag_run_id"])
    watched = pipeline["watched"]
    assert watched.states["deploy.campaign"][-1] == "success"


def test_the_batch_run_caches_the_champions_recommendations(native_stack, api, serving):
    import duckdb

    assert serving[BATCH]["state"] == "success", failed_tasks(api, BATCH, "system-serving")
    served_by = champion(native_stack)["solution_version_arn"]
    with duckdb.connect(str(native_stack.cache), read_only=True) as con:
        users, rows, versions, max_rank = con.execute(
            "SELECT count(DISTINCT user_id), count(*), list(DISTINCT solution_version), max(rank)"
            " FROM personalize_recommendations"
        ).fetchone()
    assert users > 0 and rows >= users
    assert versions == [served_by]
    assert max_rank <= 25  # shop.yaml: serving.batch.num_results


def test_the_events_run_streams_new_interactions_to_the_champions_tracker(native_stack, api, serving):
    assert serving[EVENTS]["state"] == "success", failed_tasks(api, EVENTS, "system-serving")
    planned = xcom(api, EVENTS, "system-serving", "plan")
    assert planned["mode"] == "stream", planned
    streamed = xcom(api, EVENTS, "system-serving", "stream_events")
    assert streamed["events_sent"] == planned["pending"] > 0, (planned, streamed)
    assert streamed["calls"] * 10 >= streamed["events_sent"], streamed  # PutEvents takes ≤ 10 events per call
    assert streamed["watermark"] is not None


def test_waiting_tasks_are_deferred_to_the_triggerer(pipeline):
    """Training takes seconds here: each training wait (and any other that was not done at once) is a
    Personalize trigger run by the triggerer, and the task resumes on a worker only to finish."""
    watched = pipeline["watched"]
    waits = {"train_personalized.solution_version", "train_popular.solution_version"}
    assert waits <= watched.deferred, watched.states
    for task in watched.deferred:
        assert watched.triggers[task] and all(
            path.startswith("personalize_airflow.triggers.personalize.") for path in watched.triggers[task]
        ), (task, watched.triggers)
        assert watched.triggerers.get(task) == {"TriggererJob"}, (task, watched.triggerers)
        states = watched.states[task]
        assert states[-1] == "success", (task, states)
        # deferred, then resumed on a worker straight to success: running → deferred → scheduled → queued →
        # running → success (polled once a second, the short stretches between may go unseen), never a retry
        resumed = states[states.index("deferred") + 1 :]
        assert set(resumed) <= {"scheduled", "queued", "running", "success"}, (task, states)


def test_a_backfill_over_three_past_intervals_publishes_three_windows(
    native_stack, api, pipeline, export_logical_date
):
    points = backfill_points(export_logical_date)
    deadline = time.monotonic() + 240
    while True:
        runs = api.get(f"/dags/{EXPORT}/dagRuns", run_type="backfill")["dag_runs"]
        if len(runs) == 3 and all(r["state"] in TERMINAL for r in runs):
            break
        assert time.monotonic() < deadline, [(r["logical_date"], r["state"]) for r in runs]
        time.sleep(2)
    assert sorted(parse_instant(r["logical_date"]) for r in runs) == points
    problems = {
        r["dag_run_id"]: failed_tasks(api, EXPORT, r["dag_run_id"]) for r in runs if r["state"] != "success"
    }
    assert not problems

    by_end = {parse_instant(m["window"]["end"]): m for m in manifests(native_stack).values()}
    for point in points:
        assert point in by_end, f"no version for the window ending {point}"
        assert parse_instant(by_end[point]["window"]["start"]) == months_before(
            point, 6
        )  # shop.yaml: 6 months
    assert latest(native_stack) == pipeline["published_by_export"], (
        "latest.json moved back to an older window"
    )
