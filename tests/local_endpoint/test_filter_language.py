"""The filter expression language on its own: parsing errors and evaluation."""

from __future__ import annotations

import pandas as pd
import pytest

from personalize_local.errors import InvalidInput
from personalize_local.models.filters import parse, parse_filter_values, restrict

ITEMS = pd.DataFrame(
    {
        "ITEM_ID": ["i1", "i2", "i3", "i4"],
        "GENRE": ["Comedy|Drama", "Drama", "Action", None],
        "PRICE": [5.0, 15.0, 25.0, 1.0],
    }
)
HISTORY = {"click": {"i1"}, "purchase": {"i2"}}


def user_items(kinds):
    kinds = HISTORY.keys() if kinds is None else kinds
    return set().union(*(HISTORY.get(kind, set()) for kind in kinds))


def evaluate(expression: str, current_item: str | None = None, **values: str):
    return restrict(
        parse(expression),
        values=parse_filter_values(values),
        items=ITEMS,
        user_items=user_items,
        current_item=current_item,
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("INCLUDE everything", "expected ITEMID"),
        ("EXCLUDE ItemID WHERE Users.AGE > 3", "ItemID filters cannot read Users"),
        ('EXCLUDE UserID WHERE Items.GENRE IN ("a")', "UserID filters cannot read Items"),
        ('EXCLUDE ItemID WHERE Items.GENRE IN ("a"', r"expected '\)'"),
        ('EXCLUDE ItemID WHERE Items.GENRE IN ("a") AND Interactions.EVENT_TYPE IN ("b")', "cannot mix"),
        ('KEEP ItemID WHERE Items.GENRE IN ("a")', "expected INCLUDE or EXCLUDE"),
    ],
)
def test_malformed_expressions_say_what_is_wrong(expression, message):
    with pytest.raises(InvalidInput, match=message):
        parse(expression)


def test_categorical_multi_values_match_any_part():
    assert evaluate('INCLUDE ItemID WHERE Items.GENRE IN ("Drama")').allowed == {"i1", "i2"}


def test_comparisons_and_or():
    assert evaluate("INCLUDE ItemID WHERE Items.PRICE < 10 OR Items.PRICE >= 25").allowed == {
        "i1",
        "i3",
        "i4",
    }
    assert evaluate('INCLUDE ItemID WHERE Items.PRICE > 2 AND Items.GENRE NOT IN ("Action")').allowed == {
        "i1",
        "i2",
    }


def test_chained_expressions_and_parameters():
    restriction = evaluate(
        "EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($KINDS) | INCLUDE ItemID WHERE Items.PRICE <= 15",
        KINDS='"purchase"',
    )
    assert restriction.exclude == {"i2"} and restriction.allowed == {"i1", "i2", "i4"}
    assert [item for item in ("i1", "i2", "i3", "i4") if restriction.admits(item)] == ["i1", "i4"]


def test_exclude_without_its_value_is_not_applied_but_include_needs_it():
    assert evaluate("EXCLUDE ItemID WHERE Items.GENRE IN ($G)").exclude == frozenset()
    with pytest.raises(InvalidInput, match="filterValues must give G"):
        evaluate("INCLUDE ItemID WHERE Items.GENRE IN ($G)")


def test_filter_values_must_be_quoted():
    with pytest.raises(InvalidInput, match="quoted"):
        parse_filter_values({"G": "Drama"})


def test_current_item_refers_to_the_item_a_related_request_is_about():
    expression = "INCLUDE ItemID WHERE Items.GENRE IN (CurrentItem.GENRE)"
    assert evaluate(expression, current_item="i2").allowed == {"i1", "i2"}  # Drama, incl. "Comedy|Drama"
    assert evaluate(expression, current_item="i1").allowed == {"i1", "i2"}  # Comedy or Drama
    assert evaluate(expression, current_item="i4").allowed == frozenset()  # no genre: nothing matches
    with pytest.raises(InvalidInput, match="give itemId"):
        evaluate(expression)
