"""What a train run imports and the name of every Personalize resource it creates."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from personalize_pipelines.naming import derive_name

DATASET_TYPES = {"interactions": "Interactions", "items": "Items", "users": "Users"}
CHAMPION_LABEL = "champion"


def dataset_kinds(uc: Any) -> list[str]:
    """The datasets this use case imports: interactions, plus items and users when configured."""
    return ["interactions"] + [kind for kind in ("items", "users") if getattr(uc, kind) is not None]


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


def resource_names(uc: Any, *, version: str, run_id: str, schemas: Mapping[str, str]) -> dict[str, str]:
    """The name of every resource one run creates, deterministic in (use case, version, run).

    ``per_run`` groups are named from the run (a new group each run); a ``long_lived`` group and its
    datasets from the use case alone. Schemas are named by content, solutions by their settings (a
    changed setting gives a new solution), recommenders by their recipe (a changed requests per second
    updates them), import and batch jobs by version and run.

    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param version: the export version trained on.
    :param run_id: the pipeline run.
    :param schemas: dataset kind → Avro schema JSON of the export version.
    """
    name = uc.name
    per_run = uc.training.dataset_group == "per_run"
    group = (
        derive_name(f"{name}-run", name, version, run_id) if per_run else derive_name(f"{name}-live", name)
    )
    names = {"dataset_group": group, "campaign": name, "event_tracker": derive_name(f"{name}-events", group)}
    for kind in dataset_kinds(uc):
        names[f"schema__{kind}"] = derive_name(
            f"{name}-{kind}", name, kind, _digest(json.loads(schemas[kind]))
        )
        names[f"dataset__{kind}"] = derive_name(f"{name}-{kind}", group, kind)
        names[f"import__{kind}"] = derive_name(f"{name}-{kind}-import", name, version, run_id, kind)
    for solution in uc.training.solutions:
        settings = solution.model_dump(exclude={"training_mode"})
        names[f"solution__{solution.name}"] = derive_name(f"{name}-{solution.name}", group, _digest(settings))
        names[f"batch__{solution.name}"] = derive_name(f"{name}-{solution.name}-eval", name, version, run_id)
    for recommender in uc.training.recommenders:  # a long-lived group's keep their name: updated in place
        names[f"recommender__{recommender.name}"] = derive_name(
            f"{name}-{recommender.name}", group, recommender.recipe_name
        )
        for filter_name, expression in recommender.filters.items():
            names[f"filter__{recommender.name}__{filter_name}"] = derive_name(
                f"{name}-{recommender.name}-{filter_name}", group, expression
            )
    names[f"batch__{CHAMPION_LABEL}"] = derive_name(f"{name}-{CHAMPION_LABEL}-eval", name, version, run_id)
    if uc.campaign.smoke_test_filter:
        names["smoke_filter"] = derive_name(f"{name}-smoke", group, uc.campaign.smoke_test_filter)
    return names
