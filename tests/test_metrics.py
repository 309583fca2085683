"""Ranking metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from personalize_metrics import (
    coverage,
    ndcg_at_k,
    personalize_metrics,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    reciprocal_rank_at_k,
)


def test_perfect_ranking_scores_one_everywhere():
    recommended = ["a", "b", "c"]
    relevant = {"a", "b", "c"}
    assert ndcg_at_k(recommended, relevant, 3) == pytest.approx(1.0)
    assert precision_at_k(recommended, relevant, 3) == 1.0
    assert recall_at_k(recommended, relevant, 3) == 1.0
    assert reciprocal_rank_at_k(recommended, relevant, 3) == 1.0


def test_single_hit_at_known_position():
    recommended = ["x", "y", "a", "z", "w"]
    relevant = {"a"}
    # hit at rank 3: DCG = 1/log2(4) = 0.5, ideal DCG = 1/log2(2) = 1
    assert ndcg_at_k(recommended, relevant, 5) == pytest.approx(0.5)
    assert precision_at_k(recommended, relevant, 5) == pytest.approx(0.2)
    assert recall_at_k(recommended, relevant, 5) == 1.0
    assert reciprocal_rank_at_k(recommended, relevant, 5) == pytest.approx(1 / 3)
    # the hit falls outside a cut-off of 2
    assert ndcg_at_k(recommended, relevant, 2) == 0.0
    assert reciprocal_rank_at_k(recommended, relevant, 2) == 0.0


def test_two_hits_against_ideal_with_more_relevants_than_k():
    recommended = ["a", "x", "b"]
    relevant = {"a", "b", "c", "d"}
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)  # only k=3 slots can hold hits
    assert ndcg_at_k(recommended, relevant, 3) == pytest.approx(dcg / ideal)
    assert recall_at_k(recommended, relevant, 3) == pytest.approx(0.5)


def test_k_larger_than_the_list_divides_precision_by_k():
    recommended = ["a", "b"]
    relevant = {"a", "b"}
    assert precision_at_k(recommended, relevant, 10) == pytest.approx(0.2)
    assert ndcg_at_k(recommended, relevant, 10) == pytest.approx(1.0)
    assert recall_at_k(recommended, relevant, 10) == 1.0


def test_empty_relevants_score_zero_and_are_left_out_of_averages():
    assert ndcg_at_k(["a"], set(), 5) == 0.0
    assert recall_at_k(["a"], set(), 5) == 0.0
    result = ranking_metrics(
        {"u1": ["a", "b"], "u2": ["c"]}, {"u1": {"a"}, "u2": set()}, catalog={"a", "b", "c"}, ks=(2,)
    )
    assert result["ndcg_at_2"] == pytest.approx(1.0)  # u2 has nothing to find: not averaged in
    assert result["users_evaluated"] == 1


def test_no_user_with_relevants_gives_zero_not_nan():
    result = ranking_metrics({"u1": ["a"]}, {"u1": set()}, catalog={"a"}, ks=(5,))
    assert result["ndcg_at_5"] == 0.0
    assert result["users_evaluated"] == 0


def test_user_without_recommendations_counts_as_a_miss():
    result = ranking_metrics({"u1": ["a"]}, {"u1": {"a"}, "u2": {"b"}}, catalog={"a", "b"}, ks=(1,))
    assert result["precision_at_1"] == pytest.approx(0.5)
    assert result["mrr_at_1"] == pytest.approx(0.5)


def test_coverage_counts_distinct_catalog_items_in_top_k():
    recs = [["a", "b", "c"], ["a", "d", "e"]]
    assert coverage(recs, catalog={"a", "b", "c", "d", "e", "f", "g", "h"}, k=2) == pytest.approx(3 / 8)
    assert coverage(recs, catalog={"a", "b"}, k=3) == 1.0  # items outside the catalog are not counted
    assert coverage(recs, catalog=set(), k=3) == 0.0


def test_personalize_names_match_the_plain_values():
    recs = {"u1": ["x", "a"] + [f"f{i}" for i in range(30)], "u2": ["b", "y"]}
    relevant = {"u1": {"a"}, "u2": {"b", "c"}}
    catalog = {"a", "b", "c", "x", "y"} | {f"f{i}" for i in range(30)}
    named = personalize_metrics(recs, relevant, catalog=catalog)
    plain = ranking_metrics(recs, relevant, catalog=catalog)
    assert set(named) == {
        "coverage",
        "mean_reciprocal_rank_at_25",
        "normalized_discounted_cumulative_gain_at_5",
        "normalized_discounted_cumulative_gain_at_10",
        "normalized_discounted_cumulative_gain_at_25",
        "precision_at_5",
        "precision_at_10",
        "precision_at_25",
    }
    assert named["mean_reciprocal_rank_at_25"] == pytest.approx((1 / 2 + 1) / 2)
    assert named["precision_at_5"] == pytest.approx((1 / 5 + 1 / 5) / 2)
    for k in (5, 10, 25):
        assert named[f"normalized_discounted_cumulative_gain_at_{k}"] == plain[f"ndcg_at_{k}"]
    u2_ndcg = 1.0 / (1 + 1 / math.log2(3))
    assert named["normalized_discounted_cumulative_gain_at_10"] == pytest.approx(
        (1 / math.log2(3) + u2_ndcg) / 2
    )
    assert named["coverage"] == pytest.approx((2 + 23 + 2) / len(catalog))


def test_invalid_k_is_rejected():
    with pytest.raises(ValueError, match="k must be >= 1"):
        precision_at_k(["a"], {"a"}, 0)
