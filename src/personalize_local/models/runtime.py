"""Runtime and events: recommendations from trained models, and real-time records that change them."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_local.errors import InternalFailure, InvalidInput, ResourceNotFound
from personalize_local.models import filters as filter_language
from personalize_local.models.recipes import recipe_for_arn
from personalize_local.protocol.dispatch import RequestContext

if TYPE_CHECKING:
    import pandas as pd

    from personalize_local.models.backend import PersonalizeBackend

log = logging.getLogger("personalize_local.runtime")


class ModelRegistry:
    """Trained models in memory, loaded on first use and kept current with real-time events."""

    def __init__(self, backend: PersonalizeBackend) -> None:
        self.backend = backend
        self._models: dict[str, Any] = {}
        self._groups: dict[str, str] = {}
        self._lock = threading.RLock()

    def get(self, solution_version_arn: str) -> Any:
        model = self._models.get(solution_version_arn)
        if model is not None:
            return model
        with self._lock:
            if solution_version_arn in self._models:
                return self._models[solution_version_arn]
            from personalize_local.training import load_model

            version = self.backend.store.snapshot("solution-version", solution_version_arn)
            try:
                model = load_model(self.backend.model_dir(solution_version_arn))
            except Exception as exc:
                log.exception("cannot load model %s", solution_version_arn)
                raise InternalFailure(f"Cannot load the model of {solution_version_arn}: {exc}") from exc
            log.info("loaded model %s", solution_version_arn)
            return self.adopt(
                solution_version_arn,
                model,
                dataset_group_arn=version["datasetGroupArn"],
                records_offset=version.get("_recordsOffset", 0),
            )

    def adopt(
        self, solution_version_arn: str, model: Any, *, dataset_group_arn: str, records_offset: int
    ) -> Any:
        """Serve ``model`` (just trained or loaded), first replaying events recorded after its training data."""
        with self._lock:
            interactions = self.backend.datasets_of(dataset_group_arn).get("Interactions")
            if interactions:
                later = self.backend.dataset_data(interactions["datasetArn"]).records()
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
        """Drop models no live campaign serves (batch jobs and retired versions load them again if needed)."""
        serving = {
            c["solutionVersionArn"]
            for c in self.backend.store.find("campaign")
            if not c["status"].startswith("DELETE")
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


class GroupData:
    """Per dataset group, what filters read: the Items frame and each user's items by event type."""

    def __init__(self, backend: PersonalizeBackend, dataset_group_arn: str) -> None:
        self.backend = backend
        self.group = dataset_group_arn
        self._items: pd.DataFrame | None = None
        self._items_loaded = False
        self._user_items: dict[str, dict[str, set[str]]] | None = None
        self._lock = threading.Lock()

    def items(self) -> pd.DataFrame | None:
        with self._lock:
            if not self._items_loaded:
                dataset = self.backend.datasets_of(self.group).get("Items")
                frame = self.backend.dataset_data(dataset["datasetArn"]).frame() if dataset else None
                if frame is not None:
                    frame = frame.drop_duplicates("ITEM_ID", keep="last").reset_index(drop=True)
                self._items, self._items_loaded = frame, True
            return self._items

    def user_items(self, user_id: str, event_types: Iterable[str] | None) -> set[str]:
        import pandas as pd

        with self._lock:
            if self._user_items is None:
                self._user_items = defaultdict(lambda: defaultdict(set))
                dataset = self.backend.datasets_of(self.group).get("Interactions")
                frame = self.backend.dataset_data(dataset["datasetArn"]).frame() if dataset else None
                if frame is not None:
                    table = pd.DataFrame(
                        {
                            "user": frame["USER_ID"].astype(str).to_numpy(),
                            "kind": (
                                frame["EVENT_TYPE"].fillna("").astype(str).to_numpy()
                                if "EVENT_TYPE" in frame.columns
                                else ""
                            ),
                            "item": frame["ITEM_ID"].astype(str).to_numpy(),
                        }
                    ).drop_duplicates()
                    for (user, kind), items in table.groupby(["user", "kind"], sort=False)["item"]:
                        self._user_items[user][kind] = set(items)
            by_type = self._user_items.get(user_id, {})
            if event_types is None:
                return set().union(*by_type.values()) if by_type else set()
            return set().union(*(by_type.get(kind, set()) for kind in event_types))

    def add_event(self, user_id: str, item_id: str, event_type: str) -> None:
        with self._lock:
            if self._user_items is not None:
                self._user_items[user_id][event_type].add(item_id)


