"""``personalize-local serve`` as a user runs it: a process serving S3 and Personalize on one URL."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from personalize_local.settings import Settings
from tests.local_endpoint.conftest import (
    create_group_with_data,
    interactions_csv,
    make_clients,
    unique,
    wait_for,
)

SCRIPT = Path(sys.executable).parent / "personalize-local"


@contextlib.contextmanager
def serve(state_dir: Path, *flags: str):
    """Run the console script on a free loopback port; yields (process, url)."""
    environment = {
        **os.environ,
        "PERSONALIZE_LOCAL_PHASE_SECONDS": "0.01",
        "PERSONALIZE_LOCAL_S3_SYNC_SECONDS": "0.05",
    }
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", "0", "--state-dir", str(state_dir), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("personalize-local serving http://127.0.0.1:"), line
        yield process, line.rsplit(" ", 1)[1]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def test_serve_survives_being_killed_mid_training(tmp_path):
    """Resources, S3 objects and in-flight work after a SIGKILL and a restart on the same state dir."""
    with serve(tmp_path, "--train-seconds", "120") as (process, url):
        clients = make_clients(url)
        bucket = unique("cli")
        clients.s3.create_bucket(Bucket=bucket)
        assert [b["Name"] for b in clients.s3.list_buckets()["Buckets"]] == [bucket]
        name = unique("cli")
        arns = create_group_with_data(clients, bucket=bucket, name=name, interactions=interactions_csv())
        p = clients.personalize
        solution = p.create_solution(
            name=unique("cli"),
            datasetGroupArn=arns["group"],
            recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
        )["solutionArn"]
        wait_for(p.describe_solution, "solution", solutionArn=solution)
        version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        wait_for(
            p.describe_solution_version,
            "solutionVersion",
            until=("CREATE IN_PROGRESS",),
            solutionVersionArn=version,
        )
        process.kill()  # SIGKILL: no chance to clean up
    with serve(tmp_path) as (process, url):
        clients = make_clients(url)
        p = clients.personalize
        stored = clients.s3.get_object(Bucket=bucket, Key=f"{name}/interactions/part-0.csv")["Body"].read()
        assert stored.decode() == interactions_csv()  # S3 survived the kill too
        assert p.describe_dataset_group(datasetGroupArn=arns["group"])["datasetGroup"]["status"] == "ACTIVE"
        failed = p.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
        assert failed["status"] == "CREATE FAILED" and "stopped while" in failed["failureReason"]
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_settings_come_from_env_and_flags_override():
    settings = Settings.from_env(
        {
            "PERSONALIZE_LOCAL_TRAIN_SECONDS": "120",
            "PERSONALIZE_LOCAL_FAIL_JOBS": "a, b",
            "PERSONALIZE_LOCAL_THROTTLE_RATE": "0.5",
        },
        throttle_rate=0.1,
    )
    assert (settings.train_seconds, settings.fail_jobs, settings.throttle_rate) == (120.0, {"a", "b"}, 0.1)
    assert settings.host == "127.0.0.1"


def test_buckets_given_with_bucket_exist_from_the_start_and_keep_their_objects(tmp_path):
    state = tmp_path / "state"
    with serve(state, "--bucket", "personalize-demo", "--bucket", "other-bucket") as (_, url):
        s3 = make_clients(url).s3
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {"personalize-demo", "other-bucket"}
        s3.put_object(Bucket="personalize-demo", Key="kept.txt", Body=b"still here")
        deadline = time.monotonic() + 10
        while "kept.txt" not in "".join(p.read_text() for p in (state / "s3").rglob("index.json")):
            assert time.monotonic() < deadline, "the object was never mirrored to the state dir"
            time.sleep(0.05)
    with serve(state, "--bucket", "personalize-demo") as (_, url):
        s3 = make_clients(url).s3
        body = s3.get_object(Bucket="personalize-demo", Key="kept.txt")["Body"].read()
        assert body == b"still here"


def test_buckets_come_from_the_environment_too():
    assert Settings.from_env({"PERSONALIZE_LOCAL_BUCKETS": "a, b"}).buckets == {"a", "b"}
