"""How a dict-returning task hands its dict on, and the rule Airflow 3.0 imposes.

A task whose keys the flows pull one by one (``staged["job_name"]``) pushes one XCom per key
(``@task(multiple_outputs=True)``); every other dict-returning task pushes the dict as one XCom
(``@task(multiple_outputs=False)``, since a ``-> dict`` annotation alone turns per-key pushes on).
Airflow 3.0's execution API rejects an XCom whose value is None (apache/airflow#55062, fixed in 3.1),
so a per-key task returns :func:`without_none` of its dict: pulling a key it left out gives None, as
pulling a pushed None would. ``tests/dags/test_xcom_values.py`` holds every task to this.
"""

from __future__ import annotations

from typing import Any


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without its None values (nested ones stay: they travel inside one XCom)."""
    return {key: value for key, value in values.items() if value is not None}
