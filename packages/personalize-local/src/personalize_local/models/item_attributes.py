"""The item-attribute queries of aws-item-attribute-affinity's batch segment input.

As the developer guide defines them ("Specifying item attributes"): ``ITEMS.<FIELD> = <value>`` conditions
joined by ``AND``, the value a double-quoted string (``\\`` escapes a quote or any other character) or a
number. Only ``=`` compares; a categorical field holding several values (``Action|Comedy``) equals each of
them. Field names match the Items schema's case-insensitively (the guide writes ``ITEMS.genres`` for a
``GENRES`` field); values match exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

_CONDITION = re.compile(
    r'\s*ITEMS\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"(?P<text>(?:[^"\\]|\\.)*)"|(?P<number>-?\d+(?:\.\d+)?))\s*',
    re.IGNORECASE,
)
_AND = re.compile(r"AND\b", re.IGNORECASE)


class QueryError(ValueError):
    """The query is not in the language, or names what the Items dataset lacks; the message says which."""


@dataclass(frozen=True)
class Condition:
    field: str
    value: str | float


def parse(query: str) -> list[Condition]:
    """``ITEMS.GENRES = "Comedy" AND ITEMS.YEAR = 1999`` → its conditions."""
    conditions, position = [], 0
    while True:
        match = _CONDITION.match(query, position)
        if match is None:
            raise QueryError(
                f"cannot read an ITEMS.<FIELD> = <value> condition at {query[position : position + 30]!r}; "
                'write e.g. ITEMS.GENRES = "Comedy", joining conditions with AND'
            )
        text, number = match.group("text"), match.group("number")
        value = re.sub(r"\\(.)", r"\1", text) if text is not None else float(number)
        conditions.append(Condition(match.group("field"), value))
        position = match.end()
        if position == len(query):
            return conditions
        joiner = _AND.match(query, position)
        if joiner is None:
            raise QueryError(
                f"expected AND at {query[position : position + 30]!r}; only AND joins conditions"
            )
        position = joiner.end()


def matching_items(conditions: list[Condition], items: pd.DataFrame | None) -> list[str]:
    """The ITEM_IDs of ``items`` that meet every condition."""
    import pandas as pd

    if items is None:
        raise QueryError("the dataset group has no Items data to match item attributes against")
    columns = {column.upper(): column for column in items.columns}
    mask = pd.Series(True, index=items.index)
    for condition in conditions:
        column = columns.get(condition.field.upper())
        if column is None or column.upper() == "ITEM_ID":
            raise QueryError(
                f"the Items dataset has no field {condition.field!r} (it has "
                + ", ".join(c for c in items.columns if c.upper() != "ITEM_ID")
                + ")"
            )
        values = items[column]
        if isinstance(condition.value, float):
            mask &= pd.to_numeric(values, errors="coerce") == condition.value
        else:
            parts = values.astype("string").fillna("").str.split("|")
            mask &= parts.map(lambda found, wanted=condition.value: wanted in found).astype(bool)
    return items.loc[mask.to_numpy(), "ITEM_ID"].astype(str).tolist()
