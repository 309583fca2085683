"""The native stack for the system tests: its own database, Redis DB, home and ports; always torn down."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from stack.native import Stack, StackError
from tests.conftest import free_port

REDIS_DB = 14  # a developer's `make stack-up` uses 0, bench/waiting.py 13


@pytest.fixture(scope="session")
def native_stack(pg_server, redis_server, tmp_path_factory) -> Iterator[Stack]:
    """Airflow on Postgres + Celery/Redis + triggerer + personalize-local, started once per session.

    Personalize's lifecycle phases are quick (0.02 s) but training takes ≥ 8 s (status checked every
    2 s), so the training waits really defer. Its home is the session's own pytest temp directory
    (pytest keeps the last three): two sessions at once never share pid files, logs or state.
    """
    stack = Stack(
        home=tmp_path_factory.mktemp("system-stack"),
        db_name=f"airflow_system_{free_port()}",
        pg_host=pg_server["host"],
        pg_port=pg_server["port"],
        pg_user=pg_server["user"],
        redis_host=redis_server["host"],
        redis_port=redis_server["port"],
        redis_db=REDIS_DB,
        api_port=free_port(),
        endpoint_port=free_port(),
        worker_log_port=free_port(),
        trigger_log_port=free_port(),
        worker_concurrency=4,
        phase_seconds=0.02,
        train_seconds=8,
        warehouse_interactions=30_000,
        extra_env={
            "AIRFLOW__PERSONALIZE__POLL_SECONDS": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # a killed worker's running task is noticed in ~20 s, not 5 minutes, and retried 3 s later (a
            # live task heartbeats every 5 s); one it had taken from the queue but not started is queued
            # again after 30 s, not 10 minutes (test_worker_killed.py)
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__PERSONALIZE__RETRY_DELAY_SECONDS": "3",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
        },
    )
    stack.purge_broker()
    try:
        stack.up(timeout=300)
        yield stack
    except StackError as exc:
        pytest.fail(f"the native stack did not start: {exc}")
    finally:
        stack.down()
        stack.drop_database()
        stack.purge_broker()


class AirflowApi:
    """Airflow's REST API v2 with a JWT from /auth/token."""

    def __init__(self, stack: Stack) -> None:
        self.client = httpx.Client(
            base_url=f"{stack.api_url}/api/v2",
            headers={"Authorization": f"Bearer {stack.token()}"},
            timeout=30,
        )

    def get(self, path: str, **params) -> dict:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def patch(self, path: str, body: dict) -> dict:
        response = self.client.patch(path, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict) -> dict:
        response = self.client.post(path, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def delete(self, path: str) -> None:
        """DELETE; a resource that is not there (404) is already deleted."""
        response = self.client.delete(path)
        assert response.status_code in (204, 404), response.text

    def wait_for_dags(self, *dag_ids: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            known = {d["dag_id"] for d in self.get("/dags", limit=100)["dags"]}
            if set(dag_ids) <= known:
                return
            time.sleep(1)
        errors = self.get("/importErrors")
        raise AssertionError(
            f"{set(dag_ids) - known} not parsed within {timeout}s; import errors: {json.dumps(errors)}"
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)["task_instances"]


@pytest.fixture(scope="session")
def api(native_stack) -> AirflowApi:
    return AirflowApi(native_stack)
