"""What Trending-Now campaigns read: each dataset group's current interactions, bulk and real-time.

Trending-Now follows new interactions without a new solution version, so a trending model is served from
the group's Interactions dataset as it is now, not from its training data. Each request needs only the
newest TIMESTAMP (to know whether a new interval began); the frame is put together only when the model
evaluates a new interval. Each file's rows are kept until it changes (an import rewrites the bulk file,
PutEvents appends to the records file), so a request costs two ``stat`` calls, and a PutEvents since the
last one a reread of the records file, not of the bulk data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from personalize_local.errors import InvalidInput
from personalize_local.models.state import ServiceState
from personalize_local.models.training_job import interactions_frame

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class _Part:
    """One file's interactions (training's columns) and their newest TIMESTAMP."""

    identity: tuple[int, int]
    frame: pd.DataFrame | None
    latest: float


class InteractionLog:
    """Per dataset group, its interactions and their newest TIMESTAMP, reread when the files change."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._parts: dict[tuple[str, str], _Part] = {}
        self._lock = threading.Lock()

    def current(self, dataset_group_arn: str) -> tuple[float, Callable[[], pd.DataFrame]]:
        """The group's newest interaction TIMESTAMP, and a function returning all its interactions."""
        dataset = self.state.datasets_of(dataset_group_arn).get("Interactions")
        if dataset is None:
            raise InvalidInput(f"Dataset group {dataset_group_arn} has no Interactions dataset to trend on")
        data = self.state.dataset_data(dataset["datasetArn"])
        bulk = self._part(dataset["datasetArn"], data.bulk_path, lambda: data.frame(records=[]))
        records = self._part(dataset["datasetArn"], data.records_path, lambda: _frame_of(data.records()))
        frames = [part.frame for part in (bulk, records) if part.frame is not None]
        if not frames:
            raise InvalidInput(f"Dataset group {dataset_group_arn} holds no interactions to trend on")

        def interactions() -> pd.DataFrame:
            import pandas as pd

            return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

        return max(bulk.latest, records.latest), interactions

    def _part(self, dataset_arn: str, path: Path, read: Callable[[], pd.DataFrame | None]) -> _Part:
        try:
            stat = path.stat()
            identity = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            identity = (0, 0)
        key = (dataset_arn, path.name)
        with self._lock:
            part = self._parts.get(key)
            if part is None or part.identity != identity:
                raw = read() if identity != (0, 0) else None
                frame = interactions_frame(raw) if raw is not None and not raw.empty else None
                latest = float(frame["TIMESTAMP"].max()) if frame is not None else float("-inf")
                part = self._parts[key] = _Part(identity, frame, latest)
            return part


def _frame_of(records: list[dict]) -> pd.DataFrame | None:
    import pandas as pd

    return pd.DataFrame.from_records(records) if records else None
