"""The service state the control plane, runtime, events, batch inference and training share.

The store of resources, each dataset's stored data, the folders of trained models and of recorded
eventIds, and the per-group data filters read. The backend composes its helpers over one of these; none of
them holds the backend.
"""

from __future__ import annotations

import functools
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from personalize_local.models.datasets import DatasetData
from personalize_local.models.group_data import GroupData
from personalize_local.models.store import Store
from personalize_local.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("personalize_local.state")

DATASETS, MODELS, EVENT_IDS = "datasets", "models", "event-ids"
AREAS = {DATASETS: ("dataset",), MODELS: ("solution-version", "recommender"), EVENT_IDS: ("event-tracker",)}
"""The state dir's areas: one folder per resource of the kinds named."""


class ServiceState:
    """Opens the state dir: the store, recovered from a restart, without the files of deleted resources."""

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.state_dir)
        recovered = self.store.recover()
        if recovered:
            log.warning(
                "recovered after restart: %d resource(s) were in flight or pending delete", len(recovered)
            )
        self._remove_orphans()
        self._data: dict[str, DatasetData] = {}
        self._groups: dict[str, GroupData] = {}

    def _remove_orphans(self) -> None:
        """Finish deletes cut short by a restart: versions of deleted solutions, files of deleted resources."""
        for version in self.store.find("solution-version"):
            if version["solutionArn"] not in self.store.resources["solution"]:
                self.store.remove("solution-version", version["solutionVersionArn"])
        for area, kinds in AREAS.items():
            kept = {
                self.store.dir_for(area, resource_arn)
                for kind in kinds
                for resource_arn in self.store.resources[kind]
            }
            root = self.settings.state_dir / area
            for directory in root.iterdir() if root.is_dir() else ():
                if directory not in kept:
                    shutil.rmtree(directory, ignore_errors=True)

    def dataset_data(self, dataset_arn: str) -> DatasetData:
        """The one DatasetData per dataset (its lock serializes appends and reads)."""
        with self.store.lock:
            data = self._data.get(dataset_arn)
            if data is None:
                data = self._data[dataset_arn] = DatasetData(self.store.dir_for(DATASETS, dataset_arn))
            return data

    def forget_dataset(self, dataset_arn: str) -> None:
        """Drop a deleted dataset's data, in memory and on disk."""
        self._data.pop(dataset_arn, None)
        shutil.rmtree(self.store.dir_for(DATASETS, dataset_arn), ignore_errors=True)

    def model_dir(self, model_arn: str) -> Path:
        """Where the model of a solution version or a recommender is saved."""
        return self.store.dir_for(MODELS, model_arn)

    def event_ids_dir(self, event_tracker_arn: str) -> Path:
        return self.store.dir_for(EVENT_IDS, event_tracker_arn)

    def datasets_of(self, dataset_group_arn: str) -> dict[str, dict]:
        """Live datasets of a group by type (Interactions, Items, Users)."""
        return {
            d["datasetType"]: d
            for d in self.store.find("dataset", datasetGroupArn=dataset_group_arn)
            if not d["status"].startswith("DELETE")
        }

    def dataset_frame(self, dataset_group_arn: str, dataset_type: str) -> pd.DataFrame | None:
        """The stored rows of the group's dataset of that type; None without the dataset or its data."""
        dataset = self.datasets_of(dataset_group_arn).get(dataset_type)
        return self.dataset_data(dataset["datasetArn"]).frame() if dataset else None

    def group_data(self, dataset_group_arn: str) -> GroupData:
        """What filters read of a dataset group, kept until :meth:`invalidate`."""
        data = self._groups.get(dataset_group_arn)
        if data is None:
            data = self._groups.setdefault(
                dataset_group_arn, GroupData(functools.partial(self.dataset_frame, dataset_group_arn))
            )
        return data

    def invalidate(self, dataset_group_arn: str) -> None:
        """Forget cached dataset contents after an import or PutItems/PutUsers."""
        self._groups.pop(dataset_group_arn, None)
