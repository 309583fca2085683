"""Amazon Personalize's domain dataset groups (ECOMMERCE, VIDEO_ON_DEMAND): the fields each dataset's
schema must have, the reserved ones and their types, as the developer guide's "<domain> datasets and
schemas" pages define them.

:func:`domain_problems` checks a use case's items and users fields against its domain, so a schema
Personalize would refuse is caught when the YAML loads, naming the field; :func:`required_fields` are the
fields the export makes non-null (rows without them are dropped and counted) and never leaves out.

A domain's Interactions schema needs USER_ID, ITEM_ID, TIMESTAMP and EVENT_TYPE, which every export
writes; the event types its recommenders need (VIDEO_ON_DEMAND: Watch; ECOMMERCE: View, Purchase) are
the recommenders' requirement, not the schema's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Domain = Literal["ECOMMERCE", "VIDEO_ON_DEMAND"]
DOMAINS: tuple[str, ...] = ("ECOMMERCE", "VIDEO_ON_DEMAND")
NUMERIC_TYPES = frozenset({"int", "long", "float", "double"})


@dataclass(frozen=True)
class DomainField:
    """A required or reserved field: its Avro type and whether it is categorical (reserved strings are
    either categorical or textual, never the other)."""

    name: str
    type: str
    categorical: bool = False


def _fields(*fields: DomainField) -> dict[str, DomainField]:
    return {f.name: f for f in fields}


# fmt: off
REQUIRED: dict[str, dict[str, dict[str, DomainField]]] = {
    "VIDEO_ON_DEMAND": {
        "items": _fields(DomainField("GENRES", "string", True), DomainField("CREATION_TIMESTAMP", "long")),
        "users": {},
    },
    "ECOMMERCE": {
        "items": _fields(DomainField("PRICE", "float"), DomainField("CATEGORY_L1", "string", True)),
        "users": {},
    },
}
RESERVED: dict[str, dict[str, dict[str, DomainField]]] = {
    "VIDEO_ON_DEMAND": {
        "items": _fields(
            DomainField("PRICE", "float"), DomainField("DURATION", "float"),
            DomainField("GENRE_L2", "string", True), DomainField("GENRE_L3", "string", True),
            DomainField("AVERAGE_RATING", "float"), DomainField("PRODUCT_DESCRIPTION", "string"),
            DomainField("CONTENT_OWNER", "string", True), DomainField("CONTENT_CLASSIFICATION", "string", True),
        ),
        "users": _fields(DomainField("SUBSCRIPTION_MODEL", "string", True)),
    },
    "ECOMMERCE": {
        "items": _fields(
            DomainField("CATEGORY_L2", "string", True), DomainField("CATEGORY_L3", "string", True),
            DomainField("PRODUCT_DESCRIPTION", "string"), DomainField("CREATION_TIMESTAMP", "long"),
            DomainField("AGE_GROUP", "string", True), DomainField("ADULT", "string", True),
            DomainField("GENDER", "string", True),
        ),
        "users": {},
    },
}
# fmt: on


def required_fields(domain: str | None, dataset: str) -> frozenset[str]:
    """The fields a dataset (``items`` or ``users``) of the domain must have; none without a domain."""
    return frozenset(REQUIRED[domain][dataset]) if domain else frozenset()


def _is_metadata(field: Any) -> bool:
    return field.type in NUMERIC_TYPES or (field.type == "string" and field.categorical)


def domain_problems(domain: str, dataset: str, fields: list[Any]) -> list[str]:
    """What keeps the fields of ``items`` or ``users`` from a schema of the domain, one message per field.

    :param fields: the dataset's :class:`personalize_pipelines.config.FieldSpec` list.
    """
    declared = {f.name: f for f in fields}
    problems = [
        f"{dataset}.fields must include {spec.name} ({_describe(spec)}): the {domain} domain requires it"
        for spec in REQUIRED[domain][dataset].values()
        if spec.name not in declared
    ]
    typed = {**RESERVED[domain][dataset], **REQUIRED[domain][dataset]}
    for name, field in declared.items():
        spec = typed.get(name)
        if spec is None:
            continue
        if name in REQUIRED[domain][dataset] and "optional" in field.model_fields_set and field.optional:
            problems.append(
                f"{dataset}.fields {name} is required in the {domain} domain: it cannot be optional"
            )
        if field.type != spec.type or field.categorical != spec.categorical:
            problems.append(
                f"{dataset}.fields {name} must be {_describe(spec)} in the {domain} domain "
                f"(declared {_describe(field)})"
            )
    if dataset == "users" and not any(_is_metadata(f) for f in fields):
        problems.append(
            f"users.fields needs at least one categorical string or numeric field in the {domain} domain"
        )
    return problems


def _describe(field: Any) -> str:
    return f"categorical {field.type}" if field.categorical else field.type
