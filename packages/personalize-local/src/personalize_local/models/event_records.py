"""One PutEvents event → the Interactions record it adds, checked as Personalize checks it."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from personalize_local.errors import InvalidInput

RESERVED_PROPERTIES = frozenset(
    {"userid", "sessionid", "eventtype", "timestamp", "recommendationid", "impression"}
)
"""Keys an event's ``properties`` may not hold (case-insensitive), as PutEvents' API reference lists them."""


def camel_to_field(name: str) -> str:
    """A property key's schema field: ``numRatings`` → ``NUM_RATINGS``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def timestamp(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise InvalidInput(f"sentAt {value!r} is not a timestamp") from exc


def _properties(event: dict) -> dict[str, Any]:
    try:
        properties = json.loads(event.get("properties") or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"An event's properties is not JSON ({exc}): {event['properties']!r}") from exc
    if not isinstance(properties, dict):
        raise InvalidInput(f"An event's properties must be a JSON object, not {event['properties']!r}")
    reserved = sorted(key for key in properties if key.lower() in RESERVED_PROPERTIES)
    if reserved:
        raise InvalidInput(
            f"properties may not hold {', '.join(reserved)}: send them as the call's userId/sessionId "
            "or the event's eventType/sentAt/recommendationId/impression members"
        )
    return properties


def interaction_record(event: dict, *, user: str, fields: set[str]) -> dict[str, Any]:
    """The Interactions record of ``event``, sent by ``user``; ``fields``: the Interactions schema's fields.

    ``itemId`` and ``eventValue`` are members of the event or, in the API's original form that AWS's
    getting-started notebooks still send, keys of its ``properties`` JSON; a member wins over a property.
    The other property keys are the camel-case names of schema fields (``numRatings`` → ``NUM_RATINGS``);
    a key that names no field is refused, as PutItems and PutUsers refuse one, rather than dropped. An
    event with no item id is refused, as Personalize refuses it: the record would have no ITEM_ID. The
    ``impression`` and ``recommendationId`` members are accepted and not recorded: personalize-local's
    training does not use impressions.
    """
    properties = _properties(event)
    members = {key: properties.pop(key, None) for key in ("itemId", "eventValue")}
    item = event.get("itemId") or members["itemId"]
    if item in (None, ""):
        raise InvalidInput(
            f"An event of type {event.get('eventType')!r} has no item id: give the event an itemId "
            'member or properties such as {"itemId": "..."}'
        )
    record: dict[str, Any] = {
        "USER_ID": user,
        "ITEM_ID": str(item),
        "TIMESTAMP": timestamp(event["sentAt"]),
        "EVENT_TYPE": event["eventType"],
    }
    value = event.get("eventValue", members["eventValue"])
    if value is not None:
        try:
            record["EVENT_VALUE"] = float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"eventValue {value!r} of item {item} is not a number") from exc
    record.update(schema_values(properties, fields=fields, owner=f"item {item}", dataset_type="Interactions"))
    return record


def schema_values(
    properties: dict[str, Any], *, fields: set[str], owner: str, dataset_type: str
) -> dict[str, Any]:
    """Each property under its schema field (``numRatings`` → ``NUM_RATINGS``); a key that names no field
    of the ``dataset_type`` schema is refused, naming ``owner`` (the item or user it came with)."""
    values = {}
    for key, value in properties.items():
        field = camel_to_field(key)
        if field not in fields:
            raise InvalidInput(
                f"property {key!r} of {owner} matches no field of the {dataset_type} schema "
                f"({', '.join(sorted(fields))})"
            )
        values[field] = value
    return values