class RuntimeBackend:
    """GetRecommendations and GetPersonalizedRanking."""

    def __init__(self, backend: PersonalizeBackend) -> None:
        self.backend = backend
        self._groups: dict[str, GroupData] = {}
        self._parsed_filters: dict[str, list[filter_language.Expression]] = {}

    def group_data(self, dataset_group_arn: str) -> GroupData:
        data = self._groups.get(dataset_group_arn)
        if data is None:
            data = self._groups.setdefault(dataset_group_arn, GroupData(self.backend, dataset_group_arn))
        return data

    def invalidate(self, dataset_group_arn: str) -> None:
        """Forget cached dataset contents after an import or PutItems/PutUsers."""
        self._groups.pop(dataset_group_arn, None)

    def restriction(
        self,
        *,
        filter_arn: str | None,
        filter_values: dict[str, str] | None,
        dataset_group_arn: str,
        user_id: str | None,
        item_id: str | None = None,
    ) -> filter_language.ItemRestriction:
        if not filter_arn:
            return filter_language.ItemRestriction()
        record = self.backend.store.resources["filter"].get(filter_arn)
        if record is None or record.get("status") != "ACTIVE":
            raise ResourceNotFound(f"Filter {filter_arn} does not exist or is not ACTIVE")
        if record["datasetGroupArn"] != dataset_group_arn:
            raise InvalidInput(f"Filter {filter_arn} belongs to another dataset group")
        expressions = self._parsed_filters.get(filter_arn)
        if expressions is None:
            expressions = self._parsed_filters[filter_arn] = filter_language.parse(record["filterExpression"])
        data = self.group_data(dataset_group_arn)
        needs_items = any(c.dataset == "Items" for e in expressions for clause in e.clauses for c in clause)
        return filter_language.restrict(
            expressions,
            values=filter_language.parse_filter_values(filter_values or {}),
            items=data.items() if needs_items else None,
            user_items=lambda kinds: data.user_items(user_id or "", kinds),
            current_item=item_id,
        )

    def _serving(self, campaign_arn: str) -> tuple[dict, Any, str]:
        campaign = self.backend.store.resources["campaign"].get(campaign_arn)
        if campaign is None:
            raise ResourceNotFound(f"Campaign {campaign_arn} does not exist")
        if campaign.get("status") != "ACTIVE":
            raise ResourceNotFound(f"Campaign {campaign_arn} is {campaign.get('status')}, not ACTIVE")
        version_arn = campaign["solutionVersionArn"]
        version = self.backend.store.resources["solution-version"].get(version_arn)
        if version is None:
            raise ResourceNotFound(
                f"Solution version {version_arn} of campaign {campaign_arn} no longer exists"
            )
        recipe = recipe_for_arn(version["recipeArn"])
        return version, self.backend.models.get(version_arn), recipe.recipe_type if recipe else ""

    def get_recommendations(
        self,
        request: RequestContext,
        *,
        campaignArn: str | None = None,
        recommenderArn: str | None = None,
        itemId: str | None = None,
        userId: str | None = None,
        numResults: int = 25,
        filterArn: str | None = None,
        filterValues: dict[str, str] | None = None,
        **_: Any,
    ) -> dict:
        if recommenderArn:
            raise InvalidInput("Recommenders (domain dataset groups) are not supported by personalize-local")
        if not campaignArn:
            raise InvalidInput("campaignArn is required")
        if not 1 <= numResults <= 500:
            raise InvalidInput(f"numResults must be between 1 and 500, got {numResults}")
        version, model, recipe_type = self._serving(campaignArn)
        restriction = self.restriction(
            filter_arn=filterArn,
            filter_values=filterValues,
            dataset_group_arn=version["datasetGroupArn"],
            user_id=userId,
            item_id=itemId,
        )
        ranked = recommend(
            model,
            recipe_type,
            user_id=userId,
            item_id=itemId,
            num_results=numResults,
            restriction=restriction,
        )
        return {
            "itemList": [{"itemId": item, "score": round(float(score), 7)} for item, score in ranked],
            "recommendationId": f"RID-{uuid.uuid4()}",
        }

    def get_personalized_ranking(
        self,
        request: RequestContext,
        *,
        campaignArn: str,
        inputList: list[str],
        userId: str,
        filterArn: str | None = None,
        filterValues: dict[str, str] | None = None,
        **_: Any,
    ) -> dict:
        if len(inputList) > 500:
            raise InvalidInput("inputList can hold at most 500 items")
        version, model, recipe_type = self._serving(campaignArn)
        if recipe_type != "PERSONALIZED_RANKING":
            raise InvalidInput(
                f"Campaign {campaignArn} serves a {recipe_type} recipe; GetPersonalizedRanking needs "
                "a personalized-ranking campaign"
            )
        restriction = self.restriction(
            filter_arn=filterArn,
            filter_values=filterValues,
            dataset_group_arn=version["datasetGroupArn"],
            user_id=userId,
        )
        ranked = [
            (item, score) for item, score in model.rank(userId, list(inputList)) if restriction.admits(item)
        ]
        return {
            "personalizedRanking": [
                {"itemId": item, "score": round(float(score), 7)} for item, score in ranked
            ],
            "recommendationId": f"RID-{uuid.uuid4()}",
        }


