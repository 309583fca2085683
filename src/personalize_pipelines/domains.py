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


# The recommender recipes of each domain ("<domain> use cases" in the developer guide) → what a request names:
# ``user`` (userId: the user's own picks), ``popular`` (userId optional: the same list for everyone, shaped
# by the user's history) or ``item`` (itemId: items like this one). Holdout users can score the first two.
RECIPES: dict[str, dict[str, str]] = {
    "VIDEO_ON_DEMAND": {
        "aws-vod-top-picks": "user",
        "aws-vod-because-you-watched-x": "item",
        "aws-vod-more-like-x": "item",
        "aws-vod-most-popular": "popular",
        "aws-vod-trending-now": "popular",
    },
    "ECOMMERCE": {
        "aws-ecomm-recommended-for-you": "user",
        "aws-ecomm-customers-who-viewed-x-also-viewed": "item",
        "aws-ecomm-frequently-bought-together": "item",
        "aws-ecomm-popular-items-by-purchases": "popular",
        "aws-ecomm-popular-items-by-views": "popular",
    },
}
USER_SCORED = frozenset({"user", "popular"})


def recipe_problem(domain: str | None, recipe: str) -> str | None:
    """Why ``recipe`` (a name) cannot be a recommender of the domain's dataset group, None when it can."""
    if domain is None:
        return f"recommender recipe {recipe!r} needs a domain dataset group (dataset_group.domain)"
    if recipe not in RECIPES[domain]:
        others = [d for d, recipes in RECIPES.items() if recipe in recipes]
        where = f" (it is an {others[0]} recipe)" if others else ""
        return (
            f"{recipe!r} is not a {domain} recipe{where}; the {domain} recipes: {', '.join(RECIPES[domain])}"
        )
    return None


def scored_by_user(domain: str, recipe: str) -> bool:
    """Whether the recipe answers a request naming a user only, so holdout users can score it."""
    return RECIPES[domain][recipe] in USER_SCORED


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
