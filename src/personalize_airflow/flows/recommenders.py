"""What ``<use_case>__recommenders_stop`` and ``__recommenders_start`` share: the serving recommenders from
the registry, each stopped or started by one mapped task, one DAG per action and its own schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from airflow.sdk import DAG

from personalize_airflow.flows.common import serving_waits, use_case_dag
from personalize_airflow.operators.personalize import (
    PersonalizeStartRecommenderOperator,
    PersonalizeStopRecommenderOperator,
)
from personalize_airflow.recommenders_tasks import serving_recommenders
from personalize_airflow.use_cases import use_case_layout

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: {action} the serving recommenders
{why}

1. **serving_recommenders** — the recommenders of the registry's champion (`{champion}`); skipped before
   the first promotion.
2. **{action}** — one mapped task per recommender: {what} (deferred wait); one already {done} is left as
   it is.

Schedule: `{schedule}` (`serving.recommenders.{action}_schedule`; none: by hand only).
"""
WHY = {
    "stop": "An INACTIVE recommender bills nothing and keeps its model: stop them while nobody asks.",
    "start": "Start them again before applications ask (`__recommenders_stop` stopped them).",
}
ACTIONS = {
    "stop": (PersonalizeStopRecommenderOperator, "StopRecommender, until INACTIVE", "stopped"),
    "start": (PersonalizeStartRecommenderOperator, "StartRecommender, until ACTIVE", "ACTIVE"),
}


def build_switch(uc: UseCase, action: Literal["stop", "start"]) -> DAG | None:
    """``<use_case>__recommenders_<action>``, or None without ``serving.recommenders``."""
    if uc.serving is None or uc.serving.recommenders is None:
        return None
    operator, what, done = ACTIONS[action]
    schedule = getattr(uc.serving.recommenders, f"{action}_schedule")
    layout = use_case_layout(uc)
    with use_case_dag(
        uc,
        f"recommenders_{action}",
        schedule=schedule,
        doc_md=DOC.format(
            name=uc.name,
            action=action,
            why=WHY[action],
            champion=layout.uri(layout.registry.champion_key),
            what=what,
            done=done,
            schedule=schedule,
        ),
    ) as dag:
        operator.partial(task_id=action, **serving_waits(uc)).expand(
            recommender_arn=serving_recommenders(use_case_name=uc.name)
        )
    return dag
