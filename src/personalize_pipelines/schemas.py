"""Personalize dataset schemas (Avro JSON) generated from the use-case config and what the export kept."""

from __future__ import annotations

from personalize_pipelines.config import FieldSpec

NAMESPACE = "com.amazonaws.personalize.schema"


def _field(spec: FieldSpec) -> dict:
    field: dict = {"name": spec.name, "type": ["null", spec.type] if spec.optional else spec.type}
    if spec.categorical:
        field["categorical"] = True
    return field


def _record(name: str, fields: list[dict]) -> dict:
    return {"type": "record", "name": name, "namespace": NAMESPACE, "fields": fields, "version": "1.0"}


def interactions_schema(*, event_value: bool) -> dict:
    fields = [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
    ]
    if event_value:
        fields.append({"name": "EVENT_VALUE", "type": ["null", "float"]})
    return _record("Interactions", fields)


def items_schema(fields: list[FieldSpec]) -> dict:
    return _record("Items", [{"name": "ITEM_ID", "type": "string"}, *map(_field, fields)])


def users_schema(fields: list[FieldSpec]) -> dict:
    return _record("Users", [{"name": "USER_ID", "type": "string"}, *map(_field, fields)])


def column_names(schema: dict) -> list[str]:
    return [field["name"] for field in schema["fields"]]
