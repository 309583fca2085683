"""What GetRecommendations adds to a ranked list: a promotion, each item's ``reason`` and ``metadata``.

A promotion (``promotions``, one at most) fills ``percentPromotedItems`` of the list (at least one item)
with the best items its filter admits, placed at random positions but in their own order among
themselves, each carrying ``promotionName``; the request's filter applies to them as well, and the rest of
the list is the usual ranking without them, as the guide's "Promoting items in real-time recommendations"
describes. ``reason`` is returned where the API documents it (User-Personalization-v2 and the use cases
built like it, Top picks for you and Recommended for you): "Promoted item", or "Popular item" for a user
with no interactions, whose list is popular placeholders. ``metadataColumns`` (``{"ITEMS": [...]}``)
returns those Items columns per item, keyed in lower case, only when the campaign or recommender config
has ``enableMetadataWithRecommendations``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from personalize_local.errors import InvalidInput
from personalize_local.limits import MAX_METADATA_COLUMNS
from personalize_local.models.filters import ItemRestriction

if TYPE_CHECKING:
    import pandas as pd

Ranker = Callable[[int, ItemRestriction], list[tuple[str, float]]]


def promote(
    ranked: Ranker,
    promotion: dict,
    *,
    num_results: int,
    restriction: ItemRestriction,
    promoted: ItemRestriction,
) -> list[dict]:
    """The list with ``promotion`` applied: ``promoted`` admits its items, ``restriction`` the others."""
    missing = [key for key in ("name", "percentPromotedItems", "filterArn") if not promotion.get(key)]
    if missing:
        raise InvalidInput(f"A promotion needs {', '.join(missing)}")
    count = max(1, num_results * int(promotion["percentPromotedItems"]) // 100)
    picked = ranked(count, promoted)
    others = num_results - len(picked)
    rest = (
        ranked(others, restriction.also(ItemRestriction(exclude=frozenset(i for i, _ in picked))))
        if others
        else []
    )
    entries = [{"itemId": item, "score": score} for item, score in rest]
    slots = sorted(random.sample(range(len(entries) + len(picked)), len(picked)))
    for slot, (item, score) in zip(slots, picked, strict=True):
        entries.insert(slot, {"itemId": item, "score": score, "promotionName": promotion["name"]})
    return entries


def add_reasons(entries: list[dict], *, cold_user: bool) -> None:
    for entry in entries:
        if "promotionName" in entry:
            entry["reason"] = ["Promoted item"]
        elif cold_user:
            entry["reason"] = ["Popular item"]


def metadata_columns(serving: Any, requested: dict[str, list[str]] | None) -> list[str]:
    """The Items columns a request asks for, refused unless the config enables metadata."""
    if not requested:
        return []
    if not serving.config.get("enableMetadataWithRecommendations"):
        raise InvalidInput(
            f"{serving.arn} returns no metadata: its config does not set enableMetadataWithRecommendations"
        )
    unknown = sorted(set(requested) - {"ITEMS"})
    if unknown:
        raise InvalidInput(f"metadataColumns takes the key ITEMS only, not {', '.join(unknown)}")
    columns = list(requested.get("ITEMS") or [])
    if len(columns) > MAX_METADATA_COLUMNS:
        raise InvalidInput(f"metadataColumns.ITEMS names at most {MAX_METADATA_COLUMNS} columns")
    return columns


def add_metadata(entries: list[dict], items: pd.DataFrame | None, columns: list[str]) -> None:
    """Each entry's ``metadata``: the Items row's ``columns`` (empty values left out)."""
    if items is None:
        raise InvalidInput("metadataColumns needs an Items dataset in the dataset group; it has none")
    by_name = {column.upper(): column for column in items.columns if column != "ITEM_ID"}
    missing = [column for column in columns if column.upper() not in by_name]
    if missing:
        raise InvalidInput(
            f"The Items dataset has no column {', '.join(missing)}; it has {', '.join(sorted(by_name))}"
        )
    rows = items.set_index(items["ITEM_ID"].astype(str))
    for entry in entries:
        if entry["itemId"] not in rows.index:
            continue
        row = rows.loc[entry["itemId"]]
        values = {column.lower(): row[by_name[column.upper()]] for column in columns}
        entry["metadata"] = {key: str(value) for key, value in values.items() if _present(value)}


def _present(value: Any) -> bool:
    return value is not None and value == value and value != ""
