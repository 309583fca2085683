"""A solution version's training: gather the dataset group's data, check it as Personalize does, train."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from personalize_local.limits import MIN_INTERACTIONS, MIN_USERS_WITH_TWO
from personalize_local.models.lifecycle import JobFailed
from personalize_local.models.registry import ModelRegistry
from personalize_local.models.state import ServiceState
from personalize_local.recipes import Recipe, recipe_for_arn

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("personalize_local.training_job")


def interactions_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The training library's interaction columns and types."""
    import pandas as pd

    out = pd.DataFrame(
        {
            "USER_ID": frame["USER_ID"].astype(str),
            "ITEM_ID": frame["ITEM_ID"].astype(str),
            "TIMESTAMP": pd.to_numeric(frame["TIMESTAMP"]).astype("int64"),
        }
    )
    if "EVENT_TYPE" in frame.columns:
        out["EVENT_TYPE"] = frame["EVENT_TYPE"].fillna("").astype(str)
    if "EVENT_VALUE" in frame.columns:
        out["EVENT_VALUE"] = pd.to_numeric(frame["EVENT_VALUE"]).astype("float64")
    return out


def check_trainable(interactions: pd.DataFrame, event_type: str | None, *, any_case: bool = False) -> None:
    """Personalize's minimums (:mod:`personalize_local.limits`), counting only the event type if one is set
    (in any letter case with ``any_case``, as a use case's required event type is matched)."""
    import pandas as pd

    counted = interactions
    if event_type:
        types = interactions.get("EVENT_TYPE", pd.Series(dtype=str))
        counted = interactions[types.str.lower() == event_type.lower() if any_case else types == event_type]
    what = f" of event type {event_type!r}" if event_type else ""
    if len(counted) < MIN_INTERACTIONS:
        raise JobFailed(
            f"There are fewer than {MIN_INTERACTIONS} interactions{what} in the dataset group "
            f"({len(counted)}); import more data"
        )
    users = int((counted.groupby("USER_ID").size() >= 2).sum())
    if users < MIN_USERS_WITH_TWO:
        raise JobFailed(
            f"There are fewer than {MIN_USERS_WITH_TWO} users with at least 2 interactions{what} "
            f"({users}); import more data"
        )


def _metadata(
    state: ServiceState, group: str, dataset_type: str, key: str, excluded: set[str]
) -> pd.DataFrame | None:
    dataset = state.datasets_of(group).get(dataset_type)
    if dataset is None or dataset["status"] != "ACTIVE":
        return None
    frame = state.dataset_data(dataset["datasetArn"]).frame()
    if frame is None:
        return None
    frame = frame.drop(columns=sorted(excluded - {key}), errors="ignore")
    frame = frame.drop_duplicates(key, keep="last").reset_index(drop=True)
    frame[key] = frame[key].astype(str)
    return frame


def train_solution_version(*, state: ServiceState, models: ModelRegistry, solution_version_arn: str) -> dict:
    """Train and save the model; returns the fields to record on the ACTIVE solution version."""
    version = state.store.snapshot("solution-version", solution_version_arn)
    trained = train_model(
        state=state,
        models=models,
        model_arn=solution_version_arn,
        group=version["datasetGroupArn"],
        recipe=recipe_for_arn(version["recipeArn"]),
        params=version.get("solutionConfig") or {},
        event_type=version.get("eventType"),
    )
    return {
        "_metrics": trained["metrics"],
        "trainingHours": trained["trainingHours"],
        "_recordsOffset": trained["_recordsOffset"],
    }


def train_model(
    *,
    state: ServiceState,
    models: ModelRegistry,
    model_arn: str,
    group: str,
    recipe: Recipe,
    params: dict,
    event_type: str | None,
    excluded_columns: dict[str, list[str]] | None = None,
) -> dict:
    """Train ``recipe`` on the group's data, save the model under ``model_arn`` and serve it from ``models``.

    :param event_type: count only this event type towards Personalize's minimums (and, for a solution's
        ``eventType``, train only on it).
    :param excluded_columns: per dataset type (``INTERACTIONS``, ``ITEMS``, ``USERS``), the columns training
        leaves out (never the ids, TIMESTAMP or EVENT_TYPE: the recommender's config refuses those).
    :returns: ``metrics``, ``trainingHours`` and ``_recordsOffset`` (the real-time records trained on).
    """
    try:
        from personalize_local import training
    except ImportError as exc:
        raise JobFailed(f"The training library personalize_local.training is unavailable: {exc}") from exc
    dataset = state.datasets_of(group).get("Interactions")
    if dataset is None or dataset["status"] != "ACTIVE":
        raise JobFailed(f"Dataset group {group} has no ACTIVE Interactions dataset")
    data = state.dataset_data(dataset["datasetArn"])
    records = data.records()
    frame = data.frame(records=records)
    if frame is None:
        raise JobFailed(f"The Interactions dataset {dataset['datasetArn']} holds no data; import some first")
    excluded = {kind.upper(): set(columns) for kind, columns in (excluded_columns or {}).items()}
    interactions = interactions_frame(
        frame.drop(columns=sorted(excluded.get("INTERACTIONS", set())), errors="ignore")
    )
    check_trainable(interactions, event_type or recipe.required_event_type, any_case=event_type is None)
    started = time.monotonic()
    log.info("training %s (%s) on %d interactions", model_arn, recipe.name, len(interactions))
    try:
        model = training.train(
            recipe=recipe.name,
            data=training.TrainingData(
                interactions=interactions,
                items=_metadata(state, group, "Items", "ITEM_ID", excluded.get("ITEMS", set())),
                users=_metadata(state, group, "Users", "USER_ID", excluded.get("USERS", set())),
            ),
            params=params,
            event_type=event_type,
            progress=lambda message: log.info("%s: %s", model_arn, message),
        )
    except training.TrainingError as exc:
        raise JobFailed(str(exc)) from exc
    model.save(state.model_dir(model_arn))
    models.adopt(model_arn, model, dataset_group_arn=group, records_offset=len(records))
    seconds = max(float(getattr(model, "training_seconds", 0.0)), time.monotonic() - started)
    log.info("trained %s in %.1f s: %s", model_arn, seconds, model.metrics)
    return {
        "metrics": {k: float(v) for k, v in model.metrics.items()},
        "trainingHours": round(seconds / 3600, 6),
        "_recordsOffset": len(records),
    }
