"""The flows of every use case, declared once here and built for a team's project by its DAG files,
one per use case (``dags/<use_case>.py``)::

    from personalize_airflow.flows import build_dags

    globals().update(build_dags("shop"))

so a broken YAML or SQL of one use case is its own file's import error and the others still load.
``build_dags()`` builds every use case from one file instead: a new YAML needs no DAG file, but one bad
use case then keeps every DAG of the file from loading.

Each module of this package declares one flow (``build(uc)`` returns its DAG, or None when the use case has
no section for it); the use cases are the project's ``include/config/*.yaml`` (``[personalize] project_dir``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from personalize_airflow.flows import (
    batch,
    cleanup,
    events,
    experiment,
    export,
    recommenders_start,
    recommenders_stop,
    segments,
    train,
    trending,
)
from personalize_airflow.use_cases import all_use_cases, use_case

if TYPE_CHECKING:
    from airflow.sdk import DAG

FLOWS = (
    export,
    train,
    batch,
    events,
    trending,
    segments,
    recommenders_stop,
    recommenders_start,
    cleanup,
    experiment,
)


def build_dags(use_case_name: str | None = None) -> dict[str, DAG]:
    """Every DAG of every use case of the project, or of the one named, by dag id."""
    use_cases = [use_case(use_case_name)] if use_case_name else all_use_cases()
    dags = {}
    for uc in use_cases:
        for flow in FLOWS:
            if (dag := flow.build(uc)) is not None:
                dags[dag.dag_id] = dag
    return dags
