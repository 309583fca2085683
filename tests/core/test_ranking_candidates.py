"""Each user's candidates for the ranked-items cache: the query's order kept, every left-out row counted."""

from __future__ import annotations

import json

import pytest

from personalize_pipelines.limits import MAX_RANKING_ITEMS
from personalize_pipelines.recommendation_cache import ranking_input
from personalize_pipelines.serving import ServingError, candidates_of


def test_a_user_keeps_the_first_500_in_the_querys_order_and_the_rest_are_counted():
    rows = [{"user_id": "u1", "item_id": f"i{n:04d}"} for n in range(MAX_RANKING_ITEMS + 20, 0, -1)]
    rows += [{"user_id": "u2", "item_id": "a"}, {"user_id": "u2", "item_id": "b"}]
    candidates = candidates_of(rows, sql_file="shop/ranking_candidates.sql")
    assert candidates.lists["u1"] == [f"i{n:04d}" for n in range(MAX_RANKING_ITEMS + 20, 20, -1)]
    assert candidates.lists["u2"] == ["a", "b"]
    assert candidates.counts() == {
        "candidate_rows": MAX_RANKING_ITEMS + 22,
        "users": 2,
        "candidates": MAX_RANKING_ITEMS + 2,
        "unusable_rows": 0,
        "duplicate_rows": 0,
        "over_limit_rows": 20,
        "users_over_limit": 1,
    }


def test_repeats_and_unusable_ids_are_counted_not_sent():
    rows = [
        {"user_id": " u1 ", "item_id": "a"},
        {"user_id": "u1", "item_id": "a"},
        {"user_id": "", "item_id": "b"},
        {"user_id": "u1", "item_id": None},
        {"user_id": "u1", "item_id": "x" * 257},
        {"user_id": "u1", "item_id": "c"},
    ]
    candidates = candidates_of(rows, sql_file="q.sql")
    assert candidates.lists == {"u1": ["a", "c"]}
    counts = candidates.counts()
    assert (counts["duplicate_rows"], counts["unusable_rows"], counts["over_limit_rows"]) == (1, 3, 0)


def test_a_query_without_item_id_names_its_file():
    with pytest.raises(
        ServingError, match=r"include/sql/shop/c\.sql must return columns user_id and item_id"
    ):
        candidates_of([{"user_id": "u1", "product": "a"}], sql_file="shop/c.sql")


def test_the_batch_input_is_one_line_per_user_with_its_list():
    lines = ranking_input({"u2": ["b", "a"], "u1": ["c"]}).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"userId": "u1", "itemList": ["c"]},
        {"userId": "u2", "itemList": ["b", "a"]},
    ]
