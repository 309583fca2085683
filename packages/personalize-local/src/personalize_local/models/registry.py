"""Trained models in memory: loaded on first use and kept current with real-time events."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from personalize_local.errors import InternalFailure
from personalize_local.models.state import ServiceState

log = logging.getLogger("personalize_local.runtime")

RECOMMENDER_SERVING = frozenset({"ACTIVE", "UPDATE PENDING", "UPDATE IN_PROGRESS"})
"""A recommender's statuses in which it answers GetRecommendations (an update keeps serving the old model)."""


class ModelRegistry:
    """The models campaigns, recommenders, batch jobs and just-finished trainings serve, by the ARN of the
    solution version or recommender trained."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._models: dict[str, Any] = {}
        self._groups: dict[str, str] = {}
        self._lock = threading.RLock()

    def get(self, model_arn: str) -> Any:
        model = self._models.get(model_arn)
        if model is not None:
            return model
        with self._lock:
            if model_arn in self._models:
                return self._models[model_arn]
            from personalize_local.training import load_model

            trained = self.state.store.snapshot(self.state.store.kind_of(model_arn), model_arn)
            try:
                model = load_model(self.state.model_dir(model_arn))
            except Exception as exc:
                log.exception("cannot load model %s", model_arn)
                raise InternalFailure(f"Cannot load the model of {model_arn}: {exc}") from exc
            log.info("loaded model %s", model_arn)
            return self.adopt(
                model_arn,
                model,
                dataset_group_arn=trained["datasetGroupArn"],
                records_offset=trained.get("_recordsOffset", 0),
            )

    def adopt(
        self, solution_version_arn: str, model: Any, *, dataset_group_arn: str, records_offset: int
    ) -> Any:
        """Serve ``model`` (just trained or loaded), first replaying events recorded after its training data."""
        with self._lock:
            interactions = self.state.datasets_of(dataset_group_arn).get("Interactions")
            if interactions:
                later = self.state.dataset_data(interactions["datasetArn"]).records()
                for user, items in _by_user(later[records_offset:]).items():
                    model.observe(user, items)
            self._models[solution_version_arn] = model
            self._groups[solution_version_arn] = dataset_group_arn
            return model

    def observe(self, dataset_group_arn: str, user_id: str, item_ids: list[str]) -> None:
        with self._lock:
            for version_arn, model in self._models.items():
                if self._groups[version_arn] == dataset_group_arn:
                    model.observe(user_id, item_ids)

    def release_unused(self) -> None:
        """Drop models no live campaign or ACTIVE recommender serves (batch jobs, retired versions and
        started recommenders load them again if needed)."""
        serving = {
            c["solutionVersionArn"]
            for c in self.state.store.find("campaign")
            if not c["status"].startswith("DELETE")
        } | {
            r["recommenderArn"]
            for r in self.state.store.find("recommender")
            if r["status"] in RECOMMENDER_SERVING
        }
        with self._lock:
            for version_arn in [arn for arn in self._models if arn not in serving]:
                self.forget(version_arn)

    def forget(self, solution_version_arn: str) -> None:
        with self._lock:
            self._models.pop(solution_version_arn, None)
            self._groups.pop(solution_version_arn, None)


def _by_user(records: list[dict]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record.get("ITEM_ID") is not None:
            grouped[str(record["USER_ID"])].append(str(record["ITEM_ID"]))
    return grouped
