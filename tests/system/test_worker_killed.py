"""The Celery worker killed mid-task on the native stack: SIGKILL to its whole process tree (its process
group and the task runners' own groups), as a lost host or container would; then a new worker.

The scheduler notices the dead task by its missing heartbeats (the system stack sets
``[scheduler] task_instance_heartbeat_timeout`` to 20 s) and retries it (``[personalize]
retry_delay_seconds`` 3 s). What a user would notice is checked: the run succeeds on the retry, no
half-written export version is visible to readers, ``latest.json`` points to a complete version whose
files match its manifest, the train run leaves exactly the Personalize resources of one clean run, and
an event stream killed midway records each new interaction on the champion's tracker exactly once.

Runs after test_native_stack.py on the same session stack (or alone on a fresh one).
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import time
from datetime import UTC, datetime

import boto3
import pytest

from personalize_pipelines.publish import complete_versions
from personalize_pipelines.windows import parse_instant
from tests.system.test_native_stack import (
    BUCKET,
    EVENTS,
    EXPORT,
    PREFIX,
    TRAIN,
    failed_tasks,
    s3_client,
    wait_for_run,
    xcom,
)

pytestmark = pytest.mark.system

VERSION = re.compile(r"^\d{8}T\d{6}Z-")
# the train DAG's tasks that create a Personalize resource and then wait for it
CREATES = re.compile(
    r"^(dataset_group|import\.(schema|dataset|import)_\w+|train_\w+\.(solution|solution_version"
    r"|batch_inference))$"
)


def trigger(api, dag_id: str, run_id: str, conf: dict | None = None) -> None:
    """A manual run, then unpause. While the DAG is paused and its latest scheduled point has passed with no
    run there, the run takes that point (unpausing then schedules nothing extra); otherwise it has no
    logical date (now)."""
    dag = api.get(f"/dags/{dag_id}")
    point = dag.get("next_dagrun_logical_date")
    logical_date = None
    if dag["is_paused"] and point and parse_instant(point) <= datetime.now(UTC):
        there = api.get(f"/dags/{dag_id}/dagRuns", logical_date_gte=point, logical_date_lte=point)["dag_runs"]
        logical_date = None if there else point
    api.post(
        f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": logical_date, "conf": conf or {}}
    )
    api.patch(f"/dags/{dag_id}", {"is_paused": False})


def version_folders(s3) -> set[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/", Delimiter="/")
    names = (p["Prefix"][len(PREFIX) + 1 :].rstrip("/") for p in listed.get("CommonPrefixes", []))
    return {name for name in names if VERSION.match(name)}


def keys(s3, prefix: str) -> dict[str, str]:
    """key (relative to prefix) → ETag, every object under prefix."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = obj["ETag"]
    return found


