"""Every XCom a task pushes in this test session under ``dag.test()``, counted, and the None ones named:
Airflow 3.0 fails a task pushing a None value (apache/airflow#55062), newer Airflow accepts it, so on
the development lock only this record shows a task that would fail on 3.0."""

from __future__ import annotations

from typing import Any

PUSHED: list[tuple[str, str, str]] = []
NONE: list[tuple[str, str, str]] = []


def install() -> None:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    original = RuntimeTaskInstance.xcom_push

    def xcom_push(self: Any, key: str, value: Any) -> Any:
        where = (self.dag_id, self.task_id, key)
        PUSHED.append(where)
        if value is None:
            NONE.append(where)
        return original(self, key, value)

    RuntimeTaskInstance.xcom_push = xcom_push
