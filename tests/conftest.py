"""Shared test setup: an isolated Airflow home, and real servers (S3 API, Postgres, Redis)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from personalize_pipelines.project import Project

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = Project(ROOT)  # this repository's dags/ + include/: the example project
DAG_FILE = ROOT / "dags" / "shop.py"  # the example project's DAG file of the shop use case
AIRFLOW_HOME = ROOT / "build" / "airflow-test"

os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# dag.test() re-serialises every DAG file of the bundle with the test's own config (buckets differ per
# test); Airflow's default skips a DAG written less than 30 s ago, so a run could use an earlier test's DAG.
os.environ["AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL"] = "0"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_server(host: str, port: int, what: str) -> None:
    """Skip when a server the test needs is unreachable; under CI=true that is a failure."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        reason = f"{what} unreachable at {host}:{port} ({exc})"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)


def project_with_own_config(folder: Path) -> Path:
    """A project folder the DAGs read (``[personalize] project_dir``): its own ``include/config`` (returned,
    empty), this repository's SQL and suites."""
    (folder / "include" / "config").mkdir(parents=True, exist_ok=True)
    for name in ("sql", "expectations"):
        link = folder / "include" / name
        if not link.exists():
            link.symlink_to(EXAMPLE.include / name)
    return folder / "include" / "config"


def emptied_bucket(client, bucket: str):
    """``client`` (boto3 S3) with ``bucket`` existing and empty."""
    if bucket in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])
    else:
        client.create_bucket(Bucket=bucket)
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every distribution's wheel, built once a session into one folder (``--find-links``): tests/wheels.py."""
    from tests.wheels import build_wheels

    return build_wheels(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata DB (SQLite) for dag.test()."""
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    if not (AIRFLOW_HOME / "airflow.db").exists():
        subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
            check=True,
            capture_output=True,
            env=os.environ.copy(),
        )
    return AIRFLOW_HOME


def pytest_configure(config):
    """Record the AWS calls and the XCom pushes of every DAG task from the start of the session
    (tests/aws_calls.py, tests/xcom_pushes.py); on Airflow 3.0, tests/airflow_compat.py's dag.test()."""
    from tests import airflow_compat, aws_calls, xcom_pushes

    aws_calls.install()
    xcom_pushes.install()
    airflow_compat.install()


def pytest_collection_modifyitems(session, config, items):
    """The policy coverage tests run last: they check the AWS calls every test before them recorded."""
    last = [item for item in items if item.get_closest_marker("after_all_dags")]
    items[:] = [item for item in items if item not in last] + last


def pytest_runtest_setup(item):
    """Every test's DAGs claim their Assets afresh in the shared metadata DB, before any fixture runs.

    Tests give a use case different buckets, so one Asset name comes with different URIs, and Airflow
    leaves an Asset inactive while another of its name is active: the task emitting it then fails.
    Only a scheduler retires Assets that no DAG uses any more, and dag.test() runs none.
    """
    if "airflow_db" in item.fixturenames and (AIRFLOW_HOME / "airflow.db").exists():
        from airflow.models.asset import AssetActive
        from airflow.utils.session import create_session

        with create_session() as session:
            session.query(AssetActive).delete()


@pytest.fixture(scope="session")
def pg_server() -> dict:
    host = os.environ.get("PG_HOST", "127.0.0.1")
    port = int(os.environ.get("PG_PORT", "5432"))
    require_server(host, port, "PostgreSQL")
    return {"host": host, "port": port, "user": os.environ.get("PG_USER", "postgres")}


@pytest.fixture(scope="session")
def redis_server() -> dict:
    host = os.environ.get("REDIS_HOST", "127.0.0.1")
    port = int(os.environ.get("REDIS_PORT", "6379"))
    require_server(host, port, "Redis")
    return {"host": host, "port": port}


# ---- personalize-local endpoint (owned by the personalize-local server; issue 3) --------------------
@pytest.fixture(scope="session")
def local_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """URL of a personalize-local endpoint (S3, STS, IAM, Personalize) shared by the whole session.

    Nothing global is set: pass the URL as ``endpoint_url`` (or put it in an AWS connection's extra).
    Lifecycle phases are fast (0.02 s).
    """
    from personalize_local.testing import running_endpoint

    with running_endpoint(state_dir=tmp_path_factory.mktemp("personalize-local"), phase_seconds=0.02) as url:
        yield url


@pytest.fixture
def fresh_local_endpoint(tmp_path: Path):
    """A personalize-local endpoint with its own empty Personalize state, for one test."""
    from personalize_local.testing import running_endpoint

    with running_endpoint(state_dir=tmp_path / "personalize-local", phase_seconds=0.02) as url:
        yield url


# ---- end personalize-local endpoint ------------------------------------------------------------------
