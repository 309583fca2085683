"""<use_case>__recommenders_start: the serving recommenders started on `serving.recommenders.start_schedule`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personalize_airflow.flows.recommenders import build_switch

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from personalize_pipelines.config import UseCase


def build(uc: UseCase) -> DAG | None:
    return build_switch(uc, "start")
