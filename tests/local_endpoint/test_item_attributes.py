"""aws-item-attribute-affinity's query language, as the guide's "Specifying item attributes" writes it."""

from __future__ import annotations

import pandas as pd
import pytest

from personalize_local.models.item_attributes import Condition, QueryError, matching_items, parse

ITEMS = pd.DataFrame(
    {
        "ITEM_ID": ["1", "2", "3", "4"],
        "GENRES": ["Comedy|Action", "Comedy", 'Say "hi"', None],
        "YEAR": [1999, 2001, 1999, 1999],
    }
)


def test_conditions_joined_by_and_match_every_value_of_a_categorical_field():
    query = 'ITEMS.genres = "Comedy" and ITEMS.GENRES = "Action"'
    assert parse(query) == [Condition("genres", "Comedy"), Condition("GENRES", "Action")]
    assert matching_items(parse(query), ITEMS) == ["1"]
    assert matching_items(parse('ITEMS.GENRES = "Comedy" AND ITEMS.YEAR = 1999'), ITEMS) == ["1"]
    assert matching_items(parse(r'ITEMS.GENRES = "Say \"hi\""'), ITEMS) == ["3"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('ITEMS.GENRES IN ("Comedy")', "ITEMS.<FIELD> = <value>"),
        ('ITEMS.GENRES = "Comedy" OR ITEMS.YEAR = 1999', "only AND joins conditions"),
        ('USERS.AGE = "3"', "ITEMS.<FIELD> = <value>"),
    ],
)
def test_anything_else_says_how_to_write_it(query, message):
    with pytest.raises(QueryError, match=message):
        parse(query)


def test_a_field_the_items_lack_names_the_fields_they_have():
    with pytest.raises(QueryError, match=r"no field 'BRAND' \(it has GENRES, YEAR\)"):
        matching_items(parse('ITEMS.BRAND = "x"'), ITEMS)
    with pytest.raises(QueryError, match="no Items data"):
        matching_items(parse('ITEMS.BRAND = "x"'), None)
