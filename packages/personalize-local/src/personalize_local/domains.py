"""Domain dataset groups (ECOMMERCE, VIDEO_ON_DEMAND): what a domain schema must and may hold.

As the developer guide's "<domain> datasets and schemas" pages define them: every domain's Interactions
schema needs USER_ID, ITEM_ID, TIMESTAMP and EVENT_TYPE; each domain requires some Items fields and reserves
others with a fixed type; a domain Users schema needs at least one metadata field. Fields a domain does
not name are the team's own metadata and allowed. The pipeline keeps its own copy
(``personalize_pipelines.domains``): the two packages never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalize_local.errors import InvalidInput
from personalize_local.models.datasets import Field

NUMERIC_TYPES = frozenset({"int", "long", "float", "double"})


@dataclass(frozen=True)
class DomainField:
    name: str
    type: str
    categorical: bool = False


def _fields(*fields: DomainField) -> dict[str, DomainField]:
    return {f.name: f for f in fields}


_INTERACTIONS = _fields(
    DomainField("USER_ID", "string"),
    DomainField("ITEM_ID", "string"),
    DomainField("TIMESTAMP", "long"),
    DomainField("EVENT_TYPE", "string"),
)
# fmt: off
REQUIRED: dict[str, dict[str, dict[str, DomainField]]] = {
    "VIDEO_ON_DEMAND": {
        "Interactions": _INTERACTIONS,
        "Items": _fields(DomainField("ITEM_ID", "string"), DomainField("GENRES", "string", True),
                         DomainField("CREATION_TIMESTAMP", "long")),
        "Users": _fields(DomainField("USER_ID", "string")),
    },
    "ECOMMERCE": {
        "Interactions": _INTERACTIONS,
        "Items": _fields(DomainField("ITEM_ID", "string"), DomainField("PRICE", "float"),
                         DomainField("CATEGORY_L1", "string", True)),
        "Users": _fields(DomainField("USER_ID", "string")),
    },
}
RESERVED: dict[str, dict[str, dict[str, DomainField]]] = {
    "VIDEO_ON_DEMAND": {
        "Interactions": {},
        "Items": _fields(
            DomainField("PRICE", "float"), DomainField("DURATION", "float"),
            DomainField("GENRE_L2", "string", True), DomainField("GENRE_L3", "string", True),
            DomainField("AVERAGE_RATING", "float"), DomainField("PRODUCT_DESCRIPTION", "string"),
            DomainField("CONTENT_OWNER", "string", True), DomainField("CONTENT_CLASSIFICATION", "string", True),
        ),
        "Users": _fields(DomainField("SUBSCRIPTION_MODEL", "string", True)),
    },
    "ECOMMERCE": {
        "Interactions": {},
        "Items": _fields(
            DomainField("CATEGORY_L2", "string", True), DomainField("CATEGORY_L3", "string", True),
            DomainField("PRODUCT_DESCRIPTION", "string"), DomainField("CREATION_TIMESTAMP", "long"),
            DomainField("AGE_GROUP", "string", True), DomainField("ADULT", "string", True),
            DomainField("GENDER", "string", True),
        ),
        "Users": {},
    },
}
# fmt: on


def dataset_type_of(fields: list[Field]) -> str:
    """Which dataset a schema describes, from its id fields: both ids → Interactions, else Items or Users."""
    names = {f.name for f in fields}
    if {"USER_ID", "ITEM_ID"} <= names:
        return "Interactions"
    if "ITEM_ID" in names:
        return "Items"
    if "USER_ID" in names:
        return "Users"
    raise InvalidInput(
        "A domain schema needs USER_ID and ITEM_ID (Interactions), ITEM_ID (Items) or USER_ID (Users)"
    )


def domain_problems(domain: str, dataset_type: str, fields: list[Field]) -> list[str]:
    """What keeps ``fields`` from a ``dataset_type`` schema of ``domain``, one message per field."""
    declared = {f.name: f for f in fields}
    required = REQUIRED[domain][dataset_type]
    problems = [
        f"{dataset_type} schema must have {spec.name} ({_describe(spec)}): the {domain} domain requires it"
        for spec in required.values()
        if spec.name not in declared
    ]
    typed = {**RESERVED[domain][dataset_type], **required}
    for name, field in declared.items():
        spec = typed.get(name)
        if spec is None:
            continue
        if name in required and field.nullable:
            problems.append(
                f"{dataset_type} field {name} is required in the {domain} domain: it cannot be null"
            )
        if field.type != spec.type or field.categorical != spec.categorical:
            problems.append(
                f"{dataset_type} field {name} must be {_describe(spec)} in the {domain} domain "
                f"(declared {_describe(field)})"
            )
    if dataset_type == "Users" and not any(
        f.type in NUMERIC_TYPES or (f.type == "string" and f.categorical) for f in fields
    ):
        problems.append(
            f"A {domain} Users schema needs at least one categorical string or numeric metadata field"
        )
    return problems


def check_domain_schema(domain: str, dataset_type: str, fields: list[Field]) -> None:
    problems = domain_problems(domain, dataset_type, fields)
    if problems:
        raise InvalidInput("; ".join(problems))


def _describe(field: DomainField | Field) -> str:
    return f"categorical {field.type}" if field.categorical else field.type
