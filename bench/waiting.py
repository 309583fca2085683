"""Waiting costs no worker: worker-slot-seconds spent waiting for training, deferred vs poked.

Starts a native stack (`stack.native.Stack`: Postgres metadata DB, LocalExecutor in the scheduler, a
triggerer, the api-server, personalize-local set to train for ≥ BENCH_TRAIN_SECONDS, default 120) with
the DAGs of bench/dags/waiting.py, triggers both through the REST API at once and, while they run,
samples their task-instance rows (and trigger rows) in the metadata DB every 0.2 s.

A waiting task holds a worker slot while it is `running`:
  * deferrable `solution_version`: from its start_date to its trigger's created_date (the deferral),
    then from its resume (the first sample seen running again, midpoint of the transition) to end_date;
  * poke-mode `wait_for_training`: start_date to end_date.
Each is divided by the time Personalize was busy training that solution version (its describe:
creationDateTime → lastUpdatedDateTime).

    python -m bench.waiting        # prints the result as JSON
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

ROOT_DAGS = "bench/dags"
SAMPLE_SECONDS = 0.2
VARIANTS = {"deferrable": "solution_version", "poke": "wait_for_training"}  # variant → its waiting task
BUCKET = "bench-waiting"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[bench.waiting] {message}", flush=True)


@dataclass
class Observed:
    """One task instance as the sampler saw it."""

    samples: list[tuple[datetime, str]] = field(default_factory=list)
    start_date: datetime | None = None
    end_date: datetime | None = None
    deferred_at: datetime | None = None  # the trigger row's created_date

    def see(self, at: datetime, state: str | None, start, end, trigger_created) -> None:
        if not self.samples or self.samples[-1][1] != state:
            self.samples.append((at, state or "none"))
        self.start_date, self.end_date = start, end
        if trigger_created is not None:
            self.deferred_at = trigger_created

    def resumed_at(self) -> datetime | None:
        """Midpoint between the last sample not running after the deferral and the first running again."""
        if self.deferred_at is None:
            return None
        previous = None
        for at, state in self.samples:
            if at < self.deferred_at:
                continue
            if state in ("running", "success", "failed") and previous is not None:
                return previous + (at - previous) / 2
            previous = at
        return None

    def worker_slot_seconds(self) -> float:
        if self.start_date is None or self.end_date is None:
            raise RuntimeError(f"task instance never finished: {self.samples}")
        if self.deferred_at is None:
            return (self.end_date - self.start_date).total_seconds()
        resumed = self.resumed_at() or self.end_date
        return ((self.deferred_at - self.start_date) + (self.end_date - resumed)).total_seconds()

    def seconds_before_deferral(self) -> float:
        return (self.deferred_at - self.start_date).total_seconds() if self.deferred_at else 0.0

    def deferred_seconds(self) -> float:
        if self.deferred_at is None:
            return 0.0
        return ((self.resumed_at() or self.end_date) - self.deferred_at).total_seconds()


def interactions_csv(*, users: int = 300, per_user: int = 20, items: int = 400) -> bytes:
    """A small deterministic Interactions file (users × per_user events over a Zipf-ish item range)."""
    import random

    rng = random.Random(7)
    lines = ["USER_ID,ITEM_ID,TIMESTAMP"]
    for u in range(users):
        for k in range(per_user):
            item = int(items * rng.random() ** 2)
            lines.append(f"u{u:04d},i{item:04d},{1_767_225_600 + u * 3600 + k * 60}")
    return ("\n".join(lines) + "\n").encode()


def run() -> dict:
    """Run both DAGs on a fresh native stack; return the fractions and what they are made of."""
    import boto3
    import httpx
    import psycopg2

    from stack.native import ROOT, Stack

    train_seconds = float(os.environ.get("BENCH_TRAIN_SECONDS", 120))
    home = ROOT / "build" / "bench" / "waiting-stack"
    shutil.rmtree(home, ignore_errors=True)
    stack = Stack(
        home=home,
        db_name="airflow_bench_waiting",
        executor="LocalExecutor",
        redis_db=13,
        api_port=_free_port(),
        endpoint_port=_free_port(),
        worker_log_port=_free_port(),
        trigger_log_port=_free_port(),
        train_seconds=train_seconds,
        phase_seconds=0.2,
        warehouse_interactions=0,
        dags_folder=ROOT / ROOT_DAGS,
        extra_env={"AIRFLOW__CORE__PARALLELISM": "8"},
    )
    started = time.monotonic()
    try:
        stack.down()
        stack.drop_database()
        log(f"starting the stack (LocalExecutor, personalize-local training ≥ {train_seconds:.0f}s)")
        stack.up(timeout=300)
        local = {
            "endpoint_url": stack.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        s3 = boto3.client("s3", **local)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="interactions.csv", Body=interactions_csv())

        api = httpx.Client(
            base_url=f"{stack.api_url}/api/v2",
            headers={"Authorization": f"Bearer {stack.token()}"},
            timeout=30,
        )
        _wait_for_dags(api, [f"bench_waiting__{v}" for v in VARIANTS])
        stamp = datetime.now(UTC).strftime("%H%M%S")
        for variant in VARIANTS:
            dag_id = f"bench_waiting__{variant}"
            api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
            api.post(
                f"/dags/{dag_id}/dagRuns",
                json={
                    "dag_run_id": "bench",
                    "logical_date": None,
                    "conf": {
                        "name": f"bench-{variant}-{stamp}",
                        "data_location": f"s3://{BUCKET}/interactions.csv",
                    },
                },
            ).raise_for_status()
        log("both DAG runs triggered; sampling task instances")
        observed = _sample(
            psycopg2.connect(stack.database_url("postgresql")), timeout=train_seconds * 3 + 300
        )

        personalize = boto3.client("personalize", **local)
        result: dict = {}
        for variant, task in VARIANTS.items():
            ti = observed[(f"bench_waiting__{variant}", task)]
            busy = _training_seconds(personalize, f"bench-{variant}-{stamp}-solution")
            worker = ti.worker_slot_seconds()
            prefix = "" if variant == "deferrable" else "poke_"
            result[f"{prefix}worker_slot_fraction"] = round(worker / busy, 4)
            result[f"{prefix}worker_slot_seconds"] = round(worker, 2)
            result[f"{prefix}training_seconds"] = round(busy, 1)
            if variant == "deferrable":
                result["worker_slot_seconds_before_deferral"] = round(ti.seconds_before_deferral(), 2)
                result["deferred_seconds"] = round(ti.deferred_seconds(), 1)
        result.update(
            executor=stack.executor,
            train_seconds_setting=train_seconds,
            status_check_seconds=5,
            sample_seconds=SAMPLE_SECONDS,
            wall_seconds=round(time.monotonic() - started, 1),
            load_average_1m=round(os.getloadavg()[0], 2),
        )
        return result
    finally:
        stack.down()
        stack.drop_database()


def _wait_for_dags(api, dag_ids: list[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get("/dags", params={"limit": 100})
        if response.status_code == 200 and set(dag_ids) <= {d["dag_id"] for d in response.json()["dags"]}:
            return
        time.sleep(1)
    raise RuntimeError(
        f"{dag_ids} not parsed within {timeout}s; import errors: {api.get('/importErrors').text}"
    )


def _sample(con, *, timeout: float) -> dict[tuple[str, str], Observed]:
    """Poll the bench runs' task instances until both runs end; fail on a failed run."""
    con.autocommit = True
    observed: dict[tuple[str, str], Observed] = {}
    deadline = time.monotonic() + timeout
    with con.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute(
                """SELECT ti.dag_id, ti.task_id, ti.state, ti.start_date, ti.end_date, t.created_date
                   FROM task_instance ti LEFT JOIN trigger t ON t.id = ti.trigger_id
                   WHERE ti.dag_id LIKE 'bench_waiting__%%' AND ti.run_id = 'bench'"""
            )
            now = datetime.now(UTC)
            for dag_id, task_id, state, start, end, trigger_created in cur.fetchall():
                observed.setdefault((dag_id, task_id), Observed()).see(
                    now, state, start, end, trigger_created
                )
            cur.execute(
                "SELECT dag_id, state FROM dag_run WHERE dag_id LIKE 'bench_waiting__%%' AND run_id = 'bench'"
            )
            runs = dict(cur.fetchall())
            if len(runs) == len(VARIANTS) and all(s in ("success", "failed") for s in runs.values()):
                failed = {
                    d: [t for (dd, t), o in observed.items() if dd == d and o.samples[-1][1] != "success"]
                    for d, s in runs.items()
                    if s == "failed"
                }
                if failed:
                    raise RuntimeError(f"bench runs failed: {failed}")
                return observed
            time.sleep(SAMPLE_SECONDS)
    raise RuntimeError(f"bench runs not finished within {timeout:.0f}s")


def _training_seconds(personalize, solution_name: str) -> float:
    """How long Personalize was busy training the solution's (only) version, from its describe."""
    solutions = [s for s in personalize.list_solutions()["solutions"] if s["name"] == solution_name]
    versions = personalize.list_solution_versions(solutionArn=solutions[0]["solutionArn"])["solutionVersions"]
    described = personalize.describe_solution_version(solutionVersionArn=versions[0]["solutionVersionArn"])
    version = described["solutionVersion"]
    if version["status"] != "ACTIVE":
        raise RuntimeError(
            f"{solution_name}: training ended {version['status']}: {version.get('failureReason')}"
        )
    return (version["lastUpdatedDateTime"] - version["creationDateTime"]).total_seconds()


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
