"""<use_case>__recommenders_stop: the serving recommenders stopped on `serving.recommenders.stop_schedule`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from personalize_airflow.flows.recommenders import build_switch

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from personalize_pipelines.config import UseCase


def build(uc: UseCase) -> DAG | None:
    return build_switch(uc, "stop")