def recommend(
    model: Any,
    recipe_type: str,
    *,
    user_id: str | None,
    item_id: str | None,
    num_results: int,
    restriction: filter_language.ItemRestriction,
) -> list[tuple[str, float]]:
    """What a campaign (or batch job) returns for one request, by recipe type."""
    if recipe_type == "RELATED_ITEMS":
        if not item_id:
            raise InvalidInput("This campaign recommends related items: give itemId")
        return model.related(
            item_id,
            num_results,
            exclude_items=restriction.exclude | {item_id},
            allowed_items=restriction.allowed,
        )
    if recipe_type == "USER_PERSONALIZATION":
        if not user_id:
            raise InvalidInput("This campaign recommends items for a user: give userId")
        exclude = model.seen_items(user_id) | restriction.exclude
        return model.recommend(user_id, num_results, exclude_items=exclude, allowed_items=restriction.allowed)
    raise InvalidInput("This campaign ranks items: call GetPersonalizedRanking with userId and inputList")


def _camel_to_field(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _timestamp(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise InvalidInput(f"sentAt {value!r} is not a timestamp") from exc


class EventsBackend:
    """PutEvents, PutItems and PutUsers.

    As Personalize does, an event whose ``eventId`` this tracker has already recorded is not recorded
    again, so a client may resend a batch it is unsure of. The ids recorded are kept under the state
    dir, beside the tracker, so this holds across a restart too.
    """

    def __init__(self, backend: PersonalizeBackend) -> None:
        self.backend = backend
        self._event_ids: dict[str, set[str]] = {}
        self._event_ids_lock = threading.Lock()

    def _ids_path(self, tracker_arn: str) -> Path:
        return self.backend.event_ids_dir(tracker_arn) / "ids.txt"

    def _seen(self, tracker_arn: str) -> set[str]:
        if tracker_arn not in self._event_ids:
            path = self._ids_path(tracker_arn)
            text = path.read_text() if path.exists() else ""
            complete = text[: text.rfind("\n") + 1]  # an id cut short by a crash mid-append was not recorded
            self._event_ids[tracker_arn] = set(complete.splitlines())
        return self._event_ids[tracker_arn]

    def _record_unseen(
        self, tracker_arn: str, events: list[dict], record: Callable[[list[dict]], None]
    ) -> None:
        """Pass the events whose eventId this tracker has not recorded to `record`, then remember their ids."""
        with self._event_ids_lock:
            seen = self._seen(tracker_arn)
            fresh, ids = [], []
            for event in events:
                event_id = event.get("eventId")
                if event_id and (event_id in seen or event_id in ids):
                    continue
                if event_id:
                    ids.append(event_id)
                fresh.append(event)
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
        if len(eventList) > 10:
            raise InvalidInput("PutEvents takes at most 10 events per call")
        trackers = self.backend.store.find("event-tracker", trackingId=trackingId)
        if not trackers or trackers[0]["status"] != "ACTIVE":
            raise InvalidInput(f"No ACTIVE event tracker has trackingId {trackingId}")
        group = trackers[0]["datasetGroupArn"]
        interactions = self.backend.datasets_of(group).get("Interactions")
        if interactions is None or interactions["status"] != "ACTIVE":
            raise InvalidInput(
                f"Dataset group {group} has no ACTIVE Interactions dataset to record events in"
            )
        user = userId or sessionId

        def record(events: list[dict]) -> None:
            records = [
                {
                    "USER_ID": user,
                    "ITEM_ID": event["itemId"],
                    "TIMESTAMP": _timestamp(event["sentAt"]),
                    "EVENT_TYPE": event["eventType"],
                    **({"EVENT_VALUE": float(event["eventValue"])} if "eventValue" in event else {}),
                }
                for event in events
                if event.get("itemId")
            ]
            if not records:
                return
            self.backend.dataset_data(interactions["datasetArn"]).append_records(records)
            data = self.backend.runtime.group_data(group)
            for entry in records:
                data.add_event(user, entry["ITEM_ID"], entry["EVENT_TYPE"])
            self.backend.models.observe(group, user, [r["ITEM_ID"] for r in records])

        self._record_unseen(trackers[0]["eventTrackerArn"], eventList, record)
        return {}

    def _put(
        self, dataset_arn: str, dataset_type: str, id_field: str, entries: list[dict], id_key: str
    ) -> None:
        from personalize_local.models.datasets import parse_schema

        dataset = self.backend.store.resources["dataset"].get(dataset_arn)
        if dataset is None:
            raise ResourceNotFound(f"Dataset {dataset_arn} does not exist")
        if dataset["datasetType"] != dataset_type or dataset["status"] != "ACTIVE":
            raise InvalidInput(f"Dataset {dataset_arn} is not an ACTIVE {dataset_type} dataset")
        fields = {
            f.name
            for f in parse_schema(self.backend.store.resources["schema"][dataset["schemaArn"]]["schema"])
        }
        records = []
        for entry in entries:
            try:
                properties = json.loads(entry.get("properties") or "{}")
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"properties of {entry[id_key]} is not JSON: {exc}") from exc
            record = {id_field: entry[id_key]}
            for key, value in properties.items():
                field = _camel_to_field(key)
                if field not in fields:
                    raise InvalidInput(
                        f"property {key!r} of {entry[id_key]} matches no field of the {dataset_type} "
                        f"schema ({', '.join(sorted(fields))})"
                    )
                record[field] = value
            records.append(record)
        self.backend.dataset_data(dataset_arn).append_records(records)
        self.backend.runtime.invalidate(dataset["datasetGroupArn"])

    def put_items(self, request: RequestContext, *, datasetArn: str, items: list[dict]) -> dict:
        self._put(datasetArn, "Items", "ITEM_ID", items, "itemId")
        return {}

    def put_users(self, request: RequestContext, *, datasetArn: str, users: list[dict]) -> dict:
        self._put(datasetArn, "Users", "USER_ID", users, "userId")
        return {}