def wait_for_task(api, dag_id: str, run_id: str, task_id: str, state: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        states = {ti["task_id"]: ti["state"] for ti in api.task_instances(dag_id, run_id)}
        if states.get(task_id) == state:
            return
        assert time.monotonic() < deadline, f"{task_id} never {state}: {states}"
        assert api.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"] not in ("success", "failed"), states
        time.sleep(0.2)


def tries(api, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
    return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in api.task_instances(dag_id, run_id)}


@pytest.fixture(scope="module")
def killed_export(native_stack, api) -> dict:
    """The export run, its worker killed while `publish` had written part of a new version (frozen with
    SIGSTOP the moment the version's folder appears, inspected, then killed); a new worker retries it.

    The train DAG stays paused: the export's Asset event starts no training here.
    """
    api.wait_for_dags(EXPORT, TRAIN)
    api.patch(f"/dags/{TRAIN}", {"is_paused": True})
    s3 = s3_client(native_stack)
    before = version_folders(s3)
    run_id = "reliability-export"
    trigger(api, EXPORT, run_id)
    wait_for_task(api, EXPORT, run_id, "publish", "running", timeout=240)

    deadline = time.monotonic() + 120
    while not (new := version_folders(s3) - before):
        assert time.monotonic() < deadline, tries(api, EXPORT, run_id)
    native_stack.kill("worker", signal.SIGSTOP)
    (half,) = new
    written = keys(s3, f"{PREFIX}/{half}/")
    if "manifest.json" in written:
        native_stack.kill("worker", signal.SIGCONT)
        pytest.fail(f"publish wrote all of {half} before the worker could be stopped: {sorted(written)}")
    killed = native_stack.kill("worker")
    native_stack.start("worker")
    print(f"killed {killed} while {half} had {sorted(written)}")

    run = wait_for_run(api, EXPORT, run_id, timeout=300)
    return {"run": run, "run_id": run_id, "half": half, "written": written, "killed": killed}


def test_the_killed_export_is_retried_and_succeeds(api, killed_export):
    run_id = killed_export["run_id"]
    assert killed_export["run"]["state"] == "success", failed_tasks(api, EXPORT, run_id)
    written = killed_export["written"]
    assert any("/part-" in key for key in written), (
        f"no data file written when the worker was killed: {written}"
    )
    state, try_number = tries(api, EXPORT, run_id)["publish"]
    assert (state, try_number) == ("success", 2)  # the killed try, then the retry


def test_no_half_published_version_is_visible(native_stack, api, killed_export):
    s3 = s3_client(native_stack)
    half = killed_export["half"]
    published = xcom(api, EXPORT, killed_export["run_id"], "publish")["version"]
    assert published != half  # the retry wrote a new version; the killed one was never overwritten

    readable = set(complete_versions(s3, bucket=BUCKET, use_case_prefix=PREFIX))
    incomplete = {v for v in version_folders(s3) if v not in readable}
    assert incomplete == {half}, incomplete  # the killed try's folder, which every reader ignores
    assert "manifest.json" not in keys(s3, f"{PREFIX}/{half}/")

    latest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/latest.json")["Body"].read())
    assert latest["version"] == published
    # only the retry announced a version: one Asset event from this run, naming the complete version
    events = api.get("/assets/events", source_dag_id=EXPORT, source_run_id=killed_export["run_id"])[
        "asset_events"
    ]
    assert [e["extra"].get("version") for e in events] == [published]


def test_latest_points_to_a_version_whose_files_match_its_manifest(native_stack, killed_export):
    s3 = s3_client(native_stack)
    latest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/latest.json")["Body"].read())
    folder = f"{PREFIX}/{latest['version']}/"
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{folder}manifest.json")["Body"].read())
    on_s3 = {key for key in keys(s3, folder) if not key.startswith("evaluation/")} - {"manifest.json"}
    assert on_s3 == {f["key"] for f in manifest["files"]}
    for entry in manifest["files"]:
        body = s3.get_object(Bucket=BUCKET, Key=f"{folder}{entry['key']}")["Body"].read()
        assert (hashlib.sha256(body).hexdigest(), len(body)) == (entry["sha256"], entry["bytes"]), entry[
            "key"
        ]
    parts = [f for f in manifest["files"] if f["key"].startswith("interactions/part-")]
    assert sum(f["rows"] for f in parts) == manifest["datasets"]["interactions"]["rows"] > 1000


def personalize_resources(stack) -> dict[str, list[dict]]:
    """Every resource on the endpoint, by kind; datasets, solutions and event trackers carry their group's
    ARN (a snapshot; cheap on personalize-local)."""
    p = boto3.client("personalize", endpoint_url=stack.endpoint_url, region_name="us-east-1")
    found: dict[str, list[dict]] = {
        "dataset_groups": p.list_dataset_groups(maxResults=100)["datasetGroups"],
        "schemas": p.list_schemas(maxResults=100)["schemas"],
        "campaigns": p.list_campaigns(maxResults=100)["campaigns"],
        "batch_inference_jobs": p.list_batch_inference_jobs(maxResults=100)["batchInferenceJobs"],
        "datasets": [],
        "solutions": [],
        "event_trackers": [],
        "dataset_import_jobs": [],
        "solution_versions": [],
    }
    for group in found["dataset_groups"]:
        arn = group["datasetGroupArn"]
        for kind, listing, key in (
            ("datasets", p.list_datasets, "datasets"),
            ("solutions", p.list_solutions, "solutions"),
            ("event_trackers", p.list_event_trackers, "eventTrackers"),
        ):
            found[kind] += [
                {**r, "datasetGroupArn": arn} for r in listing(datasetGroupArn=arn, maxResults=100)[key]
            ]
    for dataset in found["datasets"]:
        found["dataset_import_jobs"] += [
            {**job, "datasetArn": dataset["datasetArn"]}
            for job in p.list_dataset_import_jobs(datasetArn=dataset["datasetArn"], maxResults=100)[
                "datasetImportJobs"
            ]
        ]
    for solution in found["solutions"]:
        found["solution_versions"] += [
            {**version, "solutionArn": solution["solutionArn"]}
            for version in p.list_solution_versions(solutionArn=solution["solutionArn"], maxResults=100)[
                "solutionVersions"
            ]
        ]
    return found


def made_for(plan: dict, task_id: str, resources: dict[str, list[dict]]) -> bool:
    """Whether Personalize already has the resource this create task makes (by the run's names)."""
    named = {
        "dataset_groups": "name",
        "schemas": "name",
        "datasets": "name",
        "dataset_import_jobs": "jobName",
        "solutions": "name",
        "batch_inference_jobs": "jobName",
    }
    names = {kind: {r.get(field) for r in resources[kind]} for kind, field in named.items()}
    if task_id == "dataset_group":
        return plan["dataset_group"] in names["dataset_groups"]
    group, _, rest = task_id.partition(".")
    if group == "import":
        step, kind = rest.split("_", 1)
        kinds = {
            "schema": ("schemas", "schema"),
            "dataset": ("datasets", "dataset"),
            "import": ("dataset_import_jobs", "import"),
        }
        listed, key = kinds[step]
        return plan[f"{key}__{kind}"] in names[listed]
    solution = group.removeprefix("train_")
    if rest == "solution":
        return plan[f"solution__{solution}"] in names["solutions"]
    if rest == "batch_inference":
        return plan[f"batch__{solution}"] in names["batch_inference_jobs"]
    arns = {s["solutionArn"] for s in resources["solutions"] if s["name"] == plan[f"solution__{solution}"]}
    return any(v["solutionArn"] in arns for v in resources["solution_versions"])


def stop_run(api, dag_id: str, run_id: str, *, timeout: float = 120) -> None:
    """Fail a run, wait until none of its tasks still runs (a running run cannot be deleted, and a task
    still running could create a resource later), then delete it."""
    api.patch(f"/dags/{dag_id}/dagRuns/{run_id}", {"state": "failed"})
    deadline = time.monotonic() + timeout
    busy = {"running", "deferred", "queued", "scheduled", "restarting", "up_for_retry", "up_for_reschedule"}
    while active := {
        t["task_id"]: t["state"] for t in api.task_instances(dag_id, run_id) if t["state"] in busy
    }:
        assert time.monotonic() < deadline, f"{dag_id} {run_id} still has tasks at work: {active}"
        time.sleep(1)
    time.sleep(10)  # a task failed in the DB is stopped on its process's next heartbeat (every few seconds)
    api.delete(f"/dags/{dag_id}/dagRuns/{run_id}")


@pytest.fixture(scope="module")
def killed_train(native_stack, api, killed_export) -> dict:
    """A train run on the export's version, its worker killed right after a create task made its resource
    and before the task finished or deferred (the worker frozen with SIGSTOP whenever such a task is
    running; resumed if its resource does not exist yet); a new worker retries it."""
    version = xcom(api, EXPORT, killed_export["run_id"], "publish")["version"]
    # earlier tests' leftovers (backfilled versions published while the train DAG was unpaused start runs
    # that stop half-way when it is paused again) would run first and mix their resources with this run's
    for run in api.get(f"/dags/{TRAIN}/dagRuns", state=["queued", "running"])["dag_runs"]:
        stop_run(api, TRAIN, run["dag_run_id"])
    api.delete(f"/dags/{TRAIN}/assets/queuedEvents")
    before = personalize_resources(native_stack)
    run_id = "reliability-train"
    trigger(api, TRAIN, run_id, conf={"version": version})
    wait_for_task(api, TRAIN, run_id, "plan", "success", timeout=240)
    plan = xcom(api, TRAIN, run_id, "plan")

    deadline = time.monotonic() + 300
    interrupted: list[str] = []
    while not interrupted:
        assert time.monotonic() < deadline, f"no create task was caught running: {tries(api, TRAIN, run_id)}"
        running = [
            t
            for t, (state, _) in tries(api, TRAIN, run_id).items()
            if state == "running" and CREATES.match(t)
        ]
        if not running:
            time.sleep(0.05)
            continue
        native_stack.kill("worker", signal.SIGSTOP)
        resources = personalize_resources(native_stack)
        still = [
            t
            for t, (state, _) in tries(api, TRAIN, run_id).items()
            if state == "running" and CREATES.match(t)
        ]
        interrupted = [t for t in still if made_for(plan, t, resources)]
        if not interrupted:
            native_stack.kill("worker", signal.SIGCONT)
    killed = native_stack.kill("worker")
    native_stack.start("worker")
    print(f"killed {killed} while {interrupted} had made their resources")

    run = wait_for_run(api, TRAIN, run_id, timeout=420)
    api.patch(f"/dags/{TRAIN}", {"is_paused": True})
    return {
        "run": run,
        "run_id": run_id,
        "plan": plan,
        "interrupted": interrupted,
        "before": before,
        "after": personalize_resources(native_stack),
    }


def test_the_killed_train_run_is_retried_and_succeeds(api, killed_train):
    run_id = killed_train["run_id"]
    assert killed_train["run"]["state"] == "success", failed_tasks(api, TRAIN, run_id)
    states = tries(api, TRAIN, run_id)
    for task in killed_train["interrupted"]:
        assert states[task][0] == "success" and states[task][1] >= 2, (task, states[task])


def test_the_killed_train_run_made_each_resource_once(killed_train):
    """Exactly what one clean run makes: its dataset group with three datasets, one import each, one
    solution and one trained version per configured solution, one evaluation batch job each (and one for
    the champion, if there was one), at most one event tracker, and the one campaign `shop` (created or
    updated, never a second)."""
    plan, before, after = killed_train["plan"], killed_train["before"], killed_train["after"]
    kinds, solutions = ("interactions", "items", "users"), ("personalized", "popular")

    def names(kind: str, field: str = "name", **where: str) -> list[str]:
        return sorted(r[field] for r in after[kind] if all(r.get(k) == v for k, v in where.items()))

    new_groups = [g for g in names("dataset_groups") if g not in names_before(before, "dataset_groups")]
    assert new_groups == [plan["dataset_group"]]
    (group,) = [g["datasetGroupArn"] for g in after["dataset_groups"] if g["name"] == plan["dataset_group"]]
    assert names("datasets", datasetGroupArn=group) == sorted(plan[f"dataset__{k}"] for k in kinds)
    datasets = {d["datasetArn"] for d in after["datasets"] if d["datasetGroupArn"] == group}
    jobs = sorted(j["jobName"] for j in after["dataset_import_jobs"] if j["datasetArn"] in datasets)
    assert jobs == sorted(plan[f"import__{k}"] for k in kinds)
    assert names("solutions", datasetGroupArn=group) == sorted(plan[f"solution__{s}"] for s in solutions)
    arns = {s["solutionArn"] for s in after["solutions"] if s["datasetGroupArn"] == group}
    versions = [v for v in after["solution_versions"] if v["solutionArn"] in arns]
    assert len(versions) == 2 and all(v["status"] == "ACTIVE" for v in versions), versions
    batch = [
        n
        for n in names("batch_inference_jobs", "jobName")
        if n not in names_before(before, "batch_inference_jobs", "jobName")
    ]
    assert sorted(n for n in batch if n != plan["batch__champion"]) == sorted(
        plan[f"batch__{s}"] for s in solutions
    )
    assert batch.count(plan["batch__champion"]) <= 1
    assert len(names("event_trackers", datasetGroupArn=group)) <= 1
    assert names("campaigns") == ["shop"]


def names_before(before: dict[str, list[dict]], kind: str, field: str = "name") -> set[str]:
    return {r[field] for r in before[kind]}


KILL_SESSIONS, EVENTS_PER_SESSION = 150, 2  # one PutEvents call per session, 10 calls a second


def recorded(stack, dataset_arn: str) -> list[tuple[str, str, int]]:
    """(user, item, timestamp) of every event the endpoint recorded into the Interactions dataset."""
    path = stack.home / "personalize-local" / "datasets" / dataset_arn.split(":", 5)[-1].replace("/", "__")
    path = path / "records.jsonl"
    if not path.exists():
        return []
    text = path.read_text()
    lines = text[: text.rfind("\n") + 1].splitlines()
    return [(r["USER_ID"], r["ITEM_ID"], int(r["TIMESTAMP"])) for r in map(json.loads, lines)]


def add_interactions(stack) -> list[tuple[str, str, int]]:
    """KILL_SESSIONS new browsing sessions in the warehouse, after everything it holds (so after any
    watermark): the interactions the events run has to stream."""
    import duckdb

    with duckdb.connect(str(stack.warehouse)) as con:
        start = (
            con.execute("SELECT max(event_ts) FROM clickstream WHERE event_ts < 1e11").fetchone()[0] + 86_400
        )
        clean = "SELECT DISTINCT {0} FROM clickstream WHERE regexp_full_match({0}, '[CP][0-9]+') ORDER BY 1 LIMIT ?"
        users = [u for (u,) in con.execute(clean.format("customer_id"), [KILL_SESSIONS]).fetchall()]
        items = [i for (i,) in con.execute(clean.format("product_id"), [20]).fetchall()]
        rows = [
            (
                9_000_000_000 + s * EVENTS_PER_SESSION + k,
                f"S-killed-{s:04d}",
                users[s % len(users)],
                items[(s + k) % len(items)],
                "view",
                start + s * 60 + k,
                "web",
            )
            for s in range(KILL_SESSIONS)
            for k in range(EVENTS_PER_SESSION)
        ]
        con.executemany("INSERT INTO clickstream VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return [(user, item, ts) for _, _, user, item, _, ts, _ in rows]


@pytest.fixture(scope="module")
def killed_events(native_stack, api, killed_train) -> dict:
    """An events run streaming new interactions to the champion's tracker, its worker killed once part of
    them were recorded; a new worker retries `stream_events` from the last checkpointed watermark."""
    s3 = s3_client(native_stack)
    champion = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/registry/champion.json")["Body"].read())
    p = boto3.client("personalize", endpoint_url=native_stack.endpoint_url, region_name="us-east-1")
    (dataset,) = [
        d["datasetArn"]
        for d in p.list_datasets(datasetGroupArn=champion["dataset_group_arn"])["datasets"]
        if d["datasetType"].upper() == "INTERACTIONS"
    ]
    added = add_interactions(native_stack)
    already = set(recorded(native_stack, dataset))
    assert not already & set(added)

    run_id = "reliability-events"
    trigger(api, EVENTS, run_id)
    wait_for_task(api, EVENTS, run_id, "stream_events", "running", timeout=180)
    deadline = time.monotonic() + 120
    while len(streamed := [e for e in recorded(native_stack, dataset) if e in set(added)]) < 40:
        assert time.monotonic() < deadline, tries(api, EVENTS, run_id)
        time.sleep(0.1)
    native_stack.kill("worker")
    native_stack.start("worker")
    print(f"killed the worker after {len(streamed)} of {len(added)} new events were recorded")

    run = wait_for_run(api, EVENTS, run_id, timeout=300)
    api.patch(f"/dags/{EVENTS}", {"is_paused": True})
    return {
        "run": run,
        "run_id": run_id,
        "added": added,
        "before_kill": len(streamed),
        "recorded": [e for e in recorded(native_stack, dataset) if e in set(added)],
    }


def test_the_killed_event_stream_records_each_interaction_once(api, killed_events):
    run_id = killed_events["run_id"]
    assert killed_events["run"]["state"] == "success", failed_tasks(api, EVENTS, run_id)
    assert tries(api, EVENTS, run_id)["stream_events"] == ("success", 2)
    added = killed_events["added"]
    assert 0 < killed_events["before_kill"] < len(added)  # killed mid-stream
    recorded_events = killed_events["recorded"]
    assert len(recorded_events) == len(set(recorded_events)), "an interaction was recorded twice"
    assert sorted(recorded_events) == sorted(added), "an interaction was lost"
