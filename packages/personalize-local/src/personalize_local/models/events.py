"""Events: PutEvents, PutItems and PutUsers, the real-time records that change datasets and models."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from personalize_local.errors import InvalidInput, ResourceNotFound
from personalize_local.limits import MAX_EVENTS_PER_CALL
from personalize_local.models.context import RequestContext
from personalize_local.models.datasets import parse_schema
from personalize_local.models.event_records import interaction_record, schema_values
from personalize_local.models.registry import ModelRegistry
from personalize_local.models.state import ServiceState

TRACKER_ACCEPTS = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"})
"""Event tracker statuses PutEvents records in: from the moment CreateEventTracker answers, as on AWS, where
the getting-started notebook sends its first event right after creating the tracker."""


class EventsBackend:
    """PutEvents, PutItems and PutUsers.

    As Personalize does, an event whose ``eventId`` this tracker has already recorded is not recorded
    again, so a client may resend a batch it is unsure of. The ids recorded are kept under the state
    dir, beside the tracker, so this holds across a restart too. A PutEvents call is checked whole before
    any of its events is recorded (:func:`~personalize_local.models.event_records.interaction_record`): one
    event without an item id refuses the call, and none of its events is recorded.
    """

    def __init__(self, *, state: ServiceState, models: ModelRegistry) -> None:
        self.state = state
        self.models = models
        self._event_ids: dict[str, set[str]] = {}
        self._event_ids_lock = threading.Lock()

    def _ids_path(self, tracker_arn: str) -> Path:
        return self.state.event_ids_dir(tracker_arn) / "ids.txt"

    def _seen(self, tracker_arn: str) -> set[str]:
        if tracker_arn not in self._event_ids:
            path = self._ids_path(tracker_arn)
            text = path.read_text() if path.exists() else ""
            complete = text[: text.rfind("\n") + 1]  # an id cut short by a crash mid-append was not recorded
            self._event_ids[tracker_arn] = set(complete.splitlines())
        return self._event_ids[tracker_arn]

    def _record_unseen(
        self,
        tracker_arn: str,
        records: list[tuple[str | None, dict]],
        record: Callable[[list[dict]], None],
    ) -> None:
        """Pass the records whose eventId (first of each pair) this tracker has not recorded to `record`,
        then remember their ids."""
        with self._event_ids_lock:
            seen = self._seen(tracker_arn)
            fresh, ids = [], []
            for event_id, entry in records:
                if event_id and (event_id in seen or event_id in ids):
                    continue
                if event_id:
                    ids.append(event_id)
                fresh.append(entry)
            record(fresh)
            if ids:
                path = self._ids_path(tracker_arn)
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a") as handle:
                    handle.write("".join(f"{event_id}\n" for event_id in ids))
                seen.update(ids)

    def put_events(
        self,
        request: RequestContext,
        *,
        trackingId: str,
        sessionId: str,
        eventList: list[dict],
        userId: str | None = None,
    ) -> dict:
        if len(eventList) > MAX_EVENTS_PER_CALL:
            raise InvalidInput(f"PutEvents takes at most {MAX_EVENTS_PER_CALL} events per call")
        trackers = self.state.store.find("event-tracker", trackingId=trackingId)
        if not trackers:
            raise InvalidInput(f"No event tracker has trackingId {trackingId}")
        tracker = trackers[0]
        if tracker["status"] not in TRACKER_ACCEPTS:
            raise InvalidInput(
                f"Event tracker {tracker['eventTrackerArn']} is {tracker['status']}; it records no more events"
            )
        group = tracker["datasetGroupArn"]
        interactions = self.state.datasets_of(group).get("Interactions")
        if interactions is None or interactions["status"] != "ACTIVE":
            raise InvalidInput(
                f"Dataset group {group} has no ACTIVE Interactions dataset to record events in"
            )
        user = userId or sessionId
        fields = self._fields(interactions)
        records = [
            (event.get("eventId"), interaction_record(event, user=user, fields=fields)) for event in eventList
        ]

        def record(fresh: list[dict]) -> None:
            if not fresh:
                return
            self.state.dataset_data(interactions["datasetArn"]).append_records(fresh)
            data = self.state.group_data(group)
            for entry in fresh:
                data.add_event(user, entry["ITEM_ID"], entry["EVENT_TYPE"])
            self.models.observe(group, user, [r["ITEM_ID"] for r in fresh])

        self._record_unseen(tracker["eventTrackerArn"], records, record)
        return {}

    def _fields(self, dataset: dict) -> set[str]:
        return {
            f.name for f in parse_schema(self.state.store.resources["schema"][dataset["schemaArn"]]["schema"])
        }

    def _put(
        self, dataset_arn: str, dataset_type: str, id_field: str, entries: list[dict], id_key: str
    ) -> None:
        dataset = self.state.store.resources["dataset"].get(dataset_arn)
        if dataset is None:
            raise ResourceNotFound(f"Dataset {dataset_arn} does not exist")
        if dataset["datasetType"] != dataset_type or dataset["status"] != "ACTIVE":
            raise InvalidInput(f"Dataset {dataset_arn} is not an ACTIVE {dataset_type} dataset")
        fields = self._fields(dataset)
        records = []
        for entry in entries:
            try:
                properties = json.loads(entry.get("properties") or "{}")
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"properties of {entry[id_key]} is not JSON: {exc}") from exc
            values = schema_values(properties, fields=fields, owner=entry[id_key], dataset_type=dataset_type)
            records.append({id_field: entry[id_key], **values})
        self.state.dataset_data(dataset_arn).append_records(records)
        self.state.invalidate(dataset["datasetGroupArn"])

    def put_items(self, request: RequestContext, *, datasetArn: str, items: list[dict]) -> dict:
        self._put(datasetArn, "Items", "ITEM_ID", items, "itemId")
        return {}

    def put_users(self, request: RequestContext, *, datasetArn: str, users: list[dict]) -> dict:
        self._put(datasetArn, "Users", "USER_ID", users, "userId")
        return {}
