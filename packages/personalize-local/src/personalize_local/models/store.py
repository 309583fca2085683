"""Durable resource state: one JSON document under the state directory, rewritten atomically."""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from personalize_local.errors import ResourceNotFound

log = logging.getLogger("personalize_local.store")

KINDS = (
    "schema",
    "dataset-group",
    "dataset",
    "dataset-import-job",
    "solution",
    "solution-version",
    "campaign",
    "batch-inference-job",
    "event-tracker",
    "filter",
    "batch-segment-job",
    "recommender",
)
IN_FLIGHT = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS", "CREATE STOPPING"})
SETTLED_AFTER_RESTART = {
    "STOP PENDING": "INACTIVE",
    "STOP IN_PROGRESS": "INACTIVE",
    "START PENDING": "INACTIVE",
    "START IN_PROGRESS": "INACTIVE",
    "UPDATE PENDING": "ACTIVE",
    "UPDATE IN_PROGRESS": "ACTIVE",
}
"""A recommender stopping or starting when the endpoint stopped is left stopped (start it again); one
updating keeps serving what it served, its update failed."""
UPDATES = ("latestCampaignUpdate", "latestRecommenderUpdate")


class StoreClosed(Exception):
    """Raised to background work that outlived the endpoint: its result must not be written."""


class Store:
    """Resources by kind and ARN, plus tags; every mutation is persisted before it returns."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.state_dir / "state.json"
        self.lock = threading.RLock()
        self.closed = False
        self.resources: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.tags: dict[str, dict[str, str]] = {}
        if self.path.exists():
            document = json.loads(self.path.read_text())
            for kind in KINDS:
                self.resources[kind] = document.get("resources", {}).get(kind, {})
            self.tags = document.get("tags", {})

    def dir_for(self, area: str, resource_arn: str) -> Path:
        """A directory owned by one resource, e.g. ``datasets/<id>`` or ``models/<id>``."""
        safe = resource_arn.split(":", 5)[-1].replace("/", "__")
        return self.state_dir / area / safe

    def save(self) -> None:
        with self.lock:
            if self.closed:
                raise StoreClosed("the endpoint has stopped")
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"resources": self.resources, "tags": self.tags}))
            os.replace(temporary, self.path)

    def get(self, kind: str, resource_arn: str) -> dict[str, Any]:
        resource = self.resources[kind].get(resource_arn)
        if resource is None:
            raise ResourceNotFound(f"The {kind.replace('-', ' ')} {resource_arn} does not exist")
        return resource

    def snapshot(self, kind: str, resource_arn: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.get(kind, resource_arn))

    def find(self, kind: str, **equal: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(r)
                for r in self.resources[kind].values()
                if all(r.get(k) == v for k, v in equal.items())
            ]

    def put(self, kind: str, resource_arn: str, resource: dict[str, Any]) -> None:
        with self.lock:
            self.resources[kind][resource_arn] = resource
            self.save()

    def update(self, kind: str, resource_arn: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            if self.closed:
                raise StoreClosed("the endpoint has stopped")
            resource = self.get(kind, resource_arn)
            resource.update(changes)
            resource["lastUpdatedDateTime"] = time.time()
            self.save()
            return copy.deepcopy(resource)

    def remove(self, kind: str, resource_arn: str) -> None:
        with self.lock:
            self.resources[kind].pop(resource_arn, None)
            self.tags.pop(resource_arn, None)
            self.save()

    def kind_of(self, resource_arn: str) -> str:
        for kind in KINDS:
            if resource_arn in self.resources[kind]:
                return kind
        raise ResourceNotFound(f"Resource {resource_arn} does not exist")

    def recover(self) -> list[str]:
        """After a restart: work that was in flight failed; pending deletes complete. Returns ARNs touched."""
        touched = []
        with self.lock:
            for kind in KINDS:
                for resource_arn, resource in list(self.resources[kind].items()):
                    status = resource.get("status")
                    if status in ("DELETE PENDING", "DELETE IN_PROGRESS"):
                        del self.resources[kind][resource_arn]
                        self.tags.pop(resource_arn, None)
                        touched.append(resource_arn)
                    elif status in IN_FLIGHT:
                        resource["status"] = "CREATE FAILED"
                        resource["failureReason"] = self._lost(kind, resource_arn, status)
                        resource["lastUpdatedDateTime"] = time.time()
                        touched.append(resource_arn)
                    elif status in SETTLED_AFTER_RESTART:
                        resource["status"] = SETTLED_AFTER_RESTART[status]
                        resource["lastUpdatedDateTime"] = time.time()
                        self._lost(kind, resource_arn, status)
                        touched.append(resource_arn)
                    for key in UPDATES:
                        update = resource.get(key) or {}
                        if update.get("status") in IN_FLIGHT:
                            update.update(
                                status="CREATE FAILED",
                                lastUpdatedDateTime=time.time(),
                                failureReason=self._lost(f"{kind} update", resource_arn, update["status"]),
                            )
                            touched.append(resource_arn)
            if touched:
                self.save()
        return touched

    @staticmethod
    def _lost(kind: str, resource_arn: str, status: str) -> str:
        reason = (
            f"personalize-local stopped while this {kind.replace('-', ' ')} was {status}; "
            "the work was lost, create it again"
        )
        log.warning("%s: %s", resource_arn, reason)
        return reason

    def close(self) -> None:
        with self.lock:
            self.closed = True
